/**
 * Sums self time per function in a V8 .cpuprofile (from `node --cpu-prof`)
 * and prints the top entries, plus inclusive ("total") time for the same
 * functions and a per-file summary.
 *
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/run.ts --filter program
 *   node --import tsx bench/profile-top.ts /tmp/prof/CPU.*.cpuprofile [--top 40] [--match src/]
 */
import fs from 'node:fs';
import path from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const files = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !all[i - 1]?.startsWith('--'));
const topIdx = process.argv.indexOf('--top');
const top = topIdx >= 0 ? Number(process.argv[topIdx + 1]) : 40;
const matchIdx = process.argv.indexOf('--match');
const match = matchIdx >= 0 ? process.argv[matchIdx + 1]! : undefined;

const self = new Map<string, number>();
const total = new Map<string, number>();
const perFile = new Map<string, number>();
let all = 0;

function keyOf(cf: CallFrame): string {
  const file = cf.url ? path.relative(process.cwd(), cf.url.replace(/^file:\/\//, '')) : '';
  return `${cf.functionName || '(anonymous)'} ${file}${file ? ':' + (cf.lineNumber + 1) : ''}`;
}

for (const file of files) {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const sampleTime = new Map<number, number>();
  prof.samples.forEach((id, i) => sampleTime.set(id, (sampleTime.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)));
  for (const [id, us] of sampleTime) {
    const node = byId.get(id)!;
    // (idle) is mostly the tsx loader thread waiting: not part of the work
    if (node.callFrame.functionName === '(idle)') continue;
    const k = keyOf(node.callFrame);
    self.set(k, (self.get(k) ?? 0) + us);
    all += us;
    const f = node.callFrame.url ? path.relative(process.cwd(), node.callFrame.url.replace(/^file:\/\//, '')) : node.callFrame.functionName;
    perFile.set(f, (perFile.get(f) ?? 0) + us);
    // inclusive: every distinct function on the stack gets the sample once
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const ck = keyOf(byId.get(cur)!.callFrame);
      if (seen.has(ck)) continue;
      seen.add(ck);
      total.set(ck, (total.get(ck) ?? 0) + us);
    }
  }
}

const pct = (us: number) => `${((us / all) * 100).toFixed(1).padStart(5)}%`;
const ms = (us: number) => `${(us / 1000).toFixed(0).padStart(7)} ms`;
console.log(`total sampled (idle excluded): ${(all / 1000).toFixed(0)} ms\n`);
console.log('self time by function:');
const rows = [...self.entries()].filter(([k]) => !match || k.includes(match)).sort((a, b) => b[1] - a[1]).slice(0, top);
for (const [k, us] of rows) console.log(`${ms(us)} ${pct(us)}  (incl ${pct(total.get(k) ?? 0)})  ${k}`);
console.log('\nself time by area:');
const areas = new Map<string, number>();
for (const [f, us] of perFile) {
  const area = /(^|\/)src\/(exec|oracle)\//.test(f) ? 'src/exec + src/oracle (statement semantics, contract checks, notes)'
    : /(^|\/)src\/(machine|iommu|dma|util)\//.test(f) ? 'src/machine, iommu, dma, util (the model)'
    : /(^|\/)src\//.test(f) ? 'src/ other (policy, program)'
    : /garbage collector/.test(f) ? '(garbage collector)'
    : 'other (node internals, natives, bench harness)';
  areas.set(area, (areas.get(area) ?? 0) + us);
}
for (const [a, us] of [...areas.entries()].sort((x, y) => y[1] - x[1])) console.log(`${ms(us)} ${pct(us)}  ${a}`);
console.log('\nself time by file:');
for (const [f, us] of [...perFile.entries()].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`${ms(us)} ${pct(us)}  ${f}`);

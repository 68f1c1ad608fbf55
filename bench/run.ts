/**
 * `npm run bench`: the model's own throughput on this machine (one core),
 * measured side by side in one run. Not a test: it prints figures, and
 * PASS/SHORT against the targets of the performance issue.
 *
 *   node --import tsx bench/run.ts [--reps N] [--warmup MS] [--target MS] [--filter REGEX] [--json FILE]
 *
 * Each group's cases are measured together: warm-up, then repetitions taken
 * round-robin, so load from other processes hits them alike.
 *
 * Groups:
 *   layer     map+unmap pairs at the DmaLayer (direct, bounce, iommu-strict, iommu-lazy)
 *   executor  the same pairs as statements through runProgram (oracles on)
 *   coherent  alloc+free coherent pairs at the DmaLayer
 *   access    device accesses: Bus.translate + 64-byte read/write (IOTLB hit, miss, no IOMMU)
 *   reset     Machine.reset after a small program
 *   program   the 10,000-statement mixed program (bench/programs.ts) under every built-in policy
 */
import fs from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { applyMachineWords, DEFAULT_CONFIG } from '../src/machine/config.js';
import { Machine } from '../src/machine/machine.js';
import { ExtentKind } from '../src/machine/page-allocator.js';
import { DmaLayer, DMA_MAPPING_ERROR } from '../src/dma/mapping.js';
import { AccessStatus } from '../src/iommu/bus.js';
import { builtinPolicy, BUILTIN_POLICY_NAMES } from '../src/policy/registry.js';
import { runProgram } from '../src/exec/executor.js';
import { loadProgramText } from '../src/exec/load.js';
import type { MachineWord, Program } from '../src/program/ast.js';
import type { MapPath } from '../src/dma/outcome.js';
import { benchSuite, fmtRate, table, type BenchCase, type BenchOptions, type BenchResult } from './harness.js';
import { mapUnmapProgramText, mixedProgramText } from './programs.js';

// ---- options ---------------------------------------------------------------

function argValue(flag: string): string | undefined {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const opts: BenchOptions = {
  reps: Number(argValue('--reps') ?? 7),
  warmupMs: Number(argValue('--warmup') ?? 300),
  targetMs: Number(argValue('--target') ?? 150),
};
const filter = argValue('--filter') ? new RegExp(argValue('--filter')!) : undefined;
const jsonFile = argValue('--json');
const wanted = (group: string, name: string) => !filter || filter.test(`${group}/${name}`);

/** Keeps results alive so the JIT cannot drop the work. */
let sink: unknown;

// ---- set-up helpers -----------------------------------------------------------

function words(text: string): MachineWord[] {
  return text
    .split(/\s+/)
    .filter(Boolean)
    .map((w, i) => {
      const eq = w.indexOf('=');
      return { key: w.slice(0, eq), value: w.slice(eq + 1), column: i + 1 };
    });
}

function machine(text = ''): Machine {
  return new Machine(applyMachineWords(DEFAULT_CONFIG, words(text)));
}

function policy(name: string) {
  const p = builtinPolicy(name);
  if (!p) throw new Error(`no built-in policy '${name}'`);
  return p;
}

/** A machine, a layer over it and one 64-bit-wide device with the given masks. */
function layerSetup(machineWords: string, policyName: string, maskBits: number, coherentBits = maskBits) {
  const m = machine(machineWords);
  const layer = new DmaLayer(m, policy(policyName));
  const dev = layer.addDevice(64, false);
  if (layer.setMask(dev, maskBits, false) !== 0 || layer.setMask(dev, coherentBits, true) !== 0) throw new Error('setMask failed');
  return { m, layer, dev };
}

function fail(msg: string): never {
  throw new Error(`bench set-up: ${msg}`);
}

const results: BenchResult[] = [];
/** Measures one group's cases together (interleaved repetitions) and keeps the results. */
function measure(cases: BenchCase[], groupOpts: BenchOptions = opts): BenchResult[] {
  const rs = benchSuite(cases.filter((c) => wanted(c.group, c.name)), groupOpts);
  for (const r of rs) {
    results.push(r);
    process.stderr.write(`  ${r.group}/${r.name}: ${fmtRate(r.median)} ${r.unit}/s\n`);
  }
  return rs;
}

/** Warm-up for whole-program cases: the JIT needs some 20 runs of a program to settle. */
const PROGRAM_WARMUP_MS = Math.max(opts.warmupMs, 1500);

// ---- layer: map+unmap pairs -----------------------------------------------------------

const PAIR_CASES: ReadonlyArray<{ name: string; machine: string; policy: string; maskBits: number; zone: 'normal' | 'dma32'; path: MapPath }> = [
  { name: 'direct', machine: '', policy: 'direct', maskBits: 64, zone: 'normal', path: 'direct' },
  { name: 'bounce', machine: '', policy: 'direct', maskBits: 32, zone: 'normal', path: 'bounce' },
  { name: 'iommu-strict', machine: 'inval=strict', policy: 'iommu', maskBits: 64, zone: 'normal', path: 'iommu' },
  { name: 'iommu-lazy', machine: 'inval=lazy', policy: 'iommu', maskBits: 64, zone: 'normal', path: 'iommu' },
];
const PAIR_BYTES = 256;

function layerPairs(): void {
  const cases: BenchCase[] = [];
  for (const c of PAIR_CASES) {
    if (!wanted('layer', `map+unmap ${c.name}`)) continue;
    const { m, layer, dev } = layerSetup(c.machine, c.policy, c.maskBits);
    const phys = m.pages.alloc(PAIR_BYTES, c.zone, ExtentKind.Kmalloc);
    if (phys < 4 * 2 ** 30) fail(`${c.name}: buffer not above 4 GiB`);
    const h = layer.map(dev, phys, PAIR_BYTES, 'to_device');
    if (h === DMA_MAPPING_ERROR || layer.out.path !== c.path) fail(`${c.name}: map went ${layer.out.path}, expected ${c.path}`);
    layer.unmap(dev, h, PAIR_BYTES, 'to_device');
    if (layer.out.layerError) fail(`${c.name}: ${layer.out.layerError}`);
    cases.push({
      group: 'layer',
      name: `map+unmap ${c.name}`,
      unit: 'pairs',
      note: `${PAIR_BYTES} B to_device, ${c.maskBits}-bit mask`,
      run: (n) => {
        let last = 0n;
        for (let i = 0; i < n; i++) {
          const handle = layer.map(dev, phys, PAIR_BYTES, 'to_device');
          layer.unmap(dev, handle, PAIR_BYTES, 'to_device');
          last = handle;
        }
        sink = last;
        return n;
      },
    });
  }
  measure(cases);
}

// ---- executor: the same pairs as statements ---------------------------------------------

const EXEC_PAIRS = 1000;

function executorPairs(): void {
  const cases: BenchCase[] = [];
  for (const c of PAIR_CASES) {
    if (!wanted('executor', `map+unmap ${c.name}`)) continue;
    const lp = loadProgramText(mapUnmapProgramText(EXEC_PAIRS, { maskBits: c.maskBits, machine: c.machine, len: PAIR_BYTES }), 'bench-pairs');
    const m = new Machine(lp.config);
    const p = policy(c.policy);
    const probe = runProgram(lp.program, m, p, { trace: true });
    if (probe.verdict.verdict !== 'ok') fail(`executor ${c.name}: ${probe.verdict.kind} ${probe.verdict.message}`);
    if (!probe.trace.some((t) => t.path === c.path)) fail(`executor ${c.name}: no statement took path ${c.path}`);
    cases.push({
      group: 'executor',
      name: `map+unmap ${c.name}`,
      unit: 'pairs',
      note: '3 stmts/pair (map_single, mapping_error, unmap_single)',
      warmupMs: PROGRAM_WARMUP_MS,
      run: (n) => {
        for (let i = 0; i < n; i++) sink = runProgram(lp.program, m, p);
        return n * EXEC_PAIRS;
      },
    });
  }
  measure(cases);
}

// ---- coherent alloc+free ------------------------------------------------------------

function coherentPairs(): void {
  const cases: BenchCase[] = [];
  for (const c of [
    { name: 'direct', policy: 'direct', path: 'direct' },
    { name: 'iommu', policy: 'iommu', path: 'iommu' },
  ] as const) {
    if (!wanted('coherent', `alloc+free ${c.name}`)) continue;
    const { layer, dev } = layerSetup('', c.policy, 64);
    const size = 4096;
    const probe = layer.allocCoherent(dev, size);
    if (probe === undefined || layer.out.path !== c.path) fail(`coherent ${c.name}: alloc went ${layer.out.path}`);
    layer.freeCoherent(dev, probe, layer.lastPhys, size);
    if (layer.out.layerError) fail(`coherent ${c.name}: ${layer.out.layerError}`);
    cases.push({
      group: 'coherent',
      name: `alloc+free ${c.name}`,
      unit: 'pairs',
      note: '4 KiB, 64-bit masks',
      run: (n) => {
        for (let i = 0; i < n; i++) {
          const handle = layer.allocCoherent(dev, size)!;
          layer.freeCoherent(dev, handle, layer.lastPhys, size);
          sink = handle;
        }
        return n;
      },
    });
  }
  measure(cases);
}

// ---- device accesses ------------------------------------------------------------------

const ACCESS_PAGES = 128;

function deviceAccesses(): void {
  const cases: BenchCase[] = [];
  for (const c of [
    { name: 'iommu, IOTLB hit', policy: 'iommu', stride: 0 },
    { name: 'iommu, IOTLB miss', policy: 'iommu', stride: 4096 },
    { name: 'no IOMMU (direct)', policy: 'direct', stride: 0 },
  ]) {
    if (!wanted('access', c.name)) continue;
    const { m, layer, dev } = layerSetup('', c.policy, 64);
    const bytes = ACCESS_PAGES * 4096;
    const phys = m.pages.alloc(bytes, 'normal', ExtentKind.Kmalloc);
    const handle = layer.map(dev, phys, bytes, 'bidirectional');
    if (handle === DMA_MAPPING_ERROR) fail(`access ${c.name}: map failed`);
    // 128 pages walked in order: each of the 16 IOTLB sets sees 8 pages round-robin, 4 ways, LRU -> every access misses
    const addrs = Array.from({ length: ACCESS_PAGES }, (_, i) => handle + BigInt(i * c.stride + 128));
    const buf = new Uint8Array(64);
    const bus = m.bus;
    // probe: the expected hit/miss behaviour
    bus.translate(dev, 64, addrs[0]!, 64, false);
    bus.translate(dev, 64, addrs[1 % ACCESS_PAGES]!, 64, false);
    bus.translate(dev, 64, addrs[2 % ACCESS_PAGES]!, 64, false);
    const missed = bus.costNs > m.costs.deviceAccessNs;
    if (c.policy === 'iommu' && missed !== c.stride > 0) fail(`access ${c.name}: expected ${c.stride > 0 ? 'misses' : 'hits'}`);
    cases.push({
      group: 'access',
      name: c.name,
      unit: 'accesses',
      note: 'translate + 64 B, alternating write/read',
      run: (n) => {
        let k = 0;
        for (let i = 0; i < n; i++) {
          const write = (i & 1) === 0;
          const st = bus.translate(dev, 64, addrs[k]!, 64, write);
          if (st !== AccessStatus.Ok) throw new Error('access refused');
          if (write) bus.write(buf);
          else bus.read(buf);
          if (++k === ACCESS_PAGES) k = 0;
        }
        sink = buf[0];
        return n;
      },
    });
  }
  measure(cases);
}

// ---- resets -----------------------------------------------------------------------------

function resets(): void {
  const lp = loadProgramText(mixedProgramText({ statements: 60 }), 'bench-small');
  const cases: BenchCase[] = [];
  for (const name of ['iommu', 'direct']) {
    const label = `reset after 60-stmt program (${name})`;
    if (!wanted('reset', label)) continue;
    const m = new Machine(lp.config);
    const p = policy(name);
    const probe = runProgram(lp.program, m, p);
    if (probe.verdict.verdict !== 'ok') fail(`reset ${name}: small program ${probe.verdict.kind}`);
    cases.push({
      group: 'reset',
      name: label,
      unit: 'resets',
      note: 'only the reset is timed',
      batch: 200,
      run: (n) => {
        let ms = 0;
        for (let i = 0; i < n; i++) {
          runProgram(lp.program, m, p); // untimed: dirty the machine
          const t0 = performance.now();
          m.reset();
          ms += performance.now() - t0;
        }
        return { units: n, ms };
      },
    });
  }
  measure(cases);
}

// ---- the mixed program ------------------------------------------------------------------

const MUST_BE_OK = ['direct', 'iommu', 'commit-on-map'];
const STATEMENT_TARGET = 500_000;
const PAIR_TARGET = 500_000;

function mixedProgram(): BenchResult[] {
  const lp = loadProgramText(mixedProgramText(), 'bench');
  const program: Program = lp.program;
  const count = program.statements.length;
  const cases: BenchCase[] = [];
  const m = new Machine(lp.config);
  for (const name of BUILTIN_POLICY_NAMES) {
    if (!wanted('program', `${count} stmts, ${name}`)) continue;
    const p = policy(name);
    const probe = runProgram(program, m, p);
    const v = probe.verdict;
    const verdict = v.verdict === 'ok' ? 'ok' : `${v.kind} at line ${v.line} (statement ${probe.steps} of ${count})`;
    if (MUST_BE_OK.includes(name) && v.verdict !== 'ok') {
      process.stderr.write(`the mixed program must be ok under ${name}, got: ${verdict}\n${v.message}\n`);
      process.exitCode = 1;
    }
    cases.push({
      group: 'program',
      name: `${count} stmts, ${name}`,
      unit: 'stmts',
      note: `verdict ${verdict}`,
      warmupMs: PROGRAM_WARMUP_MS,
      run: (n) => {
        let steps = 0;
        for (let i = 0; i < n; i++) {
          const res = runProgram(program, m, p);
          steps += res.steps;
          sink = res;
        }
        return steps;
      },
    });
  }
  const p = policy('iommu');
  cases.push({
    group: 'program',
    name: `${count} stmts, iommu, trace on`,
    unit: 'stmts',
    note: 'as replay runs it (trace entries kept)',
    warmupMs: PROGRAM_WARMUP_MS,
    run: (n) => {
      let steps = 0;
      for (let i = 0; i < n; i++) steps += runProgram(program, m, p, { trace: true }).steps;
      return steps;
    },
  });
  // whole-program rates swing most with other load on the machine: twice the repetitions
  return measure(cases, { ...opts, reps: 2 * opts.reps + 1 }).filter((r) => !r.name.endsWith('trace on'));
}

// ---- main ---------------------------------------------------------------------------------

const started = performance.now();
const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');
const header = `dmafuzz bench: node ${process.version}, ${os.availableParallelism()} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), one thread; load average at start ${load()}`;
process.stderr.write(`${header}\nreps=${opts.reps} warmup=${opts.warmupMs}ms target=${opts.targetMs}ms per repetition\n`);
layerPairs();
executorPairs();
coherentPairs();
deviceAccesses();
resets();
const programs = mixedProgram();

console.log(header);
console.log('');
console.log(table(results));
console.log('');
const verdict = (x: number, target: number) => (x >= target ? 'PASS' : 'SHORT');
if (programs.length) {
  const worst = programs.reduce((a, b) => (b.median < a.median ? b : a));
  const each = programs.map((r) => `${r.name.replace(/^.*, /, '')} ${fmtRate(r.median)}`).join(', ');
  console.log(`target: mixed program >= ${fmtRate(STATEMENT_TARGET)} stmts/s, oracles on, every policy: ${verdict(worst.median, STATEMENT_TARGET)} (slowest ${worst.name.replace(/^.*, /, '')} ${fmtRate(worst.median)}; ${each})`);
}
const strict = results.find((r) => r.group === 'layer' && r.name === 'map+unmap iommu-strict');
if (strict) console.log(`target: iommu-strict map+unmap >= ${fmtRate(PAIR_TARGET)} pairs/s: ${verdict(strict.median, PAIR_TARGET)} (${fmtRate(strict.median)})`);
console.log(`(median of ${opts.reps} timed repetitions after warm-up, ${2 * opts.reps + 1} for the program group, taken round-robin within each group; spread = half the min-max range over the median; load average at end ${load()}; ${((performance.now() - started) / 1000).toFixed(0)} s in all)`);
if (jsonFile) {
  fs.writeFileSync(jsonFile, JSON.stringify({ header, date: new Date().toISOString(), opts, results }, null, 2) + '\n');
}

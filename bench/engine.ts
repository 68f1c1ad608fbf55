/**
 * Engine benchmarks (issues: the parallel engine; minimization), measured
 * side by side in one run on this machine:
 *
 * - programs/s and statements/s of `fuzz` at 1 and 2 workers (the same
 *   deterministic program sequence: --runs N --seed S), histograms on;
 * - the ceiling: a bare single-thread loop over the same kind of programs,
 *   generated before the clock starts, oracles on;
 * - what a TypeScript user would otherwise write: fast-check `fc.commands`
 *   + `fc.modelRun` over the same model and statement semantics;
 * - the histograms' cost: the bare loop with and without recording;
 * - minimization of the mask-games crash padded with 1,000 unrelated
 *   statements, beside fast-check's own shrinking of the same failure.
 *
 * Usage: node --import tsx bench/engine.ts [--runs N] (needs `npm run build`).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { Coordinator, DEFAULTS } from '../src/engine/coordinator.js';
import { programAt } from '../src/engine/program-source.js';
import { BUILTIN_POLICIES, builtinPolicy } from '../src/policy/registry.js';
import { Machine } from '../src/machine/machine.js';
import { DEFAULT_CONFIG } from '../src/machine/config.js';
import { runProgram } from '../src/exec/executor.js';
import { ExecContext } from '../src/exec/context.js';
import { DmaLayer } from '../src/dma/mapping.js';
import { OPS } from '../src/exec/ops/index.js';
import type { Statement, OpName, ArgValue, Direction } from '../src/program/ast.js';
import { HistogramRecorder, initHistograms } from '../src/report/histograms.js';
import { KeyCache, SAMPLE_EVERY } from '../src/engine/batch.js';
import { loadProgramText } from '../src/exec/load.js';
import { minimizeCrash } from '../src/engine/reproduce.js';
import { paddedMaskGames } from '../test/fixtures/padded-mask-games.js';
import { Crash } from '../src/oracle/verdict.js';

const args = process.argv.slice(2);
const RUNS = Number(args[args.indexOf('--runs') + 1] ?? 0) || 2048;
const policies = BUILTIN_POLICIES.map((p) => p.name);

function row(name: string, value: string, note = ''): void {
  console.log(`${name.padEnd(58)} ${value.padStart(14)}  ${note}`);
}

async function fuzzRate(workers: number): Promise<{ pps: number; sps: number; sigs: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmafuzz-bench-'));
  const c = new Coordinator({
    ...DEFAULTS,
    runs: RUNS,
    workers,
    seed: 1,
    policies,
    mode: 'all',
    machine: [],
    corpusDir: dir,
    known: new Set(),
    knownEntries: new Map(),
    seedCorpus: [],
    fileCorpus: [],
    // minimization is measured on its own below; here it would only add noise
    minimize: false,
  });
  const t0 = performance.now();
  const s = await c.run();
  const sec = (performance.now() - t0) / 1000;
  fs.rmSync(dir, { recursive: true, force: true });
  return { pps: s.programs / sec, sps: s.statements / sec, sigs: s.crashes.size };
}

/** The ceiling: the same kind of programs, generated before timing, run on one thread. */
async function bareLoop(count: number, histograms: boolean): Promise<{ pps: number; sps: number }> {
  await initHistograms();
  const progs = Array.from({ length: count }, (_, i) => programAt({ runSeed: 1, epoch: 0, batch: Math.floor(i / 32), index: i % 32 }, [], { mode: 'all', machine: [], maxIntents: DEFAULTS.maxIntents, longIntents: DEFAULTS.longIntents }).program);
  const m = new Machine(DEFAULT_CONFIG);
  const rec = new HistogramRecorder();
  // the same key cache and sampling the workers use
  const keyCaches = new Map(BUILTIN_POLICIES.map((p) => [p.name, new KeyCache(p.name)]));
  let statements = 0;
  const t0 = performance.now();
  for (const p of progs) {
    for (const pol of BUILTIN_POLICIES) {
      const keys = keyCaches.get(pol.name)!;
      const r = runProgram(p, m, pol, {
        sampleEvery: SAMPLE_EVERY,
        sampleOffset: (statements + pol.name.length) % SAMPLE_EVERY,
        onStatement: histograms
          ? (_op, path, cost, wall, code) => {
              if (path) keys.modelled(code, cost);
              keys.measured(code >> 2, wall);
            }
          : undefined,
      });
      statements += r.steps;
    }
  }
  const sec = (performance.now() - t0) / 1000;
  // shipping (drain + encode) happens every 2 s in a worker, not per 256 programs: outside the clock
  if (histograms) {
    for (const kc of keyCaches.values()) kc.drain(rec);
    rec.takeDeltas();
  }
  return { pps: count / sec, sps: statements / sec };
}

// ---- the fast-check harness: fc.commands over the same statements -------------------------

interface Model {
  bufs: string[];
  maps: Array<{ name: string; buf: string; dir: Direction; owner: 'device' | 'cpu' }>;
  n: number;
}

function stmt(op: OpName, args: Record<string, ArgValue | undefined>, bind?: string): Statement {
  return { op, bind, args, line: 0, column: 0 };
}

/** Runs one statement on the real machine through the executor's own semantics. */
function exec(ctx: ExecContext, s: Statement): void {
  ctx.begin(s);
  try {
    OPS[s.op](ctx, s);
  } catch (e) {
    if (!(e instanceof Crash)) throw e;
  }
}

class Real {
  ctx: ExecContext;
  statements = 0;
  constructor(
    readonly m: Machine,
    policy: string,
  ) {
    m.reset();
    this.ctx = new ExecContext(m, new DmaLayer(m, builtinPolicy(policy)!), false);
    exec(this.ctx, stmt('dev', { width: 64 }, 'd0'));
  }
  run(s: Statement): void {
    this.statements++;
    exec(this.ctx, s);
  }
}

const DIRS: Direction[] = ['to_device', 'from_device', 'bidirectional'];
type Cmd = fc.Command<Model, Real>;

class Kmalloc implements Cmd {
  constructor(readonly size: number) {}
  check = () => true;
  run(m: Model, r: Real) {
    const name = `b${m.n++}`;
    r.run(stmt('kmalloc', { size: this.size }, name));
    m.bufs.push(name);
  }
  toString = () => `kmalloc ${this.size}`;
}
class Map1 implements Cmd {
  constructor(
    readonly pick: number,
    readonly dir: number,
  ) {}
  check = (m: Readonly<Model>) => m.bufs.some((b) => !m.maps.some((x) => x.buf === b));
  run(m: Model, r: Real) {
    const free = m.bufs.filter((b) => !m.maps.some((x) => x.buf === b));
    const buf = free[this.pick % free.length]!;
    const name = `m${m.n++}`;
    r.run(stmt('map_single', { dev: 'd0', buf, off: 0, len: 64, dir: DIRS[this.dir]! }, name));
    r.run(stmt('mapping_error', { dev: 'd0', map: name }));
    m.maps.push({ name, buf, dir: DIRS[this.dir]!, owner: 'device' });
  }
  toString = () => `map`;
}
class DevAccess implements Cmd {
  constructor(
    readonly pick: number,
    readonly seed: number,
  ) {}
  check = (m: Readonly<Model>) => m.maps.some((x) => x.owner === 'device');
  run(m: Model, r: Real) {
    const live = m.maps.filter((x) => x.owner === 'device');
    const x = live[this.pick % live.length]!;
    const write = x.dir !== 'to_device';
    r.run(stmt(write ? 'dev_write' : 'dev_read', { dev: 'd0', handle: x.name, off: 0, len: 64, seed: write ? this.seed : undefined }));
  }
  toString = () => `dev`;
}
class Sync implements Cmd {
  constructor(readonly pick: number) {}
  check = (m: Readonly<Model>) => m.maps.length > 0;
  run(m: Model, r: Real) {
    const x = m.maps[this.pick % m.maps.length]!;
    const toCpu = x.owner === 'device';
    r.run(stmt(toCpu ? 'sync_for_cpu' : 'sync_for_device', { dev: 'd0', map: x.name }));
    x.owner = toCpu ? 'cpu' : 'device';
  }
  toString = () => `sync`;
}
class CpuAccess implements Cmd {
  constructor(
    readonly pick: number,
    readonly seed: number,
  ) {}
  check = (m: Readonly<Model>) => m.bufs.some((b) => !m.maps.some((x) => x.buf === b && x.owner === 'device'));
  run(m: Model, r: Real) {
    const ok = m.bufs.filter((b) => !m.maps.some((x) => x.buf === b && x.owner === 'device'));
    const b = ok[this.pick % ok.length]!;
    r.run(this.seed % 2 ? stmt('cpu_write', { buf: b, off: 0, len: 64, seed: this.seed }) : stmt('cpu_read', { buf: b, off: 0, len: 64 }));
  }
  toString = () => `cpu`;
}
class Unmap implements Cmd {
  constructor(readonly pick: number) {}
  check = (m: Readonly<Model>) => m.maps.length > 0;
  run(m: Model, r: Real) {
    const i = this.pick % m.maps.length;
    r.run(stmt('unmap_single', { dev: 'd0', map: m.maps[i]!.name }));
    m.maps.splice(i, 1);
  }
  toString = () => `unmap`;
}

const commandArb = fc.commands(
  [
    fc.constantFrom(64, 4096).map((s) => new Kmalloc(s)),
    fc.tuple(fc.nat(16), fc.nat(2)).map(([p, d]) => new Map1(p, d)),
    fc.tuple(fc.nat(16), fc.nat(1000)).map(([p, s]) => new DevAccess(p, s)),
    fc.nat(16).map((p) => new Sync(p)),
    fc.tuple(fc.nat(16), fc.nat(1000)).map(([p, s]) => new CpuAccess(p, s)),
    fc.nat(16).map((p) => new Unmap(p)),
  ],
  { size: 'max', maxCommands: 200 },
);

function fcHarness(runs: number): { sps: number; pps: number } {
  const m = new Machine(DEFAULT_CONFIG);
  let statements = 0;
  const t0 = performance.now();
  for (const pol of policies) {
    fc.assert(
      fc.property(commandArb, (cmds) => {
        const real = new Real(m, pol);
        fc.modelRun(() => ({ model: { bufs: [], maps: [], n: 0 }, real }), cmds);
        statements += real.statements + 1;
      }),
      { numRuns: Math.ceil(runs / policies.length), seed: 1 },
    );
  }
  const sec = (performance.now() - t0) / 1000;
  return { sps: statements / sec, pps: runs / sec };
}

// ---- minimization against fast-check's shrinking ----------------------------------------

/** fast-check's shrinking of a 1,000-statement list takes minutes; the bench stops it here. */
const FC_SHRINK_LIMIT_MS = 30_000;

function minimizeBench(): void {
  const lp = loadProgramText(paddedMaskGames(), 'padded');
  const policy = builtinPolicy('intel-2019')!;
  const reps = 5;
  const times: number[] = [];
  let result!: ReturnType<typeof minimizeCrash>;
  for (let i = 0; i < reps; i++) {
    result = minimizeCrash(lp.program, lp.config, policy);
    times.push(result.elapsedMs);
  }
  times.sort((a, b) => a - b);
  row(`minimize 1,000-statement padded mask games (${lp.program.statements.length} st.)`, `${times[2]!.toFixed(0)} ms`, `median of ${reps}; ${result.evaluations} predicate evaluations; ${result.originalStatements} -> ${result.program.statements.length} statements (target <= 1 s, <= 12)`);

  // fast-check's own shrinking of the same failure: the padded program as an fc.subarray whose
  // first value is the whole list; fast-check shrinks it (its seed/path replay) to what it can
  const machine = new Machine(lp.config);
  const subs = fc.subarray(lp.program.statements);
  const prop2 = fc.property(subs, (stmts) => {
    try {
      const v = runProgram({ ...lp.program, statements: stmts }, machine, policy).verdict;
      return v.signature !== 'intel-2019/iommu-fault/dev_write/direct>iommu*';
    } catch {
      return true;
    }
  });
  const t0 = performance.now();
  const out = fc.check(prop2, { numRuns: 1, seed: 1, examples: [[lp.program.statements]], interruptAfterTimeLimit: FC_SHRINK_LIMIT_MS });
  const t1 = performance.now();
  const fcProgram = out.counterexample?.[0] as Statement[] | undefined;
  row('fast-check shrinking of the same failure', `${(t1 - t0).toFixed(0)} ms`, `${out.numShrinks} shrinks; result ${fcProgram?.length ?? '-'} statements${out.interrupted ? ` (stopped at the ${FC_SHRINK_LIMIT_MS / 1000} s limit)` : ''} (fc.subarray of the padded program)`);
}

async function main(): Promise<void> {
  if (args.includes('--minimize-only')) return minimizeBench();
  console.log(`dmafuzz engine bench: node ${process.version}, ${os.cpus().length} cpus (${os.cpus()[0]?.model ?? '?'}), ${new Date().toISOString()}`);
  console.log(`fuzz --runs ${RUNS} --seed 1 --mode all, all six policies, histograms on, minimization off\n`);
  const one = await fuzzRate(1);
  const two = await fuzzRate(2);
  // the bare loops alternate, after a warm-up, and the medians count: single runs are too noisy here
  await bareLoop(128, true);
  const bares: Array<{ pps: number; sps: number }> = [];
  const bareHists: Array<{ pps: number; sps: number }> = [];
  for (let i = 0; i < 7; i++) {
    bares.push(await bareLoop(256, false));
    bareHists.push(await bareLoop(256, true));
  }
  const median = (xs: Array<{ pps: number; sps: number }>) => xs.sort((a, b) => a.sps - b.sps)[3]!;
  const bare = median(bares);
  const bareHist = median(bareHists);
  const fcRes = fcHarness(600);
  row('fuzz, 1 worker: programs/s (statements/s)', one.pps.toFixed(0), `(${(one.sps / 1000).toFixed(0)}k statements/s, ${one.sigs} signatures)`);
  row('fuzz, 2 workers: programs/s (statements/s)', two.pps.toFixed(0), `(${(two.sps / 1000).toFixed(0)}k statements/s, ${two.sigs} signatures)`);
  row('bare loop, 1 thread, pre-generated: programs/s (statements/s)', bare.pps.toFixed(0), `(${(bare.sps / 1000).toFixed(0)}k statements/s, median of 7)`);
  row('bare loop with histograms: programs/s', bareHist.pps.toFixed(0), `(${(bareHist.sps / 1000).toFixed(0)}k statements/s, median of 7)`);
  row('fc.commands + fc.modelRun harness: statements/s', `${(fcRes.sps / 1000).toFixed(0)}k`, '');
  const pass = (ok: boolean) => (ok ? 'PASS' : 'SHORT');
  const speedup = two.sps / one.sps;
  const vsBare = one.sps / bare.sps;
  const vsFc = one.sps / fcRes.sps;
  const histCost = 1 - bareHist.sps / bare.sps;
  console.log('');
  row('2 workers / 1 worker (statements/s)', speedup.toFixed(2) + 'x', `target >= 1.8x: ${pass(speedup >= 1.8)}`);
  row('1 worker / bare loop (statements/s)', (vsBare * 100).toFixed(0) + '%', `target >= 90%: ${pass(vsBare >= 0.9)}`);
  row('1 worker / fc.commands harness (statements/s)', vsFc.toFixed(1) + 'x', `target >= 3x: ${pass(vsFc >= 3)}`);
  row('histogram cost on the bare loop', (histCost * 100).toFixed(1) + '%', `target <= 5%: ${pass(histCost <= 0.05)}`);
  console.log('');
  minimizeBench();
}

await main();

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
 * Usage: npm run build && node dist/bench/engine.js [--runs N]. It runs
 * compiled, like the workers: under tsx every named closure pays a
 * `__name` call (esbuild's keepNames), which would tax both sides unevenly.
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
import { bareLoop, type BareLoopJob, type BareLoopResult } from './bare-loop.js';
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

interface FuzzRun {
  pps: number;
  sps: number;
  statements: number;
  sigs: number;
  /** the same programs, for the bare loop */
  job: (histograms: boolean) => BareLoopJob;
}

async function fuzzRate(workers: number): Promise<FuzzRun> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmafuzz-bench-'));
  const cfg = {
    ...DEFAULTS,
    runs: RUNS,
    workers,
    seed: 1,
    policies,
    mode: 'all' as const,
    machine: [],
    corpusDir: dir,
    known: new Set<string>(),
    knownEntries: new Map(),
    seedCorpus: [],
    fileCorpus: [],
    // minimization is measured on its own below; here it would only add noise
    minimize: false,
  };
  const c = new Coordinator(cfg);
  const t0 = performance.now();
  const s = await c.run();
  const sec = (performance.now() - t0) / 1000;
  fs.rmSync(dir, { recursive: true, force: true });
  const corpora = c.epochCorpusLengths.map((_, e) => [...c.corpusOfEpoch(e)]);
  const job = (histograms: boolean): BareLoopJob => ({
    runs: RUNS,
    seed: cfg.seed,
    batchSize: cfg.batchSize,
    batchesPerEpoch: cfg.batchesPerEpoch,
    source: { mode: cfg.mode, machine: cfg.machine, maxIntents: cfg.maxIntents, longIntents: cfg.longIntents },
    stepBudget: cfg.stepBudget,
    corpora,
    histograms,
  });
  return { pps: s.programs / sec, sps: s.statements / sec, statements: s.statements, sigs: s.crashes.size, job };
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
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real) {
    const name = `b${m.n++}`;
    r.run(stmt('kmalloc', { size: this.size }, name));
    m.bufs.push(name);
  }
  toString(): string {
    return `kmalloc ${this.size}`;
  }
}
class Map1 implements Cmd {
  constructor(
    readonly pick: number,
    readonly dir: number,
  ) {}
  check(m: Readonly<Model>): boolean {
    return m.bufs.some((b) => !m.maps.some((x) => x.buf === b));
  }
  run(m: Model, r: Real) {
    const free = m.bufs.filter((b) => !m.maps.some((x) => x.buf === b));
    const buf = free[this.pick % free.length]!;
    const name = `m${m.n++}`;
    r.run(stmt('map_single', { dev: 'd0', buf, off: 0, len: 64, dir: DIRS[this.dir]! }, name));
    r.run(stmt('mapping_error', { dev: 'd0', map: name }));
    m.maps.push({ name, buf, dir: DIRS[this.dir]!, owner: 'device' });
  }
  toString(): string {
    return `map`;
  }
}
class DevAccess implements Cmd {
  constructor(
    readonly pick: number,
    readonly seed: number,
  ) {}
  check(m: Readonly<Model>): boolean {
    return m.maps.some((x) => x.owner === 'device');
  }
  run(m: Model, r: Real) {
    const live = m.maps.filter((x) => x.owner === 'device');
    const x = live[this.pick % live.length]!;
    const write = x.dir !== 'to_device';
    r.run(stmt(write ? 'dev_write' : 'dev_read', { dev: 'd0', handle: x.name, off: 0, len: 64, seed: write ? this.seed : undefined }));
  }
  toString(): string {
    return `dev`;
  }
}
class Sync implements Cmd {
  constructor(readonly pick: number) {}
  check(m: Readonly<Model>): boolean {
    return m.maps.length > 0;
  }
  run(m: Model, r: Real) {
    const x = m.maps[this.pick % m.maps.length]!;
    const toCpu = x.owner === 'device';
    r.run(stmt(toCpu ? 'sync_for_cpu' : 'sync_for_device', { dev: 'd0', map: x.name }));
    x.owner = toCpu ? 'cpu' : 'device';
  }
  toString(): string {
    return `sync`;
  }
}
class CpuAccess implements Cmd {
  constructor(
    readonly pick: number,
    readonly seed: number,
  ) {}
  check(m: Readonly<Model>): boolean {
    return m.bufs.some((b) => !m.maps.some((x) => x.buf === b && x.owner === 'device'));
  }
  run(m: Model, r: Real) {
    const ok = m.bufs.filter((b) => !m.maps.some((x) => x.buf === b && x.owner === 'device'));
    const b = ok[this.pick % ok.length]!;
    r.run(this.seed % 2 ? stmt('cpu_write', { buf: b, off: 0, len: 64, seed: this.seed }) : stmt('cpu_read', { buf: b, off: 0, len: 64 }));
  }
  toString(): string {
    return `cpu`;
  }
}
class Unmap implements Cmd {
  constructor(readonly pick: number) {}
  check(m: Readonly<Model>): boolean {
    return m.maps.length > 0;
  }
  run(m: Model, r: Real) {
    const i = this.pick % m.maps.length;
    r.run(stmt('unmap_single', { dev: 'd0', map: m.maps[i]!.name }));
    m.maps.splice(i, 1);
  }
  toString(): string {
    return `unmap`;
  }
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

/** Rounds of the fuzz and bare-loop measurements; each ratio is the median of its per-round ratios. */
const ROUNDS = 3;

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  if (args.includes('--minimize-only')) return minimizeBench();
  console.log(`dmafuzz engine bench: node ${process.version}, ${os.cpus().length} cpus (${os.cpus()[0]?.model ?? '?'}), ${new Date().toISOString()}`);
  console.log(`fuzz --runs ${RUNS} --seed 1 --mode all, all six policies, histograms on, minimization off; ${ROUNDS} rounds, medians\n`);
  const rounds: Array<{ one: FuzzRun; two: FuzzRun; bare: BareLoopResult; bareHist: BareLoopResult }> = [];
  for (let r = 0; r < ROUNDS; r++) {
    const one = await fuzzRate(1);
    const two = await fuzzRate(2);
    // each bare loop starts cold in its own thread, as a fuzz worker does; they alternate with the fuzz runs
    const bare = await bareLoop(one.job(false));
    const bareHist = await bareLoop(one.job(true));
    if (bare.statements !== one.statements || two.statements !== one.statements) throw new Error(`the runs executed different statement counts (${one.statements}, ${two.statements}, bare ${bare.statements}): not the same programs`);
    rounds.push({ one, two, bare, bareHist });
    console.log(`round ${r + 1}: 1 worker ${(one.sps / 1000).toFixed(0)}k, 2 workers ${(two.sps / 1000).toFixed(0)}k, bare ${(bare.sps / 1000).toFixed(0)}k, bare+histograms ${(bareHist.sps / 1000).toFixed(0)}k statements/s (${one.statements} statements, ${one.sigs} / ${two.sigs} signatures)`);
  }
  fcHarness(100); // warm-up
  const fcRuns = [fcHarness(600), fcHarness(600), fcHarness(600)];
  const fcSps = median(fcRuns.map((x) => x.sps));
  const one = median(rounds.map((x) => x.one.sps));
  const two = median(rounds.map((x) => x.two.sps));
  console.log('');
  row('fuzz, 1 worker: statements/s (programs/s)', `${(one / 1000).toFixed(0)}k`, `(${median(rounds.map((x) => x.one.pps)).toFixed(0)} programs/s, ${rounds[0]!.one.sigs} signatures)`);
  row('fuzz, 2 workers: statements/s (programs/s)', `${(two / 1000).toFixed(0)}k`, `(${median(rounds.map((x) => x.two.pps)).toFixed(0)} programs/s, ${rounds[0]!.two.sigs} signatures)`);
  row('bare loop over the same programs, 1 thread: statements/s', `${(median(rounds.map((x) => x.bare.sps)) / 1000).toFixed(0)}k`, 'pre-generated, oracles on');
  row('bare loop with histograms: statements/s', `${(median(rounds.map((x) => x.bareHist.sps)) / 1000).toFixed(0)}k`, '');
  row('fc.commands + fc.modelRun harness: statements/s', `${(fcSps / 1000).toFixed(0)}k`, 'median of 3 after a warm-up');
  const pass = (ok: boolean) => (ok ? 'PASS' : 'SHORT');
  const speedup = median(rounds.map((x) => x.two.sps / x.one.sps));
  const vsBare = median(rounds.map((x) => x.one.sps / x.bare.sps));
  const vsFc = one / fcSps;
  const histCost = median(rounds.map((x) => 1 - x.bareHist.sps / x.bare.sps));
  console.log('');
  row('2 workers / 1 worker (statements/s)', speedup.toFixed(2) + 'x', `target >= 1.8x: ${pass(speedup >= 1.8)}`);
  row('1 worker / bare loop (statements/s)', (vsBare * 100).toFixed(0) + '%', `target >= 90%: ${pass(vsBare >= 0.9)}`);
  row('1 worker / fc.commands harness (statements/s)', vsFc.toFixed(1) + 'x', `target >= 3x: ${pass(vsFc >= 3)}`);
  row('histogram cost on the bare loop', (histCost * 100).toFixed(1) + '%', `target <= 5%: ${pass(histCost <= 0.05)}`);
  console.log('');
  minimizeBench();
}

await main();

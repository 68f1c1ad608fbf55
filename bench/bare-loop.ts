/**
 * The engine bench's ceiling: the programs a fuzz run executed, rebuilt from
 * their coordinates and the corpus snapshots of their epochs before the
 * clock starts, then run on one thread with every oracle on (no coverage;
 * histograms only when asked, to measure what they cost). It runs in a fresh
 * worker thread, so that it starts as cold as a fuzz worker does: both pay
 * the JIT's warm-up, and the ratio between them is the engine's own cost.
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { programAt, type SourceOptions } from '../src/engine/program-source.js';
import { Machine } from '../src/machine/machine.js';
import { DEFAULT_CONFIG } from '../src/machine/config.js';
import { opIndexes, runProgram } from '../src/exec/executor.js';
import { BUILTIN_POLICIES } from '../src/policy/registry.js';
import { KeyCache, SAMPLE_EVERY } from '../src/engine/batch.js';
import { HistogramRecorder } from '../src/report/histogram-counts.js';
import type { Intent } from '../src/program/generate.js';
import type { Program } from '../src/program/ast.js';

const execFileP = promisify(execFile);

export interface BareLoopJob {
  runs: number;
  seed: number;
  batchSize: number;
  batchesPerEpoch: number;
  source: SourceOptions;
  stepBudget: number;
  /** the corpus snapshot of each epoch */
  corpora: (readonly (readonly Intent[])[])[];
  histograms: boolean;
  /** instead of one cold pass: the histograms' cost, in alternating warm repetitions over the first programs */
  histogramCost?: { programs: number; reps: number };
}

export interface BareLoopResult {
  pps: number;
  sps: number;
  /** statements/s after the first WARM_UP_MS of the loop (the JIT's warm-up left out) */
  warmSps: number;
  statements: number;
  /** with `histogramCost`: the median over repetitions of 1 - (rate with histograms / rate without) */
  histogramCost?: number;
  /** (wall-clock ms, statements so far) every 64 programs, from the loop's start to its end */
  timeline: TimePoint[];
}

/** A point of a progress timeline: wall-clock ms (Date.now's clock) and statements done by then. */
export interface TimePoint {
  at: number;
  statements: number;
}

/**
 * Statements/s of a timeline over [from, to] (wall-clock ms), reading the
 * statement count at both ends by linear interpolation between points.
 */
export function rateBetween(timeline: readonly TimePoint[], from: number, to: number): number {
  const at = (t: number): number => {
    if (t <= timeline[0]!.at) return timeline[0]!.statements;
    for (let i = 1; i < timeline.length; i++) {
      const a = timeline[i - 1]!;
      const b = timeline[i]!;
      if (t <= b.at) return a.statements + ((b.statements - a.statements) * (t - a.at)) / Math.max(b.at - a.at, 1e-9);
    }
    return timeline[timeline.length - 1]!.statements;
  };
  return to > from ? ((at(to) - at(from)) / (to - from)) * 1000 : NaN;
}

/** Runs the job in a new thread and resolves with its rate. */
export function bareLoop(job: BareLoopJob): Promise<BareLoopResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL(import.meta.url), { workerData: job });
    w.once('message', resolve);
    w.once('error', reject);
  });
}

function programsOf(job: BareLoopJob): Program[] {
  const out: Program[] = [];
  const perEpoch = job.batchSize * job.batchesPerEpoch;
  for (let n = 0; n < job.runs; n++) {
    const epoch = Math.floor(n / perEpoch);
    const within = n % perEpoch;
    const coords = { runSeed: job.seed, epoch, batch: Math.floor(within / job.batchSize), index: within % job.batchSize };
    out.push(programAt(coords, job.corpora[epoch] ?? [], job.source).program);
  }
  return out;
}

async function run(job: BareLoopJob): Promise<BareLoopResult> {
  const progs = programsOf(job);
  if (job.histogramCost) return histogramCost(progs, job, job.histogramCost);
  return timed(progs, job, job.histograms);
}

function histogramCost(all: readonly Program[], job: BareLoopJob, how: { programs: number; reps: number }): BareLoopResult {
  const progs = all.slice(0, how.programs);
  timed(progs, job, true);
  timed(progs, job, false);
  const costs: number[] = [];
  let last!: BareLoopResult;
  for (let i = 0; i < how.reps; i++) {
    // the order alternates too, so that neither side always runs right after the other
    const a = i % 2 === 0 ? timed(progs, job, false) : undefined;
    const h = timed(progs, job, true);
    const b = a ?? timed(progs, job, false);
    costs.push(1 - h.sps / b.sps);
    last = b;
  }
  costs.sort((x, y) => x - y);
  return { ...last, histogramCost: costs[Math.floor(costs.length / 2)]! };
}

function timed(progs: readonly Program[], job: BareLoopJob, histograms: boolean): BareLoopResult {
  const m = new Machine(DEFAULT_CONFIG);
  const rec = new HistogramRecorder();
  // the same key cache and sampling the workers use
  const keyCaches = BUILTIN_POLICIES.map((p) => new KeyCache(p.name));
  // statement codes, as a worker has them for coverage anyway: without them the executor would
  // compute them again for every sampled run, a cost the histograms do not have in a worker
  const ops = progs.map((p) => opIndexes(p.statements));
  let statements = 0;
  const t0 = performance.now();
  let warmT = -1;
  let warmStatements = 0;
  // wall-clock times, to line this loop up with a fuzz run going on at the same time
  const wall = () => performance.timeOrigin + performance.now();
  const timeline: TimePoint[] = [{ at: wall(), statements: 0 }];
  for (let i = 0; i < progs.length; i++) {
    const p = progs[i]!;
    if (i % 64 === 0 && i > 0) timeline.push({ at: wall(), statements });
    if (warmT < 0 && performance.now() - t0 >= WARM_UP_MS) {
      warmT = performance.now();
      warmStatements = statements;
    }
    for (let pi = 0; pi < BUILTIN_POLICIES.length; pi++) {
      const keys = keyCaches[pi]!;
      const r = runProgram(p, m, BUILTIN_POLICIES[pi]!, {
        stepBudget: job.stepBudget,
        opIndexes: ops[i],
        sampleEvery: SAMPLE_EVERY,
        sampleOffset: (i * 7 + pi) % SAMPLE_EVERY,
        onStatement: histograms ? keys.onStatement : undefined,
      });
      statements += r.steps;
    }
  }
  const t1 = performance.now();
  timeline.push({ at: wall(), statements });
  const sec = (t1 - t0) / 1000;
  // shipping (drain + encode) happens every few seconds in a worker, not per program: outside the clock
  if (histograms) {
    for (const kc of keyCaches) kc.drain(rec);
    rec.takeDeltas();
  }
  const warmSps = warmT < 0 ? NaN : ((statements - warmStatements) / (t1 - warmT)) * 1000;
  return { pps: progs.length / sec, sps: statements / sec, warmSps, statements, timeline };
}

/**
 * The first seconds of any run are the JIT's: V8 compiles the model's hot
 * functions on background threads, which on two cores compete with the
 * other worker. Rates "after warm-up" count from this point on, for the
 * fuzz runs and the bare loop alike; a nightly run spends almost all of
 * its time there.
 */
export const WARM_UP_MS = 5000;

/** Statements/s of a fuzz run after WARM_UP_MS, from its per-epoch timeline (t in s since the start). */
export function warmRate(timeline: ReadonlyArray<{ t: number; statements: number }>, endSec: number, statements: number): number {
  const from = timeline.find((e) => e.t * 1000 >= WARM_UP_MS);
  if (!from || endSec <= from.t) return NaN;
  return (statements - from.statements) / (endSec - from.t);
}

/**
 * Two bare loops in two processes side by side, each over the same job:
 * the sum of their rates is what this machine gives two independent
 * single-threaded jobs of exactly this work (no coordinator, no workers
 * sharing a process): the ceiling for two workers.
 */
export async function twoBareProcesses(job: BareLoopJob): Promise<{ sps: number; warmSps: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmafuzz-bare-'));
  const file = path.join(dir, 'job.json');
  fs.writeFileSync(file, JSON.stringify(job));
  try {
    const one = async () => JSON.parse((await execFileP(process.execPath, [fileURLToPath(import.meta.url), file], { maxBuffer: 1 << 20 })).stdout) as BareLoopResult;
    const [a, b] = await Promise.all([one(), one()]);
    return { sps: a.sps + b.sps, warmSps: a.warmSps + b.warmSps };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (!isMainThread && (workerData as BareLoopJob | undefined)?.corpora) {
  parentPort!.postMessage(await run(workerData as BareLoopJob));
} else if (isMainThread && process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2]) {
  // a process of its own (twoBareProcesses): the job from a file, the result on stdout
  process.stdout.write(JSON.stringify(await run(JSON.parse(fs.readFileSync(process.argv[2], 'utf8')) as BareLoopJob)));
}

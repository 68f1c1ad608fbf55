/**
 * The coordinator: spreads batches of programs over a piscina pool, merges
 * what comes back, and keeps the run's state (coverage corpus, crashes,
 * counts). Work is cut into epochs of fixed batches; every program is named
 * by its coordinates, and an epoch's coverage finds are merged in batch
 * order after all its batches are in, so the set of programs run, and the
 * set of crash signatures found, depend on the seed and the number of
 * programs only, not on the number of workers or their timing. Crashes are
 * written to the corpus the moment they arrive.
 */
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { SharedCoverage } from '../machine/coverage.js';
import type { MachineWord, Program } from '../program/ast.js';
import type { GenMode, Intent } from '../program/generate.js';
import type { BatchResult, FlushResult, FlushTask, FoundCrash, FuzzTask, MinimizeOutcome, MinimizeTask, WorkerSetup } from './protocol.js';
import { SharedCorpusReader, SharedCorpusWriter, type CorpusSnapshot } from './shared-corpus.js';
import { WATCH_BYTES, WATCH_FIELDS, WATCH_SLOTS, watchViews } from './protocol.js';
import { parseCorpusTexts, programAt } from './program-source.js';
import { printProgram } from '../program/print.js';
import { writeEntry } from './corpus-store.js';
import type { SecurityRecord } from '../oracle/verdict.js';
import { HistogramSet } from '../report/histograms.js';
import { precedes } from './report-order.js';
import { Slots } from '../util/slots.js';
import { UserError } from '../util/errors.js';
import type { CostTable } from '../machine/cost.js';

export interface FuzzConfig {
  seconds?: number;
  runs?: number;
  workers: number;
  seed: number;
  policies: string[];
  /** each policy spec's name, where they differ (a module path and the name it exports); crashes are named by it */
  policyNames?: Record<string, string>;
  mode: GenMode;
  machine: MachineWord[];
  corpusDir: string;
  /** signatures already in the corpus when the run started */
  known: Set<string>;
  /** single-signature corpus entries from before the run, replaceable by a smaller repro */
  knownEntries: Map<string, { file: string; statements: number; firstSeen?: string }>;
  /** minimize each new crash in a worker (and smaller repros of known ones) */
  minimize: boolean;
  /** how long the end of a run waits for minimizations still running */
  minimizeWaitMs: number;
  /** corpus programs to mutate from the start (intents of earlier finds are not kept in files) */
  seedCorpus: Intent[][];
  /** the corpus directory's programs (v1 text), for statement-level mutation */
  fileCorpus: string[];
  batchSize: number;
  batchesPerEpoch: number;
  maxIntents: number;
  longIntents: number;
  stepBudget: number;
  /** a task running longer than this is a hang: the worker is replaced */
  stuckMs: number;
  inject?: string;
  /** cost table for modelled latency */
  costs?: CostTable;
}

export interface CrashEntry {
  /** the canonical report so far (see `precedes`), its text filled in */
  crash: FoundCrash;
  file: string;
  isNew: boolean;
  firstSeenMs: number;
  firstSeen: string;
  /** statements in the stored program (shrinks when minimization finishes) */
  storedStatements: number;
  /** for a signature the corpus already had: its entry's length, which a minimized repro must beat to replace it */
  priorStatements?: number;
  minimized: boolean;
  minimizing: boolean;
  /** the stored (minimized) program text */
  text: string;
}

export interface RunState {
  startedMs: number;
  programs: number;
  runs: number;
  statements: number;
  coverageBits: number;
  corpusSize: number;
  crashes: Map<string, CrashEntry>;
  security: Record<string, SecurityRecord>;
  workersAlive: number;
  hangs: number;
  /** (elapsed s, programs, coverage bits) samples, one per epoch */
  timeline: Array<{ t: number; programs: number; statements: number; coverage: number; crashes: number }>;
  stopping: boolean;
  stopReason: string;
  /**
   * Corpus entries that could not be written (a directory in the way, a full disk): file: reason,
   * once each. The crash is still recorded, and its program goes into the summary (`repro`).
   */
  writeErrors: string[];
}

export const DEFAULTS = {
  batchSize: 32,
  batchesPerEpoch: 16,
  minimize: true,
  minimizeWaitMs: 30_000,
  maxIntents: 60,
  longIntents: 400,
  stepBudget: 200_000,
  stuckMs: 5000,
};

/** How long the end of a run waits for every worker's last histogram counts. */
const FLUSH_WAIT_MS = 15_000;

export function defaultWorkers(): number {
  return Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
}

/** The compiled worker entry (dist/workers/fuzz-worker.js), also when this module runs from source. */
export function workerFile(): string {
  const here = fileURLToPath(import.meta.url);
  const root = here.includes(`${path.sep}dist${path.sep}`) ? here.slice(0, here.lastIndexOf(`${path.sep}dist${path.sep}`)) : path.resolve(path.dirname(here), '..', '..');
  const file = path.join(root, 'dist', 'workers', 'fuzz-worker.js');
  if (!fs.existsSync(file)) throw new Error(`worker entry ${file} is missing: run 'npm run build' first`);
  return file;
}

export class Coordinator {
  readonly state: RunState;
  readonly histograms = new HistogramSet();
  private readonly coverage = new SharedCoverage();
  private readonly watch = new SharedArrayBuffer(WATCH_BYTES);
  /** fuzz tasks in flight, by task id */
  private readonly running = new Set<number>();
  /** tasks the watchdog found stuck: their worker was stopped */
  private readonly stuck = new Set<number>();
  /** the coverage corpus, in the log the workers read (the only copy) */
  private readonly sharedCorpus = new SharedCorpusWriter();
  /** decodes it here when a program must be rebuilt (a failed batch, the bench) */
  private readonly corpusReader = new SharedCorpusReader();
  /** how many corpus entries each epoch's programs could mutate (its snapshot), by epoch */
  readonly epochCorpusLengths: number[] = [];
  private pool!: Piscina;
  /**
   * Fuzz batches in the pool at once: two per worker (one running, one
   * waiting in its port). An epoch's other batches wait here, in coordinate
   * order, so that a stop (time, a signal) waits for these few only.
   */
  private slots!: Slots;
  /** the corpus directory's programs, parsed when a crash's program is first rebuilt */
  private files: Program[] | undefined;
  private nextTaskId = 1;
  private readonly listeners: Array<(e: CrashEntry) => void> = [];
  private readonly pending = new Set<Promise<void>>();
  /** set when the run ends: the minimizations still running die with the pool and are not run again */
  private poolClosing = false;

  constructor(readonly cfg: FuzzConfig) {
    for (const intents of cfg.seedCorpus) this.sharedCorpus.append(intents);
    this.state = {
      startedMs: Date.now(),
      programs: 0,
      runs: 0,
      statements: 0,
      coverageBits: 0,
      corpusSize: this.sharedCorpus.length,
      crashes: new Map(),
      security: {},
      workersAlive: 0,
      hangs: 0,
      timeline: [],
      stopping: false,
      stopReason: '',
      writeErrors: [],
    };
  }

  onCrash(fn: (e: CrashEntry) => void): void {
    this.listeners.push(fn);
  }

  /** Ask the run to stop once the batches already handed to workers are back (SIGINT, SIGTERM, time). */
  stop(reason: string): void {
    if (!this.state.stopping) {
      this.state.stopping = true;
      this.state.stopReason = reason;
    }
  }

  async run(): Promise<RunState> {
    const cfg = this.cfg;
    this.pool = new Piscina({
      filename: workerFile(),
      minThreads: cfg.workers,
      maxThreads: cfg.workers,
      idleTimeout: 60_000,
      // two tasks per worker: the next batch already waits in the worker's port when one ends, so
      // a worker never idles for the round trip to this thread (0.7 ms median, several ms while
      // this thread writes crashes). piscina runs a task that has an AbortSignal alone in its
      // worker, so fuzz tasks carry none: the watchdog stops a stuck thread itself, and a batch
      // queued behind it dies with it and is run again (runTask)
      concurrentTasksPerWorker: 2,
      // tasks go out in the order they were queued (coordinate order), not requeued at the tail
      stricterFIFO: true,
      workerData: { fileCorpus: cfg.fileCorpus } satisfies WorkerSetup,
    });
    this.slots = new Slots(2 * cfg.workers);
    this.state.workersAlive = this.pool.threads.length;
    this.state.startedMs = Date.now();
    const deadline = cfg.seconds !== undefined ? this.state.startedMs + cfg.seconds * 1000 : Infinity;
    const timer = cfg.seconds !== undefined ? setTimeout(() => this.stop('time'), Math.max(0, deadline - Date.now())) : undefined;
    const watchdog = setInterval(() => this.checkStuck(), Math.min(500, cfg.stuckMs / 2));
    try {
      // two epochs in flight: epoch e is launched (with the corpus as merged up to e-2) before
      // epoch e-1 is merged, so workers never idle at an epoch boundary, and the corpus each
      // epoch mutates from still depends on the seed and the program count alone
      let inflight: Promise<Array<BatchResult | undefined>> | undefined;
      for (let epoch = 0; !this.state.stopping; epoch++) {
        const programsLeft = cfg.runs !== undefined ? cfg.runs - epoch * cfg.batchSize * cfg.batchesPerEpoch : Infinity;
        if (programsLeft <= 0) break;
        const launched = this.launchEpoch(epoch, programsLeft);
        if (inflight) this.mergeEpoch(await inflight);
        inflight = launched;
        if (cfg.runs !== undefined && (epoch + 1) * cfg.batchSize * cfg.batchesPerEpoch >= cfg.runs) break;
      }
      if (inflight) this.mergeEpoch(await inflight);
      await this.drainMinimizations();
      await this.flushHistograms();
    } finally {
      if (timer) clearTimeout(timer);
      clearInterval(watchdog);
      this.state.workersAlive = this.pool.threads.length;
      this.poolClosing = true;
      await this.pool.destroy();
    }
    if (!this.state.stopReason) this.state.stopReason = cfg.runs !== undefined ? 'runs' : 'time';
    return this.state;
  }

  /** Starts an epoch's batches against the corpus as it is now. */
  private launchEpoch(epoch: number, programsLeft: number): Promise<Array<BatchResult | undefined>> {
    const cfg = this.cfg;
    const snapshot = this.sharedCorpus.snapshot();
    this.epochCorpusLengths[epoch] = snapshot.length;
    const tasks: Array<Promise<BatchResult | undefined>> = [];
    for (let batch = 0; batch < cfg.batchesPerEpoch; batch++) {
      const count = Math.min(cfg.batchSize, programsLeft - batch * cfg.batchSize);
      if (count <= 0) break;
      tasks.push(this.runTask(epoch, batch, count, snapshot));
    }
    return Promise.all(tasks);
  }

  /** Merges an epoch's coverage finds in batch order: the corpus grows the same way whatever the timing. */
  private mergeEpoch(results: ReadonlyArray<BatchResult | undefined>): void {
    for (const r of results) {
      if (!r) continue;
      for (const f of r.finds) {
        if (this.coverage.add(f.bits) > 0) this.sharedCorpus.appendPacked(f.intents);
      }
    }
    this.state.coverageBits = this.coverage.count();
    this.state.corpusSize = this.sharedCorpus.length;
    this.state.workersAlive = this.pool.threads.length;
    this.state.timeline.push({
      t: (Date.now() - this.state.startedMs) / 1000,
      programs: this.state.programs,
      statements: this.state.statements,
      coverage: this.state.coverageBits,
      crashes: this.state.crashes.size,
    });
  }

  /** The corpus snapshot epoch `epoch` mutated from: with the run's seed, enough to rebuild any of its programs. */
  corpusOfEpoch(epoch: number): readonly (readonly Intent[])[] {
    return this.corpusReader.entries({ ...this.sharedCorpus.snapshot(), length: this.epochCorpusLengths[epoch] ?? 0 });
  }

  private async runTask(epoch: number, batch: number, count: number, snapshot: CorpusSnapshot, attempt = 0): Promise<BatchResult | undefined> {
    const cfg = this.cfg;
    const task: FuzzTask = {
      kind: 'fuzz',
      taskId: this.nextTaskId++,
      runSeed: cfg.seed,
      epoch,
      batch,
      count,
      mode: cfg.mode,
      policies: cfg.policies,
      machine: cfg.machine,
      maxIntents: cfg.maxIntents,
      longIntents: cfg.longIntents,
      corpus: snapshot,
      coverage: this.coverage.buffer,
      watch: this.watch,
      stepBudget: cfg.stepBudget,
      histograms: true,
      costs: cfg.costs,
      inject: cfg.inject,
    };
    await this.slots.acquire();
    // a batch still waiting when the run stops is not run: a stopped run counts what ran
    if (this.state.stopping) {
      this.slots.release();
      return undefined;
    }
    this.running.add(task.taskId);
    try {
      const r = (await this.pool.run(task)) as BatchResult;
      this.absorb(r, task);
      return r;
    } catch (e) {
      // a batch that never started (no slot names it) was waiting behind one whose worker was
      // stopped or died: nothing of it ran, so it runs again, once
      const hung = this.stuck.delete(task.taskId);
      if (!hung && attempt === 0 && this.slotOf(task.taskId) < 0) return this.runTask(epoch, batch, count, snapshot, 1);
      this.recordWorkerFailure(task, hung ? 'hang' : 'model-panic', e);
      return undefined;
    } finally {
      this.running.delete(task.taskId);
      this.slots.release();
    }
  }

  /**
   * The watchdog: a fuzz task whose worker has been on one program for more
   * than stuckMs has its thread terminated (piscina replaces it, and fails the
   * thread's tasks: the stuck one becomes a hang, the one queued behind it runs again). A
   * task still waiting in the queue has no slot yet and is left alone.
   */
  private checkStuck(): void {
    const { fields, beats } = watchViews(this.watch);
    const now = Date.now();
    for (let slot = 0; slot < WATCH_SLOTS; slot++) {
      const taskId = fields[slot * WATCH_FIELDS]!;
      if (!taskId || !this.running.has(taskId) || this.stuck.has(taskId) || now - beats[slot]! <= this.cfg.stuckMs) continue;
      const thread = this.pool.threads.find((t) => t.threadId === fields[slot * WATCH_FIELDS + 4]);
      if (!thread) continue;
      this.stuck.add(taskId);
      void thread.terminate();
    }
  }

  /** The watch slot of the worker that started the task (it names the task from its first program on), or -1. */
  private slotOf(taskId: number): number {
    const { fields } = watchViews(this.watch);
    for (let slot = 0; slot < WATCH_SLOTS; slot++) if (fields[slot * WATCH_FIELDS] === taskId) return slot;
    return -1;
  }

  private absorb(r: BatchResult, task: FuzzTask): void {
    const s = this.state;
    s.programs += r.programs;
    s.runs += r.runs;
    s.statements += r.statements;
    // the status line shows it from the first batch on, not only from the first epoch's merge
    s.workersAlive = this.pool.threads.length;
    for (const [key, sec] of Object.entries(r.security)) {
      const t = (s.security[key] ??= { rogue: 0, contained: 0, escaped: 0 });
      t.rogue += sec.rogue;
      t.contained += sec.contained;
      t.escaped += sec.escaped;
    }
    for (const d of r.histograms) this.histograms.addDelta(d);
    for (const c of r.crashes) this.recordCrash(c, () => this.rebuild(task, c.coords.index, c.policy).text);
  }

  /**
   * A new signature goes to the corpus at once (atomically), as found, and a
   * worker then minimizes it. The program a signature's repro is made from is
   * its canonical report (`precedes`): when a report that precedes the
   * current one arrives, the file is rewritten with it, as found, and
   * minimized again. Whatever the worker count, every signature's file is
   * therefore made from the same program.
   */
  private recordCrash(c: FoundCrash, rebuild: () => string): void {
    const existing = this.state.crashes.get(c.signature);
    if (existing) {
      if (!precedes(c, existing.crash)) return;
      c.text ??= rebuild();
      existing.crash = c;
      if (existing.isNew) {
        this.storeAsFound(existing);
        this.minimizeCanonical(existing);
      }
      return;
    }
    // every entry keeps its program (the summary's repro); only the first report of a signature gets here
    const text = (c.text ??= rebuild());
    const before = this.cfg.knownEntries.get(c.signature);
    if (before) {
      // known from the corpus: the stored entry stands unless the end-of-run minimization beats it
      const entry = this.makeEntry(c, text, before.file, false);
      entry.storedStatements = before.statements;
      entry.priorStatements = before.statements;
      if (before.firstSeen) entry.firstSeen = before.firstSeen;
      this.state.crashes.set(c.signature, entry);
      return;
    }
    const isNew = !this.cfg.known.has(c.signature);
    if (!isNew) {
      // known from an entry that records several policies (the thread cases): nothing to write
      this.state.crashes.set(c.signature, this.makeEntry(c, text, '(already in the corpus)', false));
      return;
    }
    const entry = this.makeEntry(c, text, '', isNew);
    entry.firstSeen = new Date().toISOString();
    this.storeAsFound(entry);
    this.state.crashes.set(c.signature, entry);
    for (const fn of this.listeners) fn(entry);
    this.minimizeCanonical(entry);
  }

  /** Writes an entry's canonical report to the corpus as found. */
  private storeAsFound(entry: CrashEntry): void {
    const c = entry.crash;
    this.storeRepro(entry, c.text!, c.statements, c.statement, false);
  }

  /**
   * Writes an entry's file (atomically, replacing what was there) with a
   * repro of its canonical report: the report as found, or its minimized
   * program (`statement` is then the failing statement's number in it).
   */
  private storeRepro(entry: CrashEntry, text: string, statements: number, statement: number, minimized: boolean): void {
    const c = entry.crash;
    let file: string;
    try {
      file = writeEntry(this.cfg.corpusDir, {
        signature: c.signature,
        kind: c.kind,
        blame: c.blame,
        policy: c.policy,
        firstSeen: entry.firstSeen,
        originalStatements: c.statements,
        minimizedStatements: statements,
        text,
        statement,
        message: c.message,
        notReplayable: replayable(c) ? undefined : 'recorded by the worker watchdog; the program alone does not reproduce it',
      });
    } catch (e) {
      // a crash found is never dropped for a file that would not write: the run goes on, the entry keeps
      // its program for the summary, and the CLI names the file at the end
      if (!(e instanceof UserError)) throw e;
      const why = e.format();
      if (!this.state.writeErrors.includes(why)) this.state.writeErrors.push(why);
      file = entry.file || `(not written: ${e.message})`;
    }
    entry.file = file;
    entry.text = text;
    entry.storedStatements = statements;
    entry.minimized = minimized;
  }

  private makeEntry(c: FoundCrash, text: string, file: string, isNew: boolean): CrashEntry {
    return {
      crash: c,
      file,
      isNew,
      firstSeenMs: Date.now() - this.state.startedMs,
      firstSeen: new Date().toISOString(),
      storedStatements: c.statements,
      minimized: false,
      minimizing: false,
      text,
    };
  }

  /**
   * Minimizes the entry's canonical report in a worker while the others keep
   * fuzzing, and stores the result if it is smaller (and, for a signature the
   * corpus already had, smaller than the corpus's entry). A minimization whose
   * report was superseded while it ran is dropped, and the new canonical
   * report is minimized instead. One whose task the pool lost (its worker was
   * stopped because a batch beside it hung, or died) is run again, once: the
   * minimizer is deterministic, so the file ends as it would have without the
   * hang.
   */
  private minimizeCanonical(entry: CrashEntry, attempt = 0): void {
    const from = entry.crash;
    if (!this.cfg.minimize || entry.minimizing || from.kind === 'hang' || !replayable(from)) return;
    entry.minimizing = true;
    const task: MinimizeTask = { kind: 'minimize', text: from.text!, policy: from.policy, machine: this.cfg.machine, maxEvaluations: 4000, maxMs: 10_000 };
    let lost = false;
    const job = (this.pool.run(task) as Promise<MinimizeOutcome>)
      .then(
        (m) => {
          if (entry.crash !== from || m.signature !== from.signature || m.statements >= from.statements) return;
          if (entry.priorStatements !== undefined && m.statements >= entry.priorStatements) return;
          this.storeRepro(entry, m.text, m.statements, m.failingIndex + 1, true);
        },
        () => {
          lost = true;
        },
      )
      .catch(() => {
        // a minimization that fails or is cut off leaves the stored program as found
      })
      .finally(() => {
        entry.minimizing = false;
        this.pending.delete(job);
        if (entry.crash !== from && entry.isNew) this.minimizeCanonical(entry);
        else if (lost && attempt === 0 && !this.poolClosing) this.minimizeCanonical(entry, 1);
      });
    this.pending.add(job);
  }

  /**
   * At the end of a run, when every report is in: a signature the corpus
   * already had is minimized from its canonical report if that is shorter
   * than the corpus's entry (and replaces the entry if the result is smaller
   * still); then running minimizations get a bounded time to finish.
   */
  private async drainMinimizations(): Promise<void> {
    for (const entry of this.state.crashes.values()) {
      if (entry.priorStatements !== undefined && entry.crash.statements < entry.priorStatements) this.minimizeCanonical(entry);
    }
    const deadline = Date.now() + this.cfg.minimizeWaitMs;
    // a minimization that ends may start the next one (its report was superseded): wait until none is left
    while (this.pending.size > 0 && Date.now() < deadline) {
      const timeout = new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now())).unref());
      await Promise.race([Promise.all([...this.pending]), timeout]);
    }
  }

  /**
   * At the end of a run: every worker ships the histogram deltas it still
   * holds. Flush tasks go out, as many as there are threads not yet heard
   * from, until every thread has answered: an idle worker may take several
   * (its later answers are empty) while another finishes a minimization.
   */
  private async flushHistograms(): Promise<void> {
    const waiting = new Set(this.pool.threads.map((t) => t.threadId));
    const task: FlushTask = { kind: 'flush' };
    const deadline = Date.now() + FLUSH_WAIT_MS;
    while (waiting.size > 0 && Date.now() < deadline) {
      const results = await Promise.all(Array.from({ length: waiting.size }, () => (this.pool.run(task) as Promise<FlushResult>).catch(() => undefined)));
      for (const r of results) {
        if (!r) continue;
        waiting.delete(r.threadId);
        for (const d of r.histograms) this.histograms.addDelta(d);
      }
      if (waiting.size > 0) await new Promise((r) => setTimeout(r, 10));
    }
  }

  /**
   * A batch whose worker hung (stuck past its time) or died: piscina has
   * replaced the thread; the program it was on becomes a `hang` or
   * `model-panic` crash, rebuilt from its coordinates.
   */
  private recordWorkerFailure(task: FuzzTask, kind: 'hang' | 'model-panic', error: unknown): void {
    const { fields: watch } = watchViews(this.watch);
    let index = 0;
    let policyIndex = 0;
    const slot = this.slotOf(task.taskId);
    if (slot >= 0) {
      index = watch[slot * WATCH_FIELDS + 1]!;
      policyIndex = watch[slot * WATCH_FIELDS + 2]!;
      // the thread is gone: free its slot for the replacement
      Atomics.store(watch, slot * WATCH_FIELDS + 3, 0);
      watch[slot * WATCH_FIELDS] = 0;
    }
    if (kind === 'hang') this.state.hangs++;
    const spec = task.policies[policyIndex] ?? task.policies[0]!;
    // the signature carries the policy's name, as every other crash of it does (a module's path gave a
    // file name starting with '.'); the program keeps the spec, which replay needs
    const policy = this.cfg.policyNames?.[spec] ?? spec;
    const why = kind === 'hang' ? `the worker was stuck for more than ${this.cfg.stuckMs} ms on this program and was replaced` : `the worker died: ${error instanceof Error ? error.message : String(error)}`;
    const { text, statements } = this.rebuild(task, index, spec);
    this.recordCrash(
      {
        signature: `${policy}/${kind}/worker/${kind === 'hang' ? 'stuck' : 'died'}`,
        kind,
        blame: 'model',
        policy,
        statement: 1,
        message: why,
        text,
        statements,
        coords: { epoch: task.epoch, batch: task.batch, index },
      },
      () => text,
    );
  }

  /**
   * Program `index` of a batch, rebuilt from its coordinates (the epoch's
   * corpus snapshot, the corpus files) and printed with a machine line that
   * names the policy, so that replaying the file alone reproduces what the
   * worker saw.
   */
  private rebuild(task: FuzzTask, index: number, policy: string): { text: string; statements: number } {
    const src = programAt(
      { runSeed: task.runSeed, epoch: task.epoch, batch: task.batch, index },
      this.corpusOfEpoch(task.epoch),
      { mode: task.mode, machine: task.machine, maxIntents: task.maxIntents, longIntents: task.longIntents },
      (this.files ??= parseCorpusTexts(this.cfg.fileCorpus)),
    );
    const text = printProgram({ ...src.program, machine: [...task.machine.filter((w) => w.key !== 'policy'), { key: 'policy', value: policy, column: 0 }] });
    return { text, statements: src.program.statements.length };
  }
}

/** A crash the watchdog recorded (a stuck or dead worker) is not reproduced by its program alone. */
function replayable(c: FoundCrash): boolean {
  return !c.signature.includes('/worker/');
}

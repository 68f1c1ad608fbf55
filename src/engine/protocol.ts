/**
 * What the coordinator sends a worker and what comes back: seeds and
 * parameters out, compact results back (NOTES-deps: structured clone of many
 * objects is the bottleneck, seeds are nearly free).
 */
import type { MachineWord } from '../program/ast.js';
import type { GenMode, Intent } from '../program/generate.js';
import type { CorpusSnapshot } from './shared-corpus.js';
import type { Blame, SecurityRecord } from '../oracle/verdict.js';
import type { CountDelta } from '../report/histogram-counts.js';
import type { CostTable } from '../machine/cost.js';

export interface FuzzTask {
  kind: 'fuzz';
  taskId: number;
  runSeed: number;
  epoch: number;
  batch: number;
  /** programs in this batch; each runs under every policy */
  count: number;
  mode: GenMode;
  policies: string[];
  machine: MachineWord[];
  maxIntents: number;
  longIntents: number;
  /** the corpus snapshot of this epoch, for mutation (shared, not copied) */
  corpus: CorpusSnapshot;
  /** the shared coverage map (read here, written by the coordinator between epochs) */
  coverage: SharedArrayBuffer;
  /** progress slots: [taskId, index, policy] per worker slot, read when a task hangs */
  watch: SharedArrayBuffer;
  stepBudget: number;
  /** record latency histograms (off only to measure what they cost) */
  histograms: boolean;
  /** the cost table for modelled latency (defaults when absent) */
  costs?: CostTable;
  /** test hook: "hang:E.B.I" or "throw:E.B.I" makes that program hang or throw in the worker */
  inject?: string;
}

/** What every worker of a run gets once, as piscina's workerData, rather than with every task. */
export interface WorkerSetup {
  /** programs of the corpus directory (v1 text), mutated statement by statement in misuse/all modes */
  fileCorpus: string[];
}

export interface FoundCrash {
  signature: string;
  kind: string;
  blame: Blame;
  policy: string;
  /** 1-based statement number in the printed program (its line minus the header) */
  statement: number;
  message: string;
  /**
   * The program in the v1 text format, machine line included. Workers leave
   * it out: the coordinator rebuilds the program from `coords` when it needs
   * the text (a new signature, a smaller repro), so that the worker spends
   * no time printing programs the coordinator drops as already known.
   */
  text?: string;
  statements: number;
  coords: { epoch: number; batch: number; index: number };
}

/** A program that set coverage bits the shared map lacked, as typed arrays (cheap to send). */
export interface CoverageFind {
  index: number;
  /** its intents, packed by `packIntents` (shared-corpus.ts) */
  intents: Int32Array;
  /** the new bits, minus those an earlier find of the same batch already carries */
  bits: Int32Array;
}

export interface BatchResult {
  taskId: number;
  epoch: number;
  batch: number;
  programs: number;
  runs: number;
  statements: number;
  /** programs whose runs set bits missing from the shared map */
  finds: CoverageFind[];
  /** first crash of each signature in this batch */
  crashes: FoundCrash[];
  /** security record summed per "policy inval" key */
  security: Record<string, SecurityRecord>;
  /** histogram deltas recorded in this batch (modelled and measured ns) */
  histograms: CountDelta[];
  elapsedMs: number;
}

/**
 * Watch slots, one per worker thread: Int32 fields (task id, program index,
 * policy index, claimed flag, the thread's threadId) followed, after all slots, by one Float64
 * heartbeat per slot (Date.now() when the current program started). The
 * coordinator reads them to tell a stuck task from one waiting in the queue.
 */
export const WATCH_SLOTS = 64;
export const WATCH_FIELDS = 5;
export const WATCH_BYTES = WATCH_SLOTS * WATCH_FIELDS * 4 + WATCH_SLOTS * 8;

export function watchViews(buffer: SharedArrayBuffer): { fields: Int32Array; beats: Float64Array } {
  return { fields: new Int32Array(buffer, 0, WATCH_SLOTS * WATCH_FIELDS), beats: new Float64Array(buffer, WATCH_SLOTS * WATCH_FIELDS * 4, WATCH_SLOTS) };
}

/** Minimize one crashing program (v1 text, machine line naming its policy) keeping its signature. */
export interface MinimizeTask {
  kind: 'minimize';
  text: string;
  /** the policy spec to replay under (a built-in name or a module path) */
  policy: string;
  machine: MachineWord[];
  maxEvaluations: number;
  maxMs: number;
}

export interface MinimizeOutcome {
  /** the minimized program, v1 text */
  text: string;
  signature: string;
  statements: number;
  /** 0-based index of the failing statement in the minimized program */
  failingIndex: number;
  evaluations: number;
  elapsedMs: number;
}

/**
 * End of a run: a worker ships the histograms it still holds and says which
 * thread it is. The coordinator sends flush tasks until every thread of the
 * pool has answered (a worker may take several; its later answers are empty).
 */
export interface FlushTask {
  kind: 'flush';
}

export interface FlushResult {
  /** the worker's `threadId` */
  threadId: number;
  histograms: CountDelta[];
}

export type WorkerTask = FuzzTask | MinimizeTask | FlushTask;

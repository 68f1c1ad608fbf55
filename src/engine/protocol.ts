/**
 * What the coordinator sends a worker and what comes back: seeds and
 * parameters out, compact results back (NOTES-deps: structured clone of many
 * objects is the bottleneck, seeds are nearly free).
 */
import type { MachineWord } from '../program/ast.js';
import type { GenMode, Intent } from '../program/generate.js';
import type { Blame, SecurityRecord } from '../oracle/verdict.js';

export interface FuzzTask {
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
  /** the corpus snapshot of this epoch, for mutation */
  corpus: Intent[][];
  /** the shared coverage map (read here, written by the coordinator between epochs) */
  coverage: SharedArrayBuffer;
  /** progress slots: [taskId, index, policy] per worker slot, read when a task hangs */
  watch: SharedArrayBuffer;
  stepBudget: number;
  /** test hook: "hang:E.B.I" or "throw:E.B.I" makes that program hang or throw in the worker */
  inject?: string;
}

export interface FoundCrash {
  signature: string;
  kind: string;
  blame: Blame;
  policy: string;
  /** 1-based statement number in the printed program (its line minus the header) */
  statement: number;
  message: string;
  /** the program in the v1 text format, machine line included */
  text: string;
  statements: number;
  coords: { epoch: number; batch: number; index: number };
}

export interface CoverageFind {
  index: number;
  intents: Intent[];
  bits: number[];
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
  elapsedMs: number;
}

/** Watch slots: how many, and the Int32 fields of each. */
export const WATCH_SLOTS = 64;
export const WATCH_FIELDS = 4; // taskId, index, policy index, claimed flag

/**
 * Verdicts (SPEC section 6): how a run ended and whose fault it was. A crash
 * is raised as a `Crash` exception from inside the executor so that the run
 * stops at the first failing statement; the executor turns it into a Verdict.
 */

export type Blame = 'driver' | 'layer' | 'model';

export type CrashKind =
  | `api-misuse:${string}`
  | 'dma-after-unmap'
  | 'cpu-owns-violation'
  | 'iommu-fault'
  | 'memory-corruption'
  | 'stale-data'
  | 'layer-error'
  | 'model-panic'
  | 'hang';

export interface SecurityRecord {
  /** device accesses outside any live mapping (raw accesses and accesses after unmap) */
  rogue: number;
  /** of those, how many touched no memory (IOMMU fault, or no memory there) */
  contained: number;
  /** and how many reached memory */
  escaped: number;
}

export interface Verdict {
  verdict: 'ok' | 'crash';
  kind?: CrashKind;
  blame?: Blame;
  /** 0-based index of the failing statement in program.statements */
  statementIndex?: number;
  /** 1-based line in the file (0 for generated programs) */
  line?: number;
  /** the kernel's own wording first, then one plain sentence */
  message?: string;
  signature?: string;
  security: SecurityRecord;
}

/** Thrown by statement semantics to end the run with a crash. */
export class Crash extends Error {
  override name = 'Crash';
  constructor(
    readonly kind: CrashKind,
    readonly blame: Blame,
    message: string,
    /** path history of the handle involved, for the signature ("direct>iommu*") */
    readonly pathHistory: string = '-',
  ) {
    // no stack trace: a crash is the model's verdict, not a bug of ours, and capturing one was 1.5%
    // of a fuzz worker's time (programs end in crashes often) and ~5% of a minimization's
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
  }
}

/** The default blame of each kind (some are re-blamed, e.g. a device that lied about its width). */
export function defaultBlame(kind: CrashKind): Blame {
  if (kind.startsWith('api-misuse:') || kind === 'dma-after-unmap' || kind === 'cpu-owns-violation') return 'driver';
  if (kind === 'model-panic' || kind === 'hang') return 'model';
  return 'layer';
}

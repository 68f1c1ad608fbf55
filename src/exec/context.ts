/**
 * Everything one run of a program needs: the machine, the mapping layer
 * under one policy, the contract model's bindings, the security record and
 * the per-statement outcome (path, modelled cost, trace note). Statement
 * semantics (src/exec/ops) read and change it; the executor owns the loop.
 */
import type { Machine } from '../machine/machine.js';
import type { DmaLayer } from '../dma/mapping.js';
import type { Statement, SegmentRef } from '../program/ast.js';
import { BufferState, HandleState } from '../oracle/contract.js';
import { Crash, defaultBlame, type Blame, type CrashKind, type SecurityRecord } from '../oracle/verdict.js';
import { ModelPanic } from '../util/assert.js';
import { bytePoolOf, type BytePool } from './byte-pool.js';
import { Ev, mark } from '../machine/events.js';

export class ExecContext {
  readonly devices = new Map<string, number>();
  readonly deviceNames: string[] = [];
  readonly buffers = new Map<string, BufferState>();
  readonly handles = new Map<string, HandleState>();
  /** every streaming mapping not yet unmapped */
  readonly liveStreams = new Set<HandleState>();
  readonly security: SecurityRecord = { rogue: 0, contained: 0, escaped: 0 };

  // ---- per statement, reset by the executor
  stmt!: Statement;
  /** path label for the trace and the histograms: direct, bounce, iommu, or '' */
  path = '';
  costNs = 0;
  /** what the statement returned or did, for the trace (built only when tracing: it costs) */
  note = '';
  /** the statement was skipped (the driver's error path after a failed map or allocation) */
  skipped = false;
  /** the handle whose history goes into a crash signature */
  subject: HandleState | undefined = undefined;

  /** where the contract's buffer copies come from; the previous run's are released here */
  readonly bytes: BytePool;

  constructor(
    readonly m: Machine,
    readonly layer: DmaLayer,
    /** build trace notes (replay); off when fuzzing */
    readonly tracing = true,
  ) {
    this.bytes = bytePoolOf(m);
    this.bytes.releaseAll();
  }

  /** Per-statement state starts over. */
  begin(s: Statement): void {
    this.stmt = s;
    this.path = '';
    this.costNs = 0;
    this.note = '';
    this.skipped = false;
    this.subject = undefined;
  }

  get line(): number {
    return this.stmt.line;
  }

  private readonly debugNames: string[] = [];
  /** How dma-debug names a device in its reports (asked at every unmap and sync: built once per device). */
  debugName(dev: number): string {
    return (this.debugNames[dev] ??= `DMA-API: dmafuzz ${this.deviceNames[dev]}`);
  }

  // ---- name resolution (the validator already checked names and kinds)

  device(name: unknown): number {
    const d = this.devices.get(name as string);
    if (d === undefined) throw new ModelPanic(`unresolved device '${String(name)}'`);
    return d;
  }

  buffer(name: unknown): BufferState {
    const b = this.buffers.get(name as string);
    if (!b) throw new ModelPanic(`unresolved buffer '${String(name)}'`);
    return b;
  }

  handle(name: unknown): HandleState {
    const h = this.handles.get(name as string);
    if (!h) throw new ModelPanic(`unresolved handle '${String(name)}'`);
    return h;
  }

  /** A handle argument: a name, or S[i] (segment i of an sg mapping). */
  handleRef(arg: unknown): { h: HandleState; seg: number } {
    if (typeof arg === 'object' && arg !== null && 'index' in arg) {
      const ref = arg as SegmentRef;
      return { h: this.handle(ref.name), seg: ref.index };
    }
    return { h: this.handle(arg), seg: 0 };
  }

  // ---- ending the run

  crash(kind: CrashKind, message: string, blame: Blame = defaultBlame(kind), subject = this.subject): never {
    throw new Crash(kind, blame, message, subject?.pathHistory() ?? '-');
  }

  /** api-misuse: the kernel's dma-debug text, then a plain sentence. */
  misuse(check: string, kernelText: string, plain: string, subject = this.subject): never {
    this.crash(`api-misuse:${check}`, `${kernelText}\n${plain} (driver bug)`, 'driver', subject);
  }

  /** Adds the layer's outcome of the call just made to this statement. */
  takeLayerOutcome(h?: HandleState): void {
    const out = this.layer.out;
    this.costNs += out.costNs;
    if (out.path !== 'none') {
      this.path = out.path;
      if (h) {
        const before = h.history.length;
        h.note(out.path);
        if (before > 0 && h.history.length > before) mark(this.m.v, Ev.PathSwitch);
      }
    }
    if (out.domainChange) this.note += `${this.note ? ' ' : ''}(${out.domainChange})`;
  }

  /** A DMA API call on a device whose driver was unbound. */
  requireBound(dev: number): void {
    if (!this.layer.isBound(dev)) {
      this.misuse('use-after-unbind', `${this.debugName(dev)}: DMA API call after the driver was unbound`, `${this.stmt.op} on ${this.deviceNames[dev]} after 'unbind'`);
    }
  }

  /**
   * A handle must be released through the same path (and the same IOMMU
   * domain) that created it; the layer cannot find it otherwise. This catches
   * the cases where Linux would not even WARN (e.g. dma-direct "unmapping" an
   * IOVA, leaving the IOMMU mapping alive).
   */
  checkSamePath(h: HandleState, what: string): void {
    const created = h.history[0];
    const now = this.layer.out.path;
    if (created === undefined || now === 'none') return;
    if (pathClass(created) !== pathClass(now)) {
      this.crash('layer-error', `${what} of ${h.name} went through ${pathClass(now)}, but ${h.name} was created through ${pathClass(created)} at line ${h.line}\nthe layer released a handle through a different path than the one that made it (layer bug)`, 'layer', h);
    }
    if (now === 'iommu' && this.layer.domainSerial(h.dev) !== h.createDomainSerial) {
      this.crash('layer-error', `${what} of ${h.name} went to IOMMU domain #${this.layer.domainSerial(h.dev)}, but ${h.name} was mapped in domain #${h.createDomainSerial}\nthe device changed domain while the handle was live (layer bug)`, 'layer', h);
    }
  }

  /** A layer error of the call just made ends the run, explained in one sentence. */
  checkLayerError(what: string, subject = this.subject): void {
    const err = this.layer.out.layerError;
    if (!err) return;
    const created = subject?.history[0];
    const now = this.layer.out.path;
    const plain =
      subject && created && now !== 'none' && pathClass(created) !== pathClass(now)
        ? `${what} of ${subject.name} was routed through ${pathClass(now)} by the masks now in force (${this.layer.maskBits(subject.dev)}-bit streaming, ${this.layer.coherentBits(subject.dev)}-bit coherent), but ${subject.name} came from ${pathClass(created)} at line ${subject.line}`
        : `${what}: the layer failed a legal call or could not find a handle it returned`;
    this.crash('layer-error', `${err}\n${plain} (layer bug)`, 'layer', subject);
  }
}

/** How a path is named in messages: the IOMMU, or dma-direct (bounce included). */
function pathClass(path: string): string {
  return path === 'iommu' ? 'the IOMMU' : 'dma-direct';
}

/**
 * Scratch bytes for one statement's data (a fill, a read-back): reused
 * rather than allocated per statement, and so is the view of each length
 * (a subarray per statement was a tenth of what a fuzz worker allocated).
 * Valid until the next call.
 */
let scratchBuf = new Uint8Array(4096);
const scratchViews = new Map<number, Uint8Array>();
/** distinct lengths whose views are kept (programs use a handful; a hostile one cannot grow the map without bound) */
const SCRATCH_VIEWS_MAX = 64;
export function scratch(len: number): Uint8Array {
  if (scratchBuf.length < len) {
    scratchBuf = new Uint8Array(Math.max(len, scratchBuf.length * 2));
    scratchViews.clear();
  }
  let v = scratchViews.get(len);
  if (v === undefined) {
    if (scratchViews.size >= SCRATCH_VIEWS_MAX) scratchViews.clear();
    scratchViews.set(len, (v = scratchBuf.subarray(0, len)));
  }
  return v;
}

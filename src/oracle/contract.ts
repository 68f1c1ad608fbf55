/**
 * The contract model: what the DMA API promises, kept beside the simulated
 * machine and compared with it after every statement (model-based testing,
 * with the DMA API contract as the model). It knows each buffer's expected
 * bytes as the CPU should see them, which bytes the contract leaves
 * undefined, and who owns each streaming mapping. It knows nothing about
 * paths, swiotlb or IOMMUs: those are the layer's business.
 */
import type { Direction } from '../program/ast.js';
import type { MapPath } from '../dma/outcome.js';
import type { Segment } from '../dma/iommu-dma.js';

/** A kmalloc buffer or a coherent buffer's CPU side. */
export class BufferState {
  /** null: every byte defined */
  defined: Uint8Array | null = null;
  freed = false;
  freedLine = 0;
  /** live streaming mappings of this buffer */
  readonly streams: HandleState[] = [];

  constructor(
    readonly name: string,
    readonly kind: 'kbuf' | 'coherent',
    readonly phys: number,
    readonly size: number,
    /** the bytes the contract says the CPU sees */
    readonly view: Uint8Array,
    readonly line: number,
  ) {}

  /** The contract stops promising these bytes (they are not compared). */
  markUndefined(lo: number, hi: number): void {
    if (hi <= lo) return;
    this.defined ??= new Uint8Array(this.size).fill(1);
    this.defined.fill(0, lo, hi);
  }

  /** New bytes with a defined value. */
  store(off: number, bytes: Uint8Array): void {
    this.view.set(bytes, off);
    if (this.defined) this.defined.fill(1, off, off + bytes.length);
  }

  /** Index (relative to off) of the first defined byte that differs, or -1. */
  firstMismatch(off: number, actual: Uint8Array): number {
    const view = this.view;
    const def = this.defined;
    for (let i = 0; i < actual.length; i++) {
      if (view[off + i] !== actual[i] && (def === null || def[off + i] === 1)) return i;
    }
    return -1;
  }
}

/** One stretch of a handle's bus range: which buffer bytes it stands for and where the device should land. */
export interface Part {
  buf: BufferState;
  bufOff: number;
  len: number;
  /** physical address the device must reach for bufOff (the buffer itself, or its bounce slot) */
  targetPhys: number;
}

/** What `partsIn` hands out: one list and its parts, reused (nothing keeps them past the statement). */
const clippedPool: Part[] = [];
const clippedLists: Part[][] = [];

export type HandleKind = 'coherent' | 'single' | 'sg';
export type Owner = 'device' | 'cpu';

/** A coherent allocation, a single/page mapping or an sg mapping, as the driver holds it. */
export class HandleState {
  failed = false;
  /** dma_mapping_error was called (or no check is needed: coherent, sg) */
  checked = false;
  released = false;
  releasedLine = 0;
  handle = 0n;
  /** single/coherent: one list of parts; sg: one list per returned segment */
  segParts: Part[][] = [];
  segs: Segment[] = [];
  /** bytes the CPU wrote into a from_device/bidirectional mapping while it owned it */
  cpuWrites: Array<{ buf: BufferState; lo: number; hi: number }> = [];
  /** bytes the device wrote since the mapping was last handed to the CPU */
  deviceWrites: Array<{ buf: BufferState; lo: number; hi: number }> = [];
  owner: Owner = 'device';
  /** per-byte owner when a range sync split the mapping: 1 = device */
  ownBytes: Uint8Array | null = null;
  /** path labels of the handle's life, for traces and signatures */
  readonly history: string[] = [];
  createDomainSerial = -1;
  createMaskBits = 0;

  constructor(
    readonly name: string,
    readonly kind: HandleKind,
    readonly dev: number,
    /** total bytes (single: len; sg: sum of entries; coherent: size) */
    readonly len: number,
    /** undefined for coherent memory (no direction, no ownership) */
    readonly dir: Direction | undefined,
    readonly line: number,
  ) {}

  /** Records a path for the handle's history (consecutive repeats collapse). */
  note(path: MapPath | string): void {
    if (this.history[this.history.length - 1] !== path) this.history.push(path);
  }

  pathHistory(): string {
    return this.history.length ? this.history.join('>') : '-';
  }

  /** Does the device own every byte of [off, off+len) of this mapping? */
  deviceOwns(off: number, len: number): boolean {
    if (this.dir === undefined) return true;
    if (!this.ownBytes) return this.owner === 'device';
    for (let i = off; i < off + len; i++) if (this.ownBytes[i] !== 1) return false;
    return true;
  }

  /** Does the CPU own every byte of [off, off+len)? */
  cpuOwns(off: number, len: number): boolean {
    if (this.dir === undefined) return true;
    if (!this.ownBytes) return this.owner === 'cpu';
    for (let i = off; i < off + len; i++) if (this.ownBytes[i] !== 0) return false;
    return true;
  }

  /** Hands [off, off+len) to the device or the CPU (sync); the whole mapping when it covers it. */
  handOver(to: Owner, off: number, len: number): void {
    if (off === 0 && len >= this.len) {
      this.owner = to;
      this.ownBytes = null;
      return;
    }
    if (!this.ownBytes) this.ownBytes = new Uint8Array(this.len).fill(this.owner === 'device' ? 1 : 0);
    this.ownBytes.fill(to === 'device' ? 1 : 0, off, off + len);
  }

  /**
   * The parts of this handle's segment `seg` covering [off, off+len),
   * clipped. The list and its parts are reused by the next call (one per
   * device access): read them, copy what must outlive the statement.
   */
  partsIn(seg: number, off: number, len: number): readonly Part[] {
    const parts = this.segParts[seg] ?? [];
    let n = 0;
    let pos = 0;
    for (const p of parts) {
      const lo = Math.max(off, pos);
      const hi = Math.min(off + len, pos + p.len);
      if (lo < hi) {
        const c = (clippedPool[n++] ??= { buf: p.buf, bufOff: 0, len: 0, targetPhys: 0 });
        c.buf = p.buf;
        c.bufOff = p.bufOff + (lo - pos);
        c.len = hi - lo;
        c.targetPhys = p.targetPhys + (lo - pos);
      }
      pos += p.len;
    }
    // one list per length, of the first n pooled parts (they are never replaced, only refilled);
    // a single list cut and regrown each time would be reallocated each time
    return (clippedLists[n] ??= clippedPool.slice(0, n));
  }

  segLen(seg: number): number {
    let n = 0;
    for (const p of this.segParts[seg] ?? []) n += p.len;
    return n;
  }

  /** Parts of the whole mapping (all segments), in buffer order. */
  allParts(): Part[] {
    // most handles have one segment: no copy for them (this runs on every CPU access)
    return this.segParts.length === 1 ? this.segParts[0]! : this.segParts.flat();
  }

  /** Does this streaming mapping cover buffer bytes [lo, hi)? Returns the overlap in mapping offsets. */
  overlapWith(buf: BufferState, lo: number, hi: number): { mapOff: number; len: number } | undefined {
    let pos = 0;
    for (const p of this.allParts()) {
      if (p.buf === buf) {
        const a = Math.max(lo, p.bufOff);
        const b = Math.min(hi, p.bufOff + p.len);
        if (a < b) return { mapOff: pos + (a - p.bufOff), len: b - a };
      }
      pos += p.len;
    }
    return undefined;
  }
}

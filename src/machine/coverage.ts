/**
 * Coverage of the model's interesting branches, AFL style: every event the
 * model marks (a policy decision, a path switch, a bounce, a full swiotlb
 * pool, an IOVA fallback, a page-table allocation, a lazy flush, a fault
 * reason, an oracle check) is paired with the event before it and hashed
 * into a bitmap. A run fills its own map; the engine compares it with the
 * map shared by all workers to decide whether a program found something new.
 */

/** Bits in a coverage map (a power of two). */
export const COVERAGE_BITS = 1 << 16;

/** Named events; statement outcomes are hashed from strings (see `hitName`). */
export enum Ev {
  DomainChange = 1,
  Bounce,
  BounceCopy,
  SwiotlbFull,
  IovaBelow4G,
  IovaFallbackAbove4G,
  IovaExhausted,
  PageTableAlloc,
  LazyQueue,
  LazyFlush,
  StrictInvalidate,
  Fault4,
  Fault5,
  Fault6,
  StaleIotlbHit,
  IotlbMiss,
  SgMerged,
  DirectFreeMismatch,
  IommuUnmatched,
  NoMemory,
}

export class Coverage {
  /** this run's map, one byte per bit for speed */
  readonly map = new Uint8Array(COVERAGE_BITS);
  private prev = 0;
  private readonly touched: number[] = [];

  hit(ev: number): void {
    const bit = ((this.prev * 0x9e3779b1) ^ (ev * 0x85ebca6b)) >>> 16;
    if (this.map[bit] === 0) {
      this.map[bit] = 1;
      this.touched.push(bit);
    }
    this.prev = ev;
  }

  /** An event named by a string (statement kind x path x outcome, oracle checks). */
  hitName(name: string): void {
    let h = 0x811c9dc5;
    for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
    this.hit(((h >>> 0) % 0xfffff) + 1000);
  }

  /** Bits this run set, in the order first set. */
  bits(): readonly number[] {
    return this.touched;
  }

  reset(): void {
    for (const b of this.touched) this.map[b] = 0;
    this.touched.length = 0;
    this.prev = 0;
  }
}

/** The map shared by all workers: one bit per entry, set with Atomics so concurrent merges never lose one. */
export class SharedCoverage {
  readonly words: Int32Array;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(COVERAGE_BITS / 8)) {
    this.words = new Int32Array(buffer);
  }

  has(bit: number): boolean {
    return (Atomics.load(this.words, bit >>> 5) & (1 << (bit & 31))) !== 0;
  }

  /** Which of these bits are not yet in the shared map. */
  newBits(bits: readonly number[]): number[] {
    return bits.filter((b) => !this.has(b));
  }

  /** Sets bits; returns how many were new. */
  add(bits: readonly number[]): number {
    let fresh = 0;
    for (const b of bits) {
      const mask = 1 << (b & 31);
      const old = Atomics.or(this.words, b >>> 5, mask);
      if ((old & mask) === 0) fresh++;
    }
    return fresh;
  }

  count(): number {
    let n = 0;
    for (let i = 0; i < this.words.length; i++) {
      let w = Atomics.load(this.words, i);
      while (w !== 0) {
        w &= w - 1;
        n++;
      }
    }
    return n;
  }
}

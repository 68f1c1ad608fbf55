/**
 * Coverage of the model's interesting branches, AFL style: every event (a
 * statement's kind x path x skipped, each model event of events.ts the
 * statement set, a crash kind) is paired with the event before it and
 * hashed into a bitmap. A run fills its own map; the engine compares it with
 * the map shared by all workers to decide whether a program found something
 * new.
 */

/** Bits in a coverage map (a power of two). */
export const COVERAGE_BITS = 1 << 16;

/** Where the model's event numbers start (statement codes start at 100, names at 1000). */
const MODEL_EVENT_BASE = 40;

export class Coverage {
  /** this run's map, one byte per bit for speed */
  readonly map = new Uint8Array(COVERAGE_BITS);
  private prev = 0;
  private readonly touched: number[] = [];

  hit(ev: number): void {
    // integer multiplies: the same low 32 bits as the exact products (both stay below 2^53), without a float round trip
    const bit = (Math.imul(this.prev, 0x9e3779b1) ^ Math.imul(ev, 0x85ebca6b)) >>> 16;
    if (this.map[bit] === 0) {
      this.map[bit] = 1;
      this.touched.push(bit);
    }
    this.prev = ev;
  }

  /**
   * The model events one statement set (a bit mask, see events.ts), in bit
   * order: each becomes an edge from the statement (or the event before it).
   */
  hitEvents(mask: number): void {
    // lowest set bit first, skipping the clear ones (the oracle events sit at bits 20-23)
    for (; mask !== 0; mask &= mask - 1) this.hit(MODEL_EVENT_BASE + 31 - Math.clz32(mask & -mask));
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

  /**
   * Adds to `into` the bits not yet in the shared map (a worker, after each
   * run). The coordinator sets bits only between epochs; a worker that
   * reads one it has just set misses a bit that an earlier epoch found, and
   * that bit would not be new when this epoch is merged either.
   */
  collectNewBits(bits: readonly number[], into: Set<number>): void {
    for (let i = 0; i < bits.length; i++) if (!this.has(bits[i]!)) into.add(bits[i]!);
  }

  /** Sets bits; returns how many were new. */
  add(bits: ArrayLike<number>): number {
    let fresh = 0;
    for (let i = 0; i < bits.length; i++) {
      const b = bits[i]!;
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

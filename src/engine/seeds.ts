/**
 * Deterministic seeds: every program of a run is named by (run seed, epoch,
 * batch, index), and everything random about it is drawn from a generator
 * seeded with the mix of those numbers. Which worker runs it, and when,
 * does not matter.
 */

/** A 32-bit mix of several integers (murmur3 finaliser over a running hash). */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x85ebca6b);
    h = (h ^ (h >>> 13)) >>> 0;
    h = Math.imul(h, 0xc2b2ae35);
    h = (h ^ (h >>> 16)) >>> 0;
  }
  return h >>> 0;
}

/** mulberry32: a small, fast, seedable generator for the engine's own choices. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 2^32). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return (z ^ (z >>> 14)) >>> 0;
  }

  /**
   * Uniform integer in [0, n), n < 2^31. `| 0` hands it on as a small
   * integer: `next()` is unsigned, and unoptimized code boxes the remainder
   * of a value above 2^31 as a heap number, which turns the field of every
   * object it is stored in (an intent, the generator's options) into a boxed
   * double and deoptimizes the code that reads them (BENCHMARKS.md, eighth pass).
   */
  below(n: number): number {
    return n <= 1 ? 0 : (this.next() % n) | 0;
  }

  chance(p: number): boolean {
    return this.next() / 2 ** 32 < p;
  }
}

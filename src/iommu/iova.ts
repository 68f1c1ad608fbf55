/**
 * IOVA allocator (drivers/iommu/iova.c, as used by intel-iommu 5.4 and
 * dma-iommu): per domain, the allocated ranges [lo, hi] of IOVA page numbers,
 * kept in a list sorted from the top down. Allocation is top-down below a
 * limit, the size is rounded up to a power of two and the start aligned to
 * it, page 0 is never handed out, and reserved ranges (the interrupt window)
 * are inserted when the domain is created. In lazy mode an unmapped range is
 * only marked queued: it stays allocated (not reusable) until the flush.
 */
import { IOVA_RANGES_MAX, Reg, type MachineViews } from '../machine/layout.js';
import { assert, budget } from '../util/assert.js';

export enum IovaState {
  Free = 0,
  Allocated = 1,
  Reserved = 2,
  Queued = 3,
}

/** Lowest IOVA page ever handed out (Intel IOVA_START_PFN). */
export const IOVA_START_PFN = 1;

/** Round a page count up to a power of two (intel_alloc_iova / iommu_dma_alloc_iova). */
export function roundUpPow2(n: number): number {
  return n <= 1 ? 1 : 2 ** Math.ceil(Math.log2(n));
}

export class IovaAllocator {
  private readonly v: MachineViews;
  /** the range states as 32-bit words, for reset (regions are 8-byte aligned; IOVA_RANGES_MAX is a multiple of 4) */
  private readonly stateWords: Uint32Array;

  constructor(v: MachineViews) {
    this.v = v;
    assert(v.iovaState.byteOffset % 4 === 0 && v.iovaState.length % 4 === 0, 'IOVA range states not word-aligned');
    this.stateWords = new Uint32Array(v.iovaState.buffer, v.iovaState.byteOffset, v.iovaState.length / 4);
  }

  /**
   * Top-down search for `npages` (already a power of two) aligned pages that
   * end at or below `limitPfn` (the highest usable page number, inclusive).
   * Returns the first page, or -1 when no gap fits.
   */
  alloc(domain: number, npages: number, limitPfn: number): number {
    const v = this.v;
    let ceiling = limitPfn + 1; // exclusive upper bound of the gap being examined
    let prev = -1;
    for (let r = v.domIovaHead[domain]!; r >= 0; prev = r, r = v.iovaNext[r]!) {
      const lo = v.iovaLo[r]!;
      const hi = v.iovaHi[r]!;
      if (lo >= ceiling) continue;
      if (hi < ceiling) {
        const start = alignDown(ceiling - npages, npages);
        if (start > hi) return this.insertAfter(domain, prev, start, start + npages - 1, IovaState.Allocated);
      }
      ceiling = Math.min(ceiling, lo);
    }
    const start = alignDown(ceiling - npages, npages);
    if (start < IOVA_START_PFN) return -1;
    return this.insertAfter(domain, prev, start, start + npages - 1, IovaState.Allocated);
  }

  /** reserve_iova: a range that is never handed out. */
  reserve(domain: number, loPfn: number, hiPfn: number): void {
    const v = this.v;
    let prev = -1;
    for (let r = v.domIovaHead[domain]!; r >= 0 && v.iovaLo[r]! > hiPfn; r = v.iovaNext[r]!) prev = r;
    this.insertAfter(domain, prev, loPfn, hiPfn, IovaState.Reserved);
  }

  /** find_iova: the range record containing a page, or -1. */
  find(domain: number, pfn: number): number {
    const v = this.v;
    for (let r = v.domIovaHead[domain]!; r >= 0; r = v.iovaNext[r]!) {
      if (v.iovaLo[r]! <= pfn) return v.iovaHi[r]! >= pfn ? r : -1;
    }
    return -1;
  }

  lo(range: number): number {
    return this.v.iovaLo[range]!;
  }
  hi(range: number): number {
    return this.v.iovaHi[range]!;
  }
  state(range: number): IovaState {
    return this.v.iovaState[range]!;
  }

  /** Strict unmap: the range is free at once. */
  free(domain: number, range: number): void {
    assert(this.v.iovaState[range] === IovaState.Allocated, 'freeing an IOVA range that is not allocated');
    this.unlink(domain, range);
  }

  /** Lazy unmap: the range waits in the flush queue, still unavailable. */
  queue(domain: number, range: number): void {
    assert(this.v.iovaState[range] === IovaState.Allocated, 'queueing an IOVA range that is not allocated');
    this.v.iovaState[range] = IovaState.Queued;
    this.v.domQueued[domain] = this.v.domQueued[domain]! + 1;
  }

  /** After the IOTLB flush: every queued range becomes free. Returns how many. */
  releaseQueued(domain: number): number {
    const v = this.v;
    let released = 0;
    for (let r = v.domIovaHead[domain]!; r >= 0; ) {
      const next = v.iovaNext[r]!;
      if (v.iovaState[r] === IovaState.Queued) {
        this.unlink(domain, r);
        released++;
      }
      r = next;
    }
    v.domQueued[domain] = 0;
    return released;
  }

  /** Drops every range of a domain (domain teardown). */
  freeAll(domain: number): void {
    const v = this.v;
    for (let r = v.domIovaHead[domain]!; r >= 0; ) {
      const next = v.iovaNext[r]!;
      this.release(r);
      r = next;
    }
    v.domIovaHead[domain] = -1;
    v.domQueued[domain] = 0;
  }

  reset(): void {
    const v = this.v;
    // iovaState.fill(0), four states at a time and only where one is set:
    // fill on a shared buffer goes element by element, and this runs once per program
    const words = this.stateWords;
    for (let w = 0; w < words.length; w++) if (words[w] !== 0) words[w] = 0;
    // one copy of the pristine stack instead of a loop run once per program
    v.iovaFreeStack.set(PRISTINE_FREE_STACK);
    v.regs[Reg.iovaFreeTop] = IOVA_RANGES_MAX;
  }

  private insertAfter(domain: number, prev: number, lo: number, hi: number, state: IovaState): number {
    const v = this.v;
    const top = v.regs[Reg.iovaFreeTop]!;
    if (!(top > 0)) budget(false, `more than ${IOVA_RANGES_MAX} live IOVA ranges`); // message built only on failure (every map gets here)
    const r = v.iovaFreeStack[top - 1]!;
    v.regs[Reg.iovaFreeTop] = top - 1;
    v.iovaLo[r] = lo;
    v.iovaHi[r] = hi;
    v.iovaState[r] = state;
    const next = prev < 0 ? v.domIovaHead[domain]! : v.iovaNext[prev]!;
    v.iovaPrev[r] = prev;
    v.iovaNext[r] = next;
    if (next >= 0) v.iovaPrev[next] = r;
    if (prev < 0) v.domIovaHead[domain] = r;
    else v.iovaNext[prev] = r;
    return lo;
  }

  private unlink(domain: number, r: number): void {
    const v = this.v;
    const prev = v.iovaPrev[r]!;
    const next = v.iovaNext[r]!;
    if (prev < 0) v.domIovaHead[domain] = next;
    else v.iovaNext[prev] = next;
    if (next >= 0) v.iovaPrev[next] = prev;
    this.release(r);
  }

  private release(r: number): void {
    const v = this.v;
    v.iovaState[r] = IovaState.Free;
    const top = v.regs[Reg.iovaFreeTop]!;
    v.iovaFreeStack[top] = r;
    v.regs[Reg.iovaFreeTop] = top + 1;
  }
}

/** The free stack after a reset: every range free, range 0 on top. */
const PRISTINE_FREE_STACK = Int32Array.from({ length: IOVA_RANGES_MAX }, (_, i) => IOVA_RANGES_MAX - 1 - i);

function alignDown(pfn: number, align: number): number {
  return pfn - (pfn % align);
}

/**
 * The deterministic page allocator. Live allocations are extents sorted by
 * start page. A request names the lowest-addressed zone limit it can live
 * with; the allocator tries the allowed zones from the highest down (so a
 * buffer without a limit lands above 4 GiB whenever such RAM exists), and
 * inside a zone takes the lowest free run that fits (first fit). The same
 * sequence of requests always yields the same addresses.
 */
import { ZONE_DMA32_LIMIT, ZONE_DMA_LIMIT, type MachineConfig } from './config.js';
import { EXTENTS_MAX, Reg, type MachineViews } from './layout.js';
import { assert, budget } from '../util/assert.js';
import type { Zone } from '../program/ast.js';
import { Ev, mark } from './events.js';

export enum ExtentKind {
  Kmalloc = 1,
  Coherent = 2,
  Reserved = 3,
}

/** Zone bounds in bytes, highest first. */
const ZONES_HIGH_FIRST: ReadonlyArray<{ zone: Zone; lo: number; hi: number }> = [
  { zone: 'normal', lo: ZONE_DMA32_LIMIT, hi: Infinity },
  { zone: 'dma32', lo: ZONE_DMA_LIMIT, hi: ZONE_DMA32_LIMIT },
  { zone: 'dma', lo: 0, hi: ZONE_DMA_LIMIT },
];

/** Which zone a physical address is in. */
export function zoneOf(phys: number): Zone {
  return phys < ZONE_DMA_LIMIT ? 'dma' : phys < ZONE_DMA32_LIMIT ? 'dma32' : 'normal';
}

/** The zone to ask for so that a buffer ends below 2^bits (dma-direct's zone choice from a mask). */
export function zoneForMaskBits(bits: number): Zone {
  return bits <= 24 ? 'dma' : bits <= 32 ? 'dma32' : 'normal';
}

export class PageAllocator {
  private readonly pageBytes: number;

  constructor(
    private readonly v: MachineViews,
    private readonly cfg: MachineConfig,
  ) {
    this.pageBytes = cfg.pageBytes;
  }

  /**
   * Allocates whole pages for `bytes`; `zone` is the highest zone allowed
   * (like GFP_DMA / GFP_DMA32; 'normal' = no limit). Returns the physical
   * address, or -1 when no allowed zone has room.
   */
  alloc(bytes: number, zone: Zone, kind: ExtentKind): number {
    const npages = Math.max(1, Math.ceil(bytes / this.pageBytes));
    const firstZone = ZONES_HIGH_FIRST.findIndex((z) => z.zone === zone);
    for (let zi = firstZone; zi < ZONES_HIGH_FIRST.length; zi++) {
      const z = ZONES_HIGH_FIRST[zi]!;
      for (const r of this.cfg.ram) {
        const lo = Math.max(r.start, z.lo);
        const hi = Math.min(r.end, z.hi);
        if (hi - lo < npages * this.pageBytes) continue;
        const startPfn = this.firstFit(lo / this.pageBytes, hi / this.pageBytes, npages);
        if (startPfn >= 0) {
          this.insert(startPfn, npages, kind);
          return startPfn * this.pageBytes;
        }
      }
    }
    mark(this.v, Ev.NoMemory);
    return -1;
  }

  /** Marks [phys, phys+bytes) as taken (the swiotlb pool at boot). */
  reserve(phys: number, bytes: number): void {
    const pfn = phys / this.pageBytes;
    const npages = Math.ceil(bytes / this.pageBytes);
    assert(this.firstFit(pfn, pfn + npages, npages) === pfn, 'reserve of a busy range');
    this.insert(pfn, npages, ExtentKind.Reserved);
  }

  /** Frees the allocation that starts at `phys`; returns its size in bytes, or -1 if none starts there. */
  free(phys: number): number {
    const i = this.indexOfStart(phys / this.pageBytes);
    if (i < 0) return -1;
    const v = this.v;
    const n = v.regs[Reg.extentCount]!;
    const bytes = v.extentPages[i]! * this.pageBytes;
    v.extentStart.copyWithin(i, i + 1, n);
    v.extentPages.copyWithin(i, i + 1, n);
    v.extentKind.copyWithin(i, i + 1, n);
    v.regs[Reg.extentCount] = n - 1;
    return bytes;
  }

  /** Kind of the live allocation starting at phys, or 0. */
  kindAt(phys: number): number {
    const i = this.indexOfStart(phys / this.pageBytes);
    return i < 0 ? 0 : this.v.extentKind[i]!;
  }

  liveCount(): number {
    return this.v.regs[Reg.extentCount]!;
  }

  /** Drops every allocation except the boot-time reservations. */
  reset(): void {
    const v = this.v;
    const n = v.regs[Reg.extentCount]!;
    let kept = 0;
    for (let i = 0; i < n; i++) {
      if (v.extentKind[i] !== ExtentKind.Reserved) continue;
      v.extentStart[kept] = v.extentStart[i]!;
      v.extentPages[kept] = v.extentPages[i]!;
      v.extentKind[kept] = ExtentKind.Reserved;
      kept++;
    }
    v.regs[Reg.extentCount] = kept;
  }

  /** Lowest start pfn in [lo, hi) with npages free, or -1. */
  private firstFit(lo: number, hi: number, npages: number): number {
    const v = this.v;
    const n = v.regs[Reg.extentCount]!;
    let candidate = lo;
    for (let i = this.firstEndingAfter(lo); i < n; i++) {
      const s = v.extentStart[i]!;
      if (s >= hi) break;
      if (s - candidate >= npages) return candidate;
      candidate = Math.max(candidate, s + v.extentPages[i]!);
    }
    return hi - candidate >= npages ? candidate : -1;
  }

  /** Index of the first extent whose end is after pfn (binary search; extents never overlap). */
  private firstEndingAfter(pfn: number): number {
    const v = this.v;
    let lo = 0;
    let hi = v.regs[Reg.extentCount]!;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (v.extentStart[mid]! + v.extentPages[mid]! <= pfn) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private indexOfStart(pfn: number): number {
    const i = this.firstEndingAfter(pfn);
    return i < this.v.regs[Reg.extentCount]! && this.v.extentStart[i] === pfn ? i : -1;
  }

  private insert(pfn: number, npages: number, kind: ExtentKind): void {
    const v = this.v;
    const n = v.regs[Reg.extentCount]!;
    budget(n < EXTENTS_MAX, `more than ${EXTENTS_MAX} live allocations`);
    const i = this.firstEndingAfter(pfn);
    v.extentStart.copyWithin(i + 1, i, n);
    v.extentPages.copyWithin(i + 1, i, n);
    v.extentKind.copyWithin(i + 1, i, n);
    v.extentStart[i] = pfn;
    v.extentPages[i] = npages;
    v.extentKind[i] = kind;
    v.regs[Reg.extentCount] = n + 1;
  }
}

/**
 * The IOTLB: a 4-way set-associative cache of leaf translations (64 entries,
 * LRU within a set), tagged by domain. Strict invalidation removes entries at
 * unmap; lazy mode leaves them, so a device can still reach the old page
 * through a stale entry until the flush queue drains: the window the
 * security table measures.
 */
import { IOTLB_SETS, IOTLB_WAYS, Reg, type MachineViews } from '../machine/layout.js';

export class Iotlb {
  private readonly v: MachineViews;

  constructor(v: MachineViews) {
    this.v = v;
  }

  /** Entry index holding (domain, iovaPfn), or -1 on a miss. Refreshes LRU on a hit. */
  lookup(domain: number, iovaPfn: number): number {
    const v = this.v;
    const base = (iovaPfn % IOTLB_SETS) * IOTLB_WAYS;
    for (let w = 0; w < IOTLB_WAYS; w++) {
      const i = base + w;
      if (v.tlbDomain[i] === domain && v.tlbIovaPfn[i] === iovaPfn) {
        v.tlbStamp[i] = this.tick();
        return i;
      }
    }
    return -1;
  }

  pfnAt(entry: number): number {
    return this.v.tlbPfn[entry]!;
  }

  permAt(entry: number): number {
    return this.v.tlbPerm[entry]!;
  }

  /** Caches a translation, evicting the least recently used way of its set. */
  fill(domain: number, iovaPfn: number, pfn: number, perm: number): void {
    const v = this.v;
    const base = (iovaPfn % IOTLB_SETS) * IOTLB_WAYS;
    let victim = base;
    for (let w = 0; w < IOTLB_WAYS; w++) {
      const i = base + w;
      if (v.tlbDomain[i] === -1) {
        victim = i;
        break;
      }
      if (v.tlbStamp[i]! < v.tlbStamp[victim]!) victim = i;
    }
    v.tlbDomain[victim] = domain;
    v.tlbIovaPfn[victim] = iovaPfn;
    v.tlbPfn[victim] = pfn;
    v.tlbPerm[victim] = perm;
    v.tlbStamp[victim] = this.tick();
  }

  /** Page-selective invalidation (strict unmap). Returns entries dropped. */
  invalidateRange(domain: number, iovaPfn: number, npages: number): number {
    const v = this.v;
    let dropped = 0;
    // A translation for page p is only ever filled into set p % IOTLB_SETS,
    // so a range of fewer pages than sets needs to look at its own sets only
    // (every unmap of a small mapping lands here). Not for domain -1, which
    // would also match never-filled ways.
    if (domain >= 0 && npages < IOTLB_SETS) {
      for (let p = iovaPfn; p < iovaPfn + npages; p++) {
        const base = (p % IOTLB_SETS) * IOTLB_WAYS;
        for (let i = base; i < base + IOTLB_WAYS; i++) {
          if (v.tlbDomain[i] === domain && v.tlbIovaPfn[i]! >= iovaPfn && v.tlbIovaPfn[i]! < iovaPfn + npages) {
            v.tlbDomain[i] = -1;
            dropped++;
          }
        }
      }
      return dropped;
    }
    for (let i = 0; i < v.tlbDomain.length; i++) {
      if (v.tlbDomain[i] === domain && v.tlbIovaPfn[i]! >= iovaPfn && v.tlbIovaPfn[i]! < iovaPfn + npages) {
        v.tlbDomain[i] = -1;
        dropped++;
      }
    }
    return dropped;
  }

  /** Domain-selective invalidation (lazy flush, domain teardown). */
  invalidateDomain(domain: number): void {
    const v = this.v;
    for (let i = 0; i < v.tlbDomain.length; i++) if (v.tlbDomain[i] === domain) v.tlbDomain[i] = -1;
  }

  reset(): void {
    this.v.tlbDomain.fill(-1);
    this.v.regs[Reg.tlbClock] = 0;
  }

  private tick(): number {
    const t = this.v.regs[Reg.tlbClock]! + 1;
    this.v.regs[Reg.tlbClock] = t;
    return t;
  }
}

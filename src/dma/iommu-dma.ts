/**
 * The IOMMU path (intel-iommu 5.4's intel_map_page & co., and dma-iommu):
 * an IOVA range allocated top-down below the mask (below 4 GiB first when the
 * mask is wider), its size rounded to a power of two; page-table entries with
 * permissions from the direction; unmap clears the entries and either
 * invalidates the IOTLB at once (strict) or queues the IOVA until a flush
 * (lazy). A handle this path cannot find in the device's domain is a layer
 * error, as the kernel's "Driver unmaps unmatched page" WARN is.
 */
import type { Direction } from '../program/ast.js';
import type { Machine } from '../machine/machine.js';
import { ExtentKind } from '../machine/page-allocator.js';
import { DomainType } from '../iommu/domains.js';
import { IOMMU_PAGE_BYTES, IOVA_WIDTH_BITS, PERM_READ, PERM_WRITE } from '../iommu/page-table.js';
import { roundUpPow2 } from '../iommu/iova.js';
import { hex } from '../util/numbers.js';
import type { CallOutcome } from './outcome.js';
import { DMA_MAPPING_ERROR } from './debug.js';
import { Ev, mark } from '../machine/events.js';

const PAGES_BELOW_4G = 2 ** 32 / IOMMU_PAGE_BYTES;
const IOVA_LIMIT_BIG = 1n << BigInt(IOVA_WIDTH_BITS);
const PAGE_BYTES_BIG = BigInt(IOMMU_PAGE_BYTES);
/** dma_get_max_seg_size default: segments are merged up to 64 KiB */
export const MAX_SEGMENT_BYTES = 65536;

export interface Segment {
  handle: bigint;
  len: number;
}

export function permFor(dir: Direction): number {
  return dir === 'to_device' ? PERM_READ : dir === 'from_device' ? PERM_WRITE : PERM_READ | PERM_WRITE;
}

export class IommuDma {
  constructor(
    private readonly m: Machine,
    private readonly out: CallOutcome,
  ) {}

  /** Maps [phys, phys+len) into the domain; returns the handle or DMA_MAPPING_ERROR. */
  map(domain: number, phys: number, len: number, dir: Direction, maskBits: number): bigint {
    this.out.path = 'iommu';
    if (!this.translated(domain)) return DMA_MAPPING_ERROR;
    const c = this.m.costs;
    const pageOff = phys % IOMMU_PAGE_BYTES;
    const npages = Math.max(1, Math.ceil((pageOff + len) / IOMMU_PAGE_BYTES));
    const iovaPfn = this.allocIova(domain, npages, maskBits);
    this.out.costNs += c.iommuCallNs + c.iovaAllocNs;
    if (iovaPfn < 0) {
      this.out.log.push(`DMAR: Allocating ${roundUpPow2(npages)}-page iova failed`);
      return DMA_MAPPING_ERROR;
    }
    const tables = this.m.tables.map(this.m.domains.root(domain), iovaPfn, Math.floor(phys / IOMMU_PAGE_BYTES), permFor(dir), npages);
    this.out.costNs += c.ptInstallFirstNs + (npages - 1) * c.ptInstallNextNs + tables * c.ptTableAllocNs;
    if (tables > 0) mark(this.m.v, Ev.PageTableAlloc);
    return BigInt(iovaPfn * IOMMU_PAGE_BYTES + pageOff);
  }

  /** Unmaps the IOVA range holding `handle`; returns false (with a layer error) if there is none. */
  unmap(domain: number, handle: bigint, what: string): boolean {
    this.out.path = 'iommu';
    if (!this.translated(domain)) return false;
    const c = this.m.costs;
    this.out.costNs += c.iommuCallNs;
    const range = this.findRange(domain, handle);
    if (range < 0 || this.m.iova.state(range) !== 1 /* Allocated */) {
      mark(this.m.v, Ev.IommuUnmatched);
      this.out.layerError = `DMAR: ${what}: driver unmaps unmatched page at PFN ${hex(handle / BigInt(IOMMU_PAGE_BYTES))}: ${hex(handle)} is not an IOVA this domain handed out`;
      return false;
    }
    const lo = this.m.iova.lo(range);
    const npages = this.m.iova.hi(range) - lo + 1;
    const cleared = this.m.tables.unmap(this.m.domains.root(domain), lo, npages);
    this.out.costNs += cleared * c.ptClearNs;
    if (this.m.cfg.inval === 'strict') {
      this.m.iotlb.invalidateRange(domain, lo, npages);
      this.m.iova.free(domain, range);
      mark(this.m.v, Ev.StrictInvalidate);
      this.out.costNs += c.iotlbInvalNs + Math.max(0, cleared - 1) * c.iotlbInvalPerPageNs + c.iovaFreeNs;
    } else {
      this.m.iova.queue(domain, range);
      mark(this.m.v, Ev.LazyQueue);
      this.out.costNs += c.fqEnqueueNs;
      if (this.m.domains.queued(domain) >= this.m.cfg.fq) {
        this.m.domains.flush(domain);
        this.out.costNs += c.fqFlushNs;
      }
    }
    return true;
  }

  /**
   * iommu_dma_map_sg: one IOVA range for the whole list, each buffer at the
   * next page-aligned place; consecutive segments merge while the previous
   * one ends on a page boundary and the merged one stays within 64 KiB.
   */
  mapSg(domain: number, ents: ReadonlyArray<{ phys: number; len: number }>, dir: Direction, maskBits: number): Segment[] {
    this.out.path = 'iommu';
    if (!this.translated(domain)) return [];
    const c = this.m.costs;
    let total = 0;
    for (const e of ents) total += Math.ceil(((e.phys % IOMMU_PAGE_BYTES) + e.len) / IOMMU_PAGE_BYTES);
    const iovaPfn = this.allocIova(domain, total, maskBits);
    this.out.costNs += c.iommuCallNs + c.iovaAllocNs;
    if (iovaPfn < 0) {
      this.out.log.push(`DMAR: Allocating ${roundUpPow2(total)}-page iova failed`);
      return [];
    }
    const segs: Segment[] = [];
    let pfn = iovaPfn;
    const root = this.m.domains.root(domain);
    for (const e of ents) {
      const pageOff = e.phys % IOMMU_PAGE_BYTES;
      const npages = Math.ceil((pageOff + e.len) / IOMMU_PAGE_BYTES);
      const tables = this.m.tables.map(root, pfn, Math.floor(e.phys / IOMMU_PAGE_BYTES), permFor(dir), npages);
      this.out.costNs += c.ptInstallFirstNs + (npages - 1) * c.ptInstallNextNs + tables * c.ptTableAllocNs;
      if (tables > 0) mark(this.m.v, Ev.PageTableAlloc);
      const handle = BigInt(pfn * IOMMU_PAGE_BYTES + pageOff);
      const last = segs[segs.length - 1];
      const contiguous = last && last.handle + BigInt(last.len) === handle && last.len + e.len <= MAX_SEGMENT_BYTES;
      if (last && contiguous) {
        last.len += e.len;
        mark(this.m.v, Ev.SgMerged);
      } else segs.push({ handle, len: e.len });
      pfn += npages;
    }
    return segs;
  }

  /** Coherent allocation through the IOMMU: any pages, mapped bidirectional below the coherent mask. */
  alloc(domain: number, size: number, coherentBits: number): { handle: bigint; phys: number } | undefined {
    this.out.path = 'iommu';
    if (!this.translated(domain)) return undefined;
    this.out.costNs += this.m.costs.pageAllocNs;
    const phys = this.m.pages.alloc(size, 'normal', ExtentKind.Coherent);
    if (phys < 0) return undefined;
    this.m.mem.zero(phys, size);
    const handle = this.map(domain, phys, size, 'bidirectional', coherentBits);
    if (handle === DMA_MAPPING_ERROR) {
      this.m.pages.free(phys);
      return undefined;
    }
    return { handle, phys };
  }

  free(domain: number, handle: bigint, cpuPhys: number): void {
    if (this.unmap(domain, handle, 'free_coherent')) this.m.pages.free(cpuPhys);
  }

  /** Syncs move nothing on this path (cache-coherent x86, no bounce); the handle must still be ours. */
  sync(domain: number, handle: bigint): void {
    this.out.path = 'iommu';
    if (!this.translated(domain)) return;
    const range = this.findRange(domain, handle);
    if (range < 0) {
      mark(this.m.v, Ev.IommuUnmatched);
      this.out.layerError = `DMAR: sync of ${hex(handle)}: not an IOVA this domain handed out`;
    }
  }

  /** find_iova for the page of a handle: the IOVA range holding it, or -1. */
  private findRange(domain: number, handle: bigint): number {
    if (handle >= IOVA_LIMIT_BIG) return -1;
    // Below 2^48 a handle converts to a number exactly, and for a
    // non-negative one flooring the division is the bigint quotient: no
    // bigint division on every unmap and sync.
    const pfn = handle >= 0n ? Math.floor(Number(handle) / IOMMU_PAGE_BYTES) : Number(handle / PAGE_BYTES_BIG);
    return this.m.iova.find(domain, pfn);
  }

  /** intel_alloc_iova: below 4 GiB first when the mask is wider, then below the mask. */
  private allocIova(domain: number, npages: number, maskBits: number): number {
    const size = roundUpPow2(npages);
    const limitPfn = Math.floor(2 ** Math.min(maskBits, IOVA_WIDTH_BITS) / IOMMU_PAGE_BYTES) - 1;
    const v = this.m.v;
    if (limitPfn >= PAGES_BELOW_4G) {
      const low = this.m.iova.alloc(domain, size, PAGES_BELOW_4G - 1);
      if (low >= 0) {
        mark(v, Ev.IovaBelow4G);
        return low;
      }
    }
    const pfn = this.m.iova.alloc(domain, size, limitPfn);
    if (pfn < 0) mark(v, Ev.IovaExhausted);
    else if (limitPfn >= PAGES_BELOW_4G) mark(v, Ev.IovaFallbackAbove4G);
    return pfn;
  }

  private translated(domain: number): boolean {
    if (this.m.domains.type(domain) === DomainType.Translated) return true;
    this.out.layerError = `the IOMMU path was chosen for a device that is not in a translated domain`;
    return false;
  }
}

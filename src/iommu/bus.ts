/**
 * The bus as a device sees it: a device-initiated access at a bus address is
 * cut to the device's address width, then resolved through the device's
 * IOMMU domain (or taken as a physical address when there is no IOMMU) into
 * physical chunks, or refused with a VT-d fault reason. Nothing is
 * transferred unless every page of the access translates: the IOMMU blocks
 * the whole transaction.
 */
import { BYPASS_WINDOW_BASE } from '../machine/config.js';
import { FAULT_LOG_MAX, Reg, type MachineViews } from '../machine/layout.js';
import type { Memory } from '../machine/memory.js';
import { bitMask, sumAbove } from '../util/numbers.js';
import { DomainType, NO_DOMAIN, type Domains } from './domains.js';
import type { Iotlb } from './iotlb.js';
import { IOMMU_PAGE_BYTES, IOVA_WIDTH_BITS, PERM_READ, PERM_WRITE, type PageTables } from './page-table.js';
import type { CostTable } from '../machine/cost.js';
import { Ev, mark } from '../machine/events.js';

export enum AccessStatus {
  Ok = 0,
  /** the IOMMU blocked it (fault recorded) */
  Fault = 1,
  /** no IOMMU, and the address is not RAM: the transaction goes nowhere */
  NoMemory = 2,
}

/** VT-d fault reasons used by the model, with the kernel's text. */
export const FAULT_REASONS: Readonly<Record<number, string>> = {
  4: 'Access beyond MGAW',
  5: 'PTE Write access is not set',
  6: 'PTE Read access is not set',
};

/** First IOVA beyond the 48-bit input address width. */
const IOVA_LIMIT = 2 ** IOVA_WIDTH_BITS;

export class Bus {
  /** chunks of the last translated access: physical address and length */
  chunkPhys: number[] = [];
  chunkLen: number[] = [];
  /** chunks written by the access being translated (the arrays are trimmed to it at the end) */
  private chunks = 0;
  /** the address after width truncation, as the device drove it */
  drivenAddr = 0n;
  faultReason = 0;
  faultAddr = 0n;
  /** did the last access hit an IOTLB entry whose page-table entry is gone (lazy window)? */
  usedStaleEntry = false;
  /** modelled ns of the last access */
  costNs = 0;
  /** how the last access was resolved: physical (no IOMMU / identity), the bypass window, or a page walk */
  route: 'direct' | 'window' | 'iommu' = 'direct';

  private readonly v: MachineViews;

  constructor(
    v: MachineViews,
    private readonly mem: Memory,
    private readonly domains: Domains,
    private readonly tables: PageTables,
    private readonly iotlb: Iotlb,
    private readonly ramTop: number,
    private readonly costs: CostTable,
  ) {
    this.v = v;
  }

  /** Resolves [addr, addr+len) for device `dev` driving `widthBits` address bits. */
  translate(dev: number, widthBits: number, addr: bigint, len: number, write: boolean): AccessStatus {
    // Chunks are written over the previous access's and the arrays trimmed
    // once at the end: setting an array's length on every access was a
    // measurable cost.
    this.chunks = 0;
    try {
      return this.resolve(dev, widthBits, addr, len, write);
    } finally {
      if (this.chunkPhys.length !== this.chunks) {
        this.chunkPhys.length = this.chunks;
        this.chunkLen.length = this.chunks;
      }
    }
  }

  private resolve(dev: number, widthBits: number, addr: bigint, len: number, write: boolean): AccessStatus {
    this.usedStaleEntry = false;
    this.costNs = this.costs.deviceAccessNs + Math.max(0, Math.ceil(len / 64) - 1) * this.costs.deviceBurstNs;
    let driven = addr;
    if (widthBits < 64) {
      // an address that already fits the width is its own truncation (saves a bigint)
      const mask = bitMask(widthBits);
      if (!(addr >= 0n && addr <= mask)) driven = addr & mask;
    }
    this.drivenAddr = driven;
    const domain = this.v.devDomain[dev]!;
    const type = this.domains.type(domain);
    this.route = 'direct';
    if (domain === NO_DOMAIN || type === DomainType.Identity) {
      const phys = Number(driven);
      if (!sumAbove(driven, len, this.ramTop) && this.mem.isRam(phys, len)) {
        this.pushChunk(phys, len);
        return AccessStatus.Ok;
      }
      if (domain === NO_DOMAIN) return AccessStatus.NoMemory;
      return this.fault(dev, driven, write, write ? 5 : 6);
    }
    this.route = 'window';
    if (this.domains.hasWindow(domain) && driven >= BYPASS_WINDOW_BASE) {
      const phys = driven - BYPASS_WINDOW_BASE;
      if (!sumAbove(phys, len, this.ramTop) && this.mem.isRam(Number(phys), len)) {
        this.pushChunk(Number(phys), len);
        return AccessStatus.Ok;
      }
    }
    this.route = 'iommu';
    if (sumAbove(driven, len, IOVA_LIMIT)) return this.fault(dev, driven, write, 4);
    return this.walk(dev, domain, Number(driven), len, write);
  }

  /** Device read of the translated chunks into dst. */
  read(dst: Uint8Array): void {
    let done = 0;
    for (let i = 0; i < this.chunkPhys.length; i++) {
      const len = this.chunkLen[i]!;
      // what dst.subarray(done, done + len) would hold: clipped to dst
      const from = Math.min(done, dst.length);
      this.mem.readInto(this.chunkPhys[i]!, dst, from, Math.min(done + len, dst.length) - from);
      done += len;
    }
  }

  /** Device write of src over the translated chunks. */
  write(src: Uint8Array): void {
    let done = 0;
    for (let i = 0; i < this.chunkPhys.length; i++) {
      const len = this.chunkLen[i]!;
      const from = Math.min(done, src.length);
      this.mem.writeFrom(this.chunkPhys[i]!, src, from, Math.min(done + len, src.length) - from);
      done += len;
    }
  }

  faultCount(): number {
    return this.v.regs[Reg.faultCount]!;
  }

  private walk(dev: number, domain: number, iova: number, len: number, write: boolean): AccessStatus {
    const need = write ? PERM_WRITE : PERM_READ;
    const root = this.domains.root(domain);
    let done = 0;
    while (done < len) {
      const a = iova + done;
      const iovaPfn = Math.floor(a / IOMMU_PAGE_BYTES);
      const pageOff = a - iovaPfn * IOMMU_PAGE_BYTES;
      const n = Math.min(len - done, IOMMU_PAGE_BYTES - pageOff);
      let pfn: number;
      let perm: number;
      const hit = this.iotlb.lookup(domain, iovaPfn);
      if (hit >= 0) {
        pfn = this.iotlb.pfnAt(hit);
        perm = this.iotlb.permAt(hit);
        if (this.tables.walk(root, iovaPfn) === 0) {
          this.usedStaleEntry = true;
          mark(this.v, Ev.StaleIotlbHit);
        }
      } else {
        mark(this.v, Ev.IotlbMiss);
        const entry = this.tables.walk(root, iovaPfn);
        this.costNs += this.costs.iotlbMissNs + (this.tables.lastWalkLevels - 1) * this.costs.walkLevelNs;
        perm = entry & 3;
        pfn = entry >>> 2; // entries are u32: the same as Math.floor(entry / 4)
        if ((perm & need) !== 0) this.iotlb.fill(domain, iovaPfn, pfn, perm);
      }
      if ((perm & need) === 0) return this.fault(dev, BigInt(a), write, write ? 5 : 6);
      this.pushChunk(pfn * IOMMU_PAGE_BYTES + pageOff, n);
      done += n;
    }
    return AccessStatus.Ok;
  }

  private pushChunk(phys: number, len: number): void {
    const last = this.chunks - 1;
    if (last >= 0 && this.chunkPhys[last]! + this.chunkLen[last]! === phys) this.chunkLen[last]! += len;
    else {
      this.chunkPhys[this.chunks] = phys;
      this.chunkLen[this.chunks] = len;
      this.chunks++;
    }
  }

  private fault(dev: number, addr: bigint, write: boolean, reason: number): AccessStatus {
    const v = this.v;
    const n = v.regs[Reg.faultCount]!;
    const i = n % FAULT_LOG_MAX;
    v.faultDev[i] = dev;
    v.faultAddr[i] = addr;
    v.faultWrite[i] = write ? 1 : 0;
    v.faultReason[i] = reason;
    v.regs[Reg.faultCount] = n + 1;
    mark(v, reason === 4 ? Ev.Fault4 : reason === 5 ? Ev.Fault5 : Ev.Fault6);
    this.faultReason = reason;
    this.faultAddr = addr;
    this.chunks = 0;
    return AccessStatus.Fault;
  }
}

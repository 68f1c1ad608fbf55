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
import { bitMask } from '../util/numbers.js';
import { DomainType, NO_DOMAIN, type Domains } from './domains.js';
import type { Iotlb } from './iotlb.js';
import { IOMMU_PAGE_BYTES, IOVA_WIDTH_BITS, PERM_READ, PERM_WRITE, type PageTables } from './page-table.js';
import type { CostTable } from '../machine/cost.js';

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

export class Bus {
  /** chunks of the last translated access: physical address and length */
  chunkPhys: number[] = [];
  chunkLen: number[] = [];
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

  constructor(
    private readonly v: MachineViews,
    private readonly mem: Memory,
    private readonly domains: Domains,
    private readonly tables: PageTables,
    private readonly iotlb: Iotlb,
    private readonly ramTop: number,
    private readonly costs: CostTable,
  ) {}

  /** Resolves [addr, addr+len) for device `dev` driving `widthBits` address bits. */
  translate(dev: number, widthBits: number, addr: bigint, len: number, write: boolean): AccessStatus {
    this.chunkPhys.length = 0;
    this.chunkLen.length = 0;
    this.usedStaleEntry = false;
    this.costNs = this.costs.deviceAccessNs + Math.max(0, Math.ceil(len / 64) - 1) * this.costs.deviceBurstNs;
    const driven = widthBits >= 64 ? addr : addr & bitMask(widthBits);
    this.drivenAddr = driven;
    const domain = this.v.devDomain[dev]!;
    const type = this.domains.type(domain);
    this.route = 'direct';
    if (domain === NO_DOMAIN || type === DomainType.Identity) {
      const phys = Number(driven);
      if (driven + BigInt(len) <= BigInt(this.ramTop) && this.mem.isRam(phys, len)) {
        this.pushChunks(phys, len);
        return AccessStatus.Ok;
      }
      if (domain === NO_DOMAIN) return AccessStatus.NoMemory;
      return this.fault(dev, driven, write, write ? 5 : 6);
    }
    this.route = 'window';
    if (this.domains.hasWindow(domain) && driven >= BYPASS_WINDOW_BASE) {
      const phys = driven - BYPASS_WINDOW_BASE;
      if (phys + BigInt(len) <= BigInt(this.ramTop) && this.mem.isRam(Number(phys), len)) {
        this.pushChunks(Number(phys), len);
        return AccessStatus.Ok;
      }
    }
    this.route = 'iommu';
    if (driven + BigInt(len) > 1n << BigInt(IOVA_WIDTH_BITS)) return this.fault(dev, driven, write, 4);
    return this.walk(dev, domain, Number(driven), len, write);
  }

  /** Device read of the translated chunks into dst. */
  read(dst: Uint8Array): void {
    let done = 0;
    for (let i = 0; i < this.chunkPhys.length; i++) {
      this.mem.read(this.chunkPhys[i]!, dst.subarray(done, done + this.chunkLen[i]!));
      done += this.chunkLen[i]!;
    }
  }

  /** Device write of src over the translated chunks. */
  write(src: Uint8Array): void {
    let done = 0;
    for (let i = 0; i < this.chunkPhys.length; i++) {
      this.mem.write(this.chunkPhys[i]!, src.subarray(done, done + this.chunkLen[i]!));
      done += this.chunkLen[i]!;
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
        if (this.tables.walk(root, iovaPfn) === 0) this.usedStaleEntry = true;
      } else {
        const entry = this.tables.walk(root, iovaPfn);
        this.costNs += this.costs.iotlbMissNs + (this.tables.lastWalkLevels - 1) * this.costs.walkLevelNs;
        perm = entry & 3;
        pfn = Math.floor(entry / 4);
        if ((perm & need) !== 0) this.iotlb.fill(domain, iovaPfn, pfn, perm);
      }
      if ((perm & need) === 0) return this.fault(dev, BigInt(a), write, write ? 5 : 6);
      this.pushChunk(pfn * IOMMU_PAGE_BYTES + pageOff, n);
      done += n;
    }
    return AccessStatus.Ok;
  }

  private pushChunks(phys: number, len: number): void {
    this.pushChunk(phys, len);
  }

  private pushChunk(phys: number, len: number): void {
    const last = this.chunkPhys.length - 1;
    if (last >= 0 && this.chunkPhys[last]! + this.chunkLen[last]! === phys) this.chunkLen[last]! += len;
    else {
      this.chunkPhys.push(phys);
      this.chunkLen.push(len);
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
    this.faultReason = reason;
    this.faultAddr = addr;
    this.chunkPhys.length = 0;
    this.chunkLen.length = 0;
    return AccessStatus.Fault;
  }
}

/**
 * IOMMU domains. Identity: bus address = physical address, RAM only (one
 * shared static domain, like intel-iommu's si_domain). Translated: its own
 * page tables and IOVA space, the interrupt window reserved; optionally the
 * bypass window (all RAM mapped 1:1 at PA + 2^59, used by `bypass-flag`),
 * modelled as a range check rather than materialised page tables. A
 * translated domain is freed when its last device leaves it: its mappings
 * vanish and its IOTLB entries are dropped.
 */
import { DOMAINS_MAX, Reg, type MachineViews } from '../machine/layout.js';
import { assert, budget } from '../util/assert.js';
import type { PageTables } from './page-table.js';
import type { Iotlb } from './iotlb.js';
import type { IovaAllocator } from './iova.js';
import { Ev, mark } from '../machine/events.js';

export enum DomainType {
  Free = 0,
  Identity = 1,
  Translated = 2,
}

/** Interrupt (MSI) window reserved in every translated domain: 0xFEE00000-0xFEEFFFFF. */
export const MSI_WINDOW_LO_PFN = 0xfee00;
export const MSI_WINDOW_HI_PFN = 0xfeeff;
/** The static identity domain always sits in slot 0. */
export const IDENTITY_DOMAIN = 0;
/** "no IOMMU in front of this device" (policy `direct`). */
export const NO_DOMAIN = -1;

export class Domains {
  constructor(
    private readonly v: MachineViews,
    private readonly tables: PageTables,
    private readonly iotlb: Iotlb,
    private readonly iova: IovaAllocator,
  ) {}

  type(d: number): DomainType {
    return d < 0 ? DomainType.Free : this.v.domType[d]!;
  }
  hasWindow(d: number): boolean {
    return d >= 0 && this.v.domWindow[d] === 1;
  }
  root(d: number): number {
    return this.v.domRoot[d]!;
  }
  /** Serial number of the domain's creation, stable for traces ("domain #3"). */
  serial(d: number): number {
    return this.v.domSerial[d]!;
  }
  queued(d: number): number {
    return this.v.domQueued[d]!;
  }

  /** A fresh, empty translated domain (iommu_domain_alloc + the reserved regions). */
  createTranslated(window: boolean): number {
    const v = this.v;
    let d = -1;
    for (let i = 1; i < DOMAINS_MAX; i++) {
      if (v.domType[i] === DomainType.Free) {
        d = i;
        break;
      }
    }
    budget(d > 0, `more than ${DOMAINS_MAX - 1} live IOMMU domains`);
    v.domType[d] = DomainType.Translated;
    v.domWindow[d] = window ? 1 : 0;
    v.domRoot[d] = this.tables.newRoot();
    v.domIovaHead[d] = -1;
    v.domQueued[d] = 0;
    v.domDevices[d] = 0;
    v.domSerial[d] = this.nextSerial();
    this.iova.reserve(d, MSI_WINDOW_LO_PFN, MSI_WINDOW_HI_PFN);
    return d;
  }

  /** Moves a device's attachment; a translated domain left without devices is torn down. */
  attach(dev: number, d: number): void {
    const v = this.v;
    const old = v.devDomain[dev]!;
    if (old === d) return;
    if (d >= 0) {
      assert(v.domType[d] !== DomainType.Free, 'attach to a free domain');
      v.domDevices[d] = v.domDevices[d]! + 1;
    }
    v.devDomain[dev] = d;
    if (old >= 0) {
      v.domDevices[old] = v.domDevices[old]! - 1;
      if (v.domDevices[old] === 0 && old !== IDENTITY_DOMAIN) this.destroy(old);
    }
  }

  /** Lazy-mode flush of one domain: one domain-wide IOTLB invalidation, then the queued IOVAs are free. */
  flush(d: number): number {
    mark(this.v, Ev.LazyFlush);
    this.iotlb.invalidateDomain(d);
    return this.iova.releaseQueued(d);
  }

  /** Flushes every domain with queued unmaps (the 10 ms timer: `tick`). Returns ranges released. */
  flushAll(): number {
    let released = 0;
    for (let d = 1; d < DOMAINS_MAX; d++) {
      if (this.v.domType[d] === DomainType.Translated && this.v.domQueued[d]! > 0) released += this.flush(d);
    }
    return released;
  }

  reset(): void {
    const v = this.v;
    v.domType.fill(DomainType.Free);
    v.domWindow.fill(0);
    v.domDevices.fill(0);
    v.domQueued.fill(0);
    v.domIovaHead.fill(-1);
    v.regs[Reg.domainSerial] = 0;
    v.domType[IDENTITY_DOMAIN] = DomainType.Identity;
    v.domSerial[IDENTITY_DOMAIN] = this.nextSerial();
  }

  private destroy(d: number): void {
    const v = this.v;
    this.tables.freeTree(v.domRoot[d]!);
    this.iova.freeAll(d);
    this.iotlb.invalidateDomain(d);
    v.domType[d] = DomainType.Free;
    v.domWindow[d] = 0;
  }

  private nextSerial(): number {
    const s = this.v.regs[Reg.domainSerial]!;
    this.v.regs[Reg.domainSerial] = s + 1;
    return s;
  }
}

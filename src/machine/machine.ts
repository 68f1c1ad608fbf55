/**
 * One simulated machine: its buffer, the views into it, and the model parts
 * built over those views (memory, page allocator, swiotlb, IOMMU). A machine
 * is reset between programs instead of rebuilt; reset costs what the last
 * program touched, not the size of RAM.
 */
import { deriveFacts, type MachineConfig, type MachineFacts } from './config.js';
import { allocateMachineBuffer, viewsOver, Reg, type MachineViews } from './layout.js';
import { Memory } from './memory.js';
import { PageAllocator } from './page-allocator.js';
import { DEFAULT_COSTS, type CostTable } from './cost.js';
import { Swiotlb } from '../dma/swiotlb.js';
import { PageTables } from '../iommu/page-table.js';
import { Iotlb } from '../iommu/iotlb.js';
import { IovaAllocator } from '../iommu/iova.js';
import { Domains } from '../iommu/domains.js';
import { Bus } from '../iommu/bus.js';
import { DmaDebug } from '../dma/debug.js';

export class Machine {
  readonly facts: MachineFacts;
  readonly buffer: SharedArrayBuffer;
  readonly v: MachineViews;
  readonly mem: Memory;
  readonly pages: PageAllocator;
  readonly swiotlb: Swiotlb;
  readonly tables: PageTables;
  readonly iotlb: Iotlb;
  readonly iova: IovaAllocator;
  readonly domains: Domains;
  readonly bus: Bus;
  readonly debug: DmaDebug;

  constructor(
    readonly cfg: MachineConfig,
    readonly costs: CostTable = DEFAULT_COSTS,
    buffer?: SharedArrayBuffer,
  ) {
    this.facts = deriveFacts(cfg);
    this.buffer = buffer ?? allocateMachineBuffer(cfg, this.facts);
    this.v = viewsOver(this.buffer, cfg, this.facts);
    this.mem = new Memory(this.v, cfg);
    this.pages = new PageAllocator(this.v, cfg);
    this.swiotlb = new Swiotlb(this.v, this.mem, cfg, this.facts);
    this.tables = new PageTables(this.v);
    this.iotlb = new Iotlb(this.v);
    this.iova = new IovaAllocator(this.v);
    this.domains = new Domains(this.v, this.tables, this.iotlb, this.iova);
    this.bus = new Bus(this.v, this.mem, this.domains, this.tables, this.iotlb, this.facts.ramTop, costs);
    this.debug = new DmaDebug(this.v);
    this.firstBoot();
  }

  /** Back to a pristine machine (same config). */
  reset(): void {
    this.mem.reset();
    this.pages.reset();
    this.swiotlb.reset();
    this.tables.reset();
    this.iotlb.reset();
    this.iova.reset();
    this.domains.reset();
    const v = this.v;
    v.devFlags.fill(0, 0, v.regs[Reg.deviceCount]!);
    v.regs[Reg.deviceCount] = 0;
    this.debug.reset();
    v.regs[Reg.faultCount] = 0;
    v.events[0] = 0;
  }

  private firstBoot(): void {
    this.v.regs[Reg.slotDirtyHi] = this.swiotlb.slots;
    this.tables.reset(); // builds the free stack before anything allocates
    this.debug.init();
    this.reset();
    this.pages.reserve(this.swiotlb.start, this.cfg.swiotlbBytes);
  }
}

/**
 * The DMA-mapping layer's entry points (kernel/dma/mapping.c): the calls a
 * driver makes. Every call that moves or places memory goes through `route`,
 * the one place the bypass policy is consulted; dma-direct, swiotlb and the
 * IOMMU path below it know nothing about policies. Results come back as
 * return values (handles, error codes) plus the reused `out` record of what
 * the call did.
 */
import type { Direction } from '../program/ast.js';
import type { Machine } from '../machine/machine.js';
import { BYPASS_WINDOW_BASE } from '../machine/config.js';
import { DEVICES_MAX, Reg } from '../machine/layout.js';
import { DomainType, IDENTITY_DOMAIN, NO_DOMAIN } from '../iommu/domains.js';
import { budget, ModelPanic } from '../util/assert.js';
import type { BypassPolicy, CallKind, DomainChange, Path, PolicyDevice, PolicyFacts } from '../policy/policy.js';
import { CallOutcome } from './outcome.js';
import { DmaDirect } from './direct.js';
import { IommuDma, type Segment } from './iommu-dma.js';
import { DMA_MAPPING_ERROR } from './debug.js';
import { Ev, mark } from '../machine/events.js';

export const EIO = -5;
/** Masks below this cannot reach the top of ZONE_DMA (x86 zone_dma_bits = 24). */
export const MIN_MASK_BITS = 24;
/** A new PCI-like device starts with 32-bit streaming and coherent masks. */
export const DEFAULT_MASK_BITS = 32;

const FLAG_PRESENT = 1;
const FLAG_NOMASK = 2;
const FLAG_BOUND = 4;

export class DmaLayer {
  readonly out = new CallOutcome();
  private readonly direct: DmaDirect;
  private readonly iommu: IommuDma;
  private readonly facts: PolicyFacts;

  constructor(
    readonly m: Machine,
    readonly policy: BypassPolicy,
  ) {
    this.direct = new DmaDirect(m, this.out);
    this.iommu = new IommuDma(m, this.out);
    this.facts = {
      requiredMaskBits: m.facts.requiredMaskBits,
      windowRequiredMaskBits: m.facts.windowRequiredMaskBits,
    };
  }

  // ---- devices and masks -------------------------------------------------

  /** A device appears on the bus (the probe): returns its index. */
  addDevice(widthBits: number, nomask: boolean): number {
    const v = this.m.v;
    const dev = v.regs[Reg.deviceCount]!;
    budget(dev < DEVICES_MAX, `more than ${DEVICES_MAX} devices`);
    v.regs[Reg.deviceCount] = dev + 1;
    v.devWidth[dev] = widthBits;
    v.devFlags[dev] = FLAG_PRESENT | FLAG_BOUND | (nomask ? FLAG_NOMASK : 0);
    v.devMaskBits[dev] = nomask ? 0 : DEFAULT_MASK_BITS;
    v.devCoherentBits[dev] = nomask ? 0 : DEFAULT_MASK_BITS;
    v.devDomain[dev] = NO_DOMAIN;
    v.devPolicyState[dev] = 0;
    this.out.clear();
    if (!nomask) this.apply(dev, this.policy.probe(this.view(dev), this.facts));
    return dev;
  }

  isNomask(dev: number): boolean {
    return (this.m.v.devFlags[dev]! & FLAG_NOMASK) !== 0;
  }
  isBound(dev: number): boolean {
    return (this.m.v.devFlags[dev]! & FLAG_BOUND) !== 0;
  }
  widthBits(dev: number): number {
    return this.m.v.devWidth[dev]!;
  }
  maskBits(dev: number): number {
    return this.m.v.devMaskBits[dev]!;
  }
  coherentBits(dev: number): number {
    return this.m.v.devCoherentBits[dev]!;
  }
  /** The device's domain in words, for traces: "identity", "translated #3", "none". */
  domainName(dev: number): string {
    const d = this.m.v.devDomain[dev]!;
    if (d === NO_DOMAIN) return 'none';
    if (d === IDENTITY_DOMAIN) return 'identity';
    return `translated #${this.m.domains.serial(d)}${this.m.domains.hasWindow(d) ? ' (with bypass window)' : ''}`;
  }
  /** Identity of the device's current domain (changes when a fresh one is attached). */
  domainSerial(dev: number): number {
    const d = this.m.v.devDomain[dev]!;
    return d < 0 ? -1 : this.m.domains.serial(d);
  }

  /** dma_set_mask (coherent=false) or dma_set_coherent_mask (coherent=true): 0 or -EIO. */
  setMask(dev: number, bits: number, coherent: boolean): number {
    this.out.clear();
    if (this.isNomask(dev) || bits < MIN_MASK_BITS) return EIO;
    if (coherent) this.m.v.devCoherentBits[dev] = bits;
    else this.m.v.devMaskBits[dev] = bits;
    this.apply(dev, this.policy.maskChanged(this.view(dev), this.facts));
    return 0;
  }

  // ---- coherent memory ---------------------------------------------------

  /** dma_alloc_coherent: the handle, or undefined (NULL); the CPU side is `lastPhys`. */
  lastPhys = -1;
  allocCoherent(dev: number, size: number): bigint | undefined {
    this.out.clear();
    this.lastPhys = -1;
    if (this.isNomask(dev)) return undefined;
    const bits = this.coherentBits(dev);
    if (this.route('alloc', dev) === 'direct') {
      const offset = this.dmaOffset(dev);
      const phys = this.direct.alloc(size, bits, offset);
      if (phys < 0) return undefined;
      this.lastPhys = phys;
      return BigInt(phys) + offset;
    }
    const r = this.iommu.alloc(this.domainOf(dev), size, bits);
    if (!r) return undefined;
    this.lastPhys = r.phys;
    return r.handle;
  }

  /** dma_free_coherent(dev, size, cpu_addr, handle). */
  freeCoherent(dev: number, handle: bigint, cpuPhys: number, size: number): void {
    this.out.clear();
    if (this.isNomask(dev)) return;
    if (this.route('free', dev) === 'direct') this.direct.free(handle, cpuPhys, size, this.dmaOffset(dev));
    else this.iommu.free(this.domainOf(dev), handle, cpuPhys);
  }

  // ---- streaming mappings ------------------------------------------------

  /** dma_map_single / dma_map_page: a handle, or DMA_MAPPING_ERROR. */
  map(dev: number, phys: number, len: number, dir: Direction): bigint {
    this.out.clear();
    if (this.isNomask(dev)) return DMA_MAPPING_ERROR;
    if (this.route('map', dev) === 'direct') return this.direct.map(phys, len, dir, this.maskBits(dev), this.dmaOffset(dev));
    return this.iommu.map(this.domainOf(dev), phys, len, dir, this.maskBits(dev));
  }

  unmap(dev: number, handle: bigint, len: number, dir: Direction): void {
    this.out.clear();
    if (this.isNomask(dev)) return;
    if (this.route('unmap', dev) === 'direct') this.direct.unmap(handle, len, dir, this.dmaOffset(dev));
    else this.iommu.unmap(this.domainOf(dev), handle, 'unmap');
  }

  /** dma_map_sg: the DMA segments (fewer than the entries when merged); none on failure. */
  mapSg(dev: number, ents: ReadonlyArray<{ phys: number; len: number }>, dir: Direction): Segment[] {
    this.out.clear();
    if (this.isNomask(dev)) return [];
    if (this.route('map', dev) === 'iommu') return this.iommu.mapSg(this.domainOf(dev), ents, dir, this.maskBits(dev));
    // dma_direct_map_sg: each entry on its own; on a failure, undo the ones done and return 0
    const segs: Segment[] = [];
    const offset = this.dmaOffset(dev);
    let bounced = false;
    for (const e of ents) {
      const h = this.direct.map(e.phys, e.len, dir, this.maskBits(dev), offset);
      bounced ||= this.out.path === 'bounce';
      if (h === DMA_MAPPING_ERROR) {
        for (let i = 0; i < segs.length; i++) this.direct.unmap(segs[i]!.handle, segs[i]!.len, 'to_device', offset);
        return [];
      }
      segs.push({ handle: h, len: e.len });
    }
    this.out.path = bounced ? 'bounce' : 'direct';
    return segs;
  }

  /** dma_unmap_sg with the original list; `segs` are the DMA segments the map returned. */
  unmapSg(dev: number, segs: readonly Segment[], dir: Direction): void {
    this.out.clear();
    if (this.isNomask(dev) || segs.length === 0) return;
    if (this.route('unmap', dev) === 'iommu') {
      this.iommu.unmap(this.domainOf(dev), segs[0]!.handle, 'unmap_sg');
      return;
    }
    const offset = this.dmaOffset(dev);
    let bounced = false;
    for (const s of segs) {
      this.direct.unmap(s.handle, s.len, dir, offset);
      bounced ||= this.out.path === 'bounce';
      if (this.out.layerError) return;
    }
    this.out.path = bounced ? 'bounce' : 'direct';
  }

  /** dma_sync_single_for_{cpu,device} (and the range form) on [handle+off, +len). */
  sync(dev: number, handle: bigint, off: number, len: number, dir: Direction, forCpu: boolean): void {
    this.out.clear();
    if (this.isNomask(dev)) return;
    if (this.route('sync', dev) === 'direct') this.direct.sync(handle, off, len, dir, forCpu, this.dmaOffset(dev));
    else this.iommu.sync(this.domainOf(dev), handle);
  }

  /** The 10 ms flush-queue timer: lazy unmaps become final. */
  tick(): void {
    this.out.clear();
    const released = this.m.domains.flushAll();
    if (released > 0) this.out.costNs += this.m.costs.fqFlushNs;
  }

  /** Driver unbind. The device keeps its domain (the next driver would get it). */
  unbind(dev: number): void {
    this.out.clear();
    this.m.v.devFlags[dev] = this.m.v.devFlags[dev]! & ~FLAG_BOUND;
  }

  // ---- the one dispatch point ---------------------------------------------

  /** Asks the policy which path this call takes, applying any domain change first. */
  private route(call: CallKind, dev: number): Path {
    const decision = this.policy.route(call, this.view(dev), this.facts);
    if (decision === null || typeof decision !== 'object' || (decision.path !== 'direct' && decision.path !== 'iommu')) {
      throw new ModelPanic(`policy '${this.policy.name}' returned ${JSON.stringify(decision)} for ${call}; expected { path: 'direct' | 'iommu' }`);
    }
    this.apply(dev, decision);
    return decision.path;
  }

  private apply(dev: number, change: DomainChange): void {
    if (change.state !== undefined) this.m.v.devPolicyState[dev] = change.state | 0;
    if (change.attach === undefined) return;
    const before = this.domainName(dev);
    switch (change.attach) {
      case 'none':
        this.m.domains.attach(dev, NO_DOMAIN);
        break;
      case 'identity':
        this.m.domains.attach(dev, IDENTITY_DOMAIN);
        break;
      case 'fresh-translated':
      case 'fresh-translated-window':
        this.m.domains.attach(dev, this.m.domains.createTranslated(change.attach === 'fresh-translated-window'));
        break;
      default:
        throw new ModelPanic(`policy '${this.policy.name}' asked for unknown domain '${String(change.attach)}'`);
    }
    const after = this.domainName(dev);
    if (before !== after) {
      mark(this.m.v, Ev.DomainChange);
      this.out.domainChange = `domain ${before} -> ${after}`;
    }
  }

  /** What a policy sees of the device: one object, refilled for every question (valid during the call only). */
  private readonly deviceView: { -readonly [K in keyof PolicyDevice]: PolicyDevice[K] } = { maskBits: 0, coherentBits: 0, domain: 'none', window: false, state: 0 };

  private view(dev: number): PolicyDevice {
    const d = this.domainOf(dev);
    const type = this.m.domains.type(d);
    const v = this.deviceView;
    v.maskBits = this.maskBits(dev);
    v.coherentBits = this.coherentBits(dev);
    v.domain = d === NO_DOMAIN ? 'none' : type === DomainType.Identity ? 'identity' : 'translated';
    v.window = this.m.domains.hasWindow(d);
    v.state = this.m.v.devPolicyState[dev]!;
    return v;
  }

  private domainOf(dev: number): number {
    return this.m.v.devDomain[dev]!;
  }

  /** dma-direct through the bypass window adds 2^59; otherwise bus = physical. */
  dmaOffset(dev: number): bigint {
    return this.m.domains.hasWindow(this.domainOf(dev)) ? BYPASS_WINDOW_BASE : 0n;
  }
}

export { DMA_MAPPING_ERROR, type Segment };

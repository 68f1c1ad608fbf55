/**
 * dma-direct (kernel/dma/direct.c, 5.4): bus address = physical address plus
 * the device's DMA offset (2^59 when it goes through the bypass window).
 * Streaming maps that the mask cannot reach bounce through swiotlb; unmap and
 * sync find bounced mappings by their address alone. Coherent allocations
 * come from the zone the coherent mask can reach, never from swiotlb.
 */
import type { Direction } from '../program/ast.js';
import type { Machine } from '../machine/machine.js';
import { ExtentKind, zoneForMaskBits } from '../machine/page-allocator.js';
import { ZONES } from '../program/ast.js';
import { bitMask, fitsMask, hex, sumAbove } from '../util/numbers.js';
import { SWIOTLB_SLOT_BYTES } from '../machine/config.js';
import type { CallOutcome } from './outcome.js';
import { DMA_MAPPING_ERROR } from './debug.js';
import { Ev, mark } from '../machine/events.js';

export class DmaDirect {
  constructor(
    private readonly m: Machine,
    private readonly out: CallOutcome,
  ) {}

  /** dma_direct_map_page; returns the handle or DMA_MAPPING_ERROR. */
  map(phys: number, len: number, dir: Direction, maskBits: number, offset: bigint): bigint {
    const c = this.m.costs;
    const dma = offset === 0n ? BigInt(phys) : BigInt(phys) + offset; // one bigint fewer off the bypass window
    this.out.costNs += c.directMapNs;
    if (fitsMask(dma, len, maskBits)) {
      this.out.path = 'direct';
      return dma;
    }
    this.out.path = 'bounce';
    const sw = this.m.swiotlb;
    const bounce = sw.map(phys, len, dir);
    if (bounce < 0) {
      this.out.log.push(
        `swiotlb buffer is full (sz: ${len} bytes), total ${sw.slots} (slots), used ${sw.usedSlots()} (slots)`,
        `overflow ${hex(dma)}+${len} of DMA mask ${bitMask(maskBits).toString(16)} bus mask 0`,
      );
      return DMA_MAPPING_ERROR;
    }
    this.out.costNs += c.swiotlbAllocNs + copyCost(dir !== 'from_device' || this.m.cfg.swiotlbMapCopy === 'always', len, c.swiotlbCopyPerByteNs);
    const handle = BigInt(bounce) + offset;
    if (!fitsMask(handle, len, maskBits)) {
      // the pool itself is out of reach (tiny mask, or a DMA offset): release and fail
      sw.unmap(bounce, 'to_device');
      this.out.log.push(`overflow ${hex(handle)}+${len} of DMA mask ${bitMask(maskBits).toString(16)} bus mask 0`);
      return DMA_MAPPING_ERROR;
    }
    return handle;
  }

  /**
   * dma_direct_unmap_page. The handle must translate back to RAM (or to a
   * live bounce slot); a handle that does not is one dma-direct never handed
   * out, e.g. an IOVA: the layer cannot find it.
   */
  unmap(handle: bigint, len: number, dir: Direction, offset: bigint): void {
    this.out.costNs += this.m.costs.directUnmapNs;
    const phys = this.toPhys(handle, offset, len, 'unmap');
    if (phys < 0) return;
    const sw = this.m.swiotlb;
    if (sw.contains(phys)) {
      this.out.path = 'bounce';
      if (sw.mappedBytes(phys) < 0) {
        mark(this.m.v, Ev.DirectHandleMismatch);
        this.out.layerError = `dma-direct: unmap of ${hex(handle)}: inside the swiotlb pool but no bounce mapping starts there`;
        return;
      }
      this.out.costNs += this.m.costs.swiotlbFreeNs + copyCost(dir !== 'to_device', sw.mappedBytes(phys), this.m.costs.swiotlbCopyPerByteNs);
      sw.unmap(phys, dir);
      return;
    }
    this.out.path = 'direct';
  }

  /** dma_direct_sync_single_for_{cpu,device}: only bounced mappings move data. */
  sync(handle: bigint, off: number, len: number, dir: Direction, forCpu: boolean, offset: bigint): void {
    const phys = this.toPhys(handle, offset, len, 'sync');
    if (phys < 0) return;
    const sw = this.m.swiotlb;
    if (!sw.contains(phys)) {
      this.out.path = 'direct';
      return;
    }
    this.out.path = 'bounce';
    if (sw.origOf(phys) < 0) {
      mark(this.m.v, Ev.DirectHandleMismatch);
      this.out.layerError = `dma-direct: sync of ${hex(handle)}: inside the swiotlb pool but not a live bounce mapping`;
      return;
    }
    const moves = forCpu ? dir !== 'to_device' : dir !== 'from_device';
    this.out.costNs += copyCost(moves, len, this.m.costs.swiotlbCopyPerByteNs);
    if (forCpu) sw.syncForCpu(phys + off, len, dir);
    else sw.syncForDevice(phys + off, len, dir);
  }

  /**
   * dma_direct_alloc_pages: zone from the coherent mask; if the pages land
   * out of reach, retry in DMA32 then DMA. Returns the physical address
   * (-1 on failure); the handle is phys + offset.
   */
  alloc(size: number, coherentBits: number, offset: bigint): number {
    const c = this.m.costs;
    this.out.path = 'direct';
    this.out.costNs += c.pageAllocNs + c.directMapNs;
    // with a DMA offset the mask is judged on bus addresses; the zone choice uses what is left for physical ones
    const physBits = offset === 0n ? coherentBits : physBitsBelow(coherentBits, offset);
    let zoneIndex = ZONES.indexOf(zoneForMaskBits(physBits));
    for (; zoneIndex >= 0; zoneIndex--) {
      const phys = this.m.pages.alloc(size, ZONES[zoneIndex]!, ExtentKind.Coherent);
      if (phys < 0) continue;
      if (fitsMask(BigInt(phys) + offset, size, coherentBits)) {
        this.m.mem.zero(phys, size);
        return phys;
      }
      this.m.pages.free(phys);
    }
    return -1;
  }

  /** dma_direct_free_pages: the handle must translate back to the buffer being freed. */
  free(handle: bigint, cpuPhys: number, size: number, offset: bigint): void {
    this.out.path = 'direct';
    this.out.costNs += this.m.costs.directUnmapNs;
    const phys = handle - offset;
    if (phys !== BigInt(cpuPhys)) {
      mark(this.m.v, Ev.DirectHandleMismatch);
      this.out.layerError = `dma-direct: free_coherent of handle ${hex(handle)}: it does not translate back to the buffer (${hex(phys < 0n ? phys + (1n << 64n) : phys)} is not its physical address ${hex(cpuPhys)}); the handle came from another path`;
      return;
    }
    this.m.pages.free(cpuPhys);
    void size;
  }

  /** dma_to_phys with a check that the result is memory dma-direct could have mapped. */
  private toPhys(handle: bigint, offset: bigint, len: number, what: string): number {
    const phys = offset === 0n ? handle : handle - offset;
    if (phys < 0n || sumAbove(phys, len, this.m.facts.ramTop) || !this.m.mem.isRam(Number(phys), Math.max(1, len))) {
      this.out.path = 'direct';
      mark(this.m.v, Ev.DirectHandleMismatch);
      this.out.layerError = `dma-direct: ${what} of ${hex(handle)}: not an address dma-direct hands out (no RAM at ${phys < 0n ? 'a negative physical address' : hex(phys)}); the handle came from another path`;
      return -1;
    }
    return Number(phys);
  }
}

/** Width of the physical range a bus mask still covers once the DMA offset is taken off (0: none). */
function physBitsBelow(maskBits: number, offset: bigint): number {
  const limit = bitMask(maskBits) - offset;
  return limit < 0n ? 0 : limit.toString(2).length;
}

function copyCost(copies: boolean, bytes: number, perByte: number): number {
  return copies ? bytes * perByte : 0;
}

export { SWIOTLB_SLOT_BYTES };

/**
 * swiotlb: the bounce pool that dma-direct falls back to when a buffer lies
 * above what the device can address. 2 KiB slots; a mapping never crosses a
 * 128-slot segment (so at most 256 KiB); next-fit search from a rotating
 * cursor, page-aligned for mappings of a page or more; a full pool fails the
 * map, it never waits. Data moves only at map / sync / unmap, by direction
 * (linux-dma-reference.md section 2.6), and `swiotlb_map_copy` picks the 5.4
 * or 5.18+ rule for what a from_device map copies.
 */
import type { Direction } from '../program/ast.js';
import { SWIOTLB_SEGMENT_SLOTS, SWIOTLB_SLOT_BYTES, type MachineConfig, type MachineFacts } from '../machine/config.js';
import { Reg, type MachineViews } from '../machine/layout.js';
import type { Memory } from '../machine/memory.js';
import { assert } from '../util/assert.js';
import { Ev, mark } from '../machine/events.js';

export const SWIOTLB_MAX_MAPPING_BYTES = SWIOTLB_SLOT_BYTES * SWIOTLB_SEGMENT_SLOTS;

export class Swiotlb {
  readonly start: number;
  readonly slots: number;
  private readonly pageSlots: number;

  private readonly v: MachineViews;

  constructor(
    v: MachineViews,
    private readonly mem: Memory,
    private readonly cfg: MachineConfig,
    facts: MachineFacts,
  ) {
    this.start = facts.swiotlbStart;
    this.slots = facts.swiotlbSlots;
    this.pageSlots = Math.max(1, cfg.pageBytes / SWIOTLB_SLOT_BYTES);
    this.v = v;
    v.slotOrig.fill(-1);
  }

  get end(): number {
    return this.start + this.slots * SWIOTLB_SLOT_BYTES;
  }

  /** is_swiotlb_buffer: unmap and sync decide "was this bounced?" from the address alone. */
  contains(phys: number): boolean {
    return phys >= this.start && phys < this.end;
  }

  usedSlots(): number {
    return this.v.regs[Reg.slotUsed]!;
  }

  /**
   * swiotlb_tbl_map_single + the map-time copy. Returns the bounce address,
   * or -1 when the pool has no room (or the mapping is over 256 KiB).
   */
  map(orig: number, bytes: number, dir: Direction): number {
    // a zero-length bounce is refused: a mapping's first slot records its (non-zero) size
    if (bytes <= 0) return -1;
    const need = Math.ceil(bytes / SWIOTLB_SLOT_BYTES);
    if (need > SWIOTLB_SEGMENT_SLOTS || need > this.slots - this.usedSlots()) return this.full();
    const first = this.findFree(need, bytes >= this.cfg.pageBytes ? this.pageSlots : 1);
    if (first < 0) return this.full();
    const v = this.v;
    mark(v, Ev.Bounce);
    for (let i = 0; i < need; i++) v.slotOrig[first + i] = orig + i * SWIOTLB_SLOT_BYTES;
    v.slotMapBytes[first] = bytes;
    v.regs[Reg.slotUsed] = this.usedSlots() + need;
    v.regs[Reg.slotCursor] = (first + need) % this.slots;
    v.regs[Reg.slotDirtyLo] = Math.min(v.regs[Reg.slotDirtyLo]!, first);
    v.regs[Reg.slotDirtyHi] = Math.max(v.regs[Reg.slotDirtyHi]!, first + need);
    const bounce = this.start + first * SWIOTLB_SLOT_BYTES;
    if (dir !== 'from_device' || this.cfg.swiotlbMapCopy === 'always') this.copy(bounce, orig, bytes);
    return bounce;
  }

  /** Bytes mapped at a bounce address that starts a mapping, or -1 if none does. */
  mappedBytes(bounce: number): number {
    const slot = this.slotOf(bounce);
    // only the first slot of a mapping records its size: an address inside a mapping starts none
    if (slot < 0 || (bounce - this.start) % SWIOTLB_SLOT_BYTES !== 0 || this.v.slotOrig[slot]! < 0 || this.v.slotMapBytes[slot]! <= 0) return -1;
    return this.v.slotMapBytes[slot]!;
  }

  /** Original address behind a bounce address (any byte inside a mapping), or -1. */
  origOf(bounce: number): number {
    const slot = this.slotOf(bounce);
    if (slot < 0 || this.v.slotOrig[slot]! < 0) return -1;
    return this.v.slotOrig[slot]! + ((bounce - this.start) % SWIOTLB_SLOT_BYTES);
  }

  /** sync_single_for_device on [bounce, bounce+bytes): orig -> bounce for to_device/bidirectional. */
  syncForDevice(bounce: number, bytes: number, dir: Direction): void {
    if (dir === 'from_device') return;
    this.copy(bounce, this.origOrDie(bounce), bytes);
  }

  /** sync_single_for_cpu: bounce -> orig for from_device/bidirectional. */
  syncForCpu(bounce: number, bytes: number, dir: Direction): void {
    if (dir === 'to_device') return;
    this.copy(this.origOrDie(bounce), bounce, bytes);
  }

  /** swiotlb_tbl_unmap_single: the final copy back, then the slots are free again. */
  unmap(bounce: number, dir: Direction): void {
    const bytes = this.mappedBytes(bounce);
    if (!(bytes >= 0)) assert(false, `swiotlb unmap of ${bounce} which starts no mapping`); // message built only on failure
    this.syncForCpu(bounce, bytes, dir);
    const first = this.slotOf(bounce);
    const count = Math.max(1, Math.ceil(bytes / SWIOTLB_SLOT_BYTES));
    this.v.slotOrig.fill(-1, first, first + count);
    this.v.slotMapBytes[first] = 0;
    this.v.regs[Reg.slotUsed] = this.usedSlots() - count;
  }

  reset(): void {
    const v = this.v;
    const lo = v.regs[Reg.slotDirtyLo]!;
    const hi = v.regs[Reg.slotDirtyHi]!;
    if (hi > lo) {
      v.slotOrig.fill(-1, lo, hi);
      v.slotMapBytes.fill(0, lo, hi);
    }
    v.regs[Reg.slotDirtyLo] = this.slots;
    v.regs[Reg.slotDirtyHi] = 0;
    v.regs[Reg.slotUsed] = 0;
    v.regs[Reg.slotCursor] = 0;
  }

  private slotOf(phys: number): number {
    return this.contains(phys) ? Math.floor((phys - this.start) / SWIOTLB_SLOT_BYTES) : -1;
  }

  private copy(dst: number, src: number, bytes: number): void {
    mark(this.v, Ev.BounceCopy);
    this.mem.copy(dst, src, bytes);
  }

  private full(): number {
    mark(this.v, Ev.SwiotlbFull);
    return -1;
  }

  private origOrDie(bounce: number): number {
    const orig = this.origOf(bounce);
    if (!(orig >= 0)) assert(false, `swiotlb sync of ${bounce} which is not mapped`); // message built only on failure
    return orig;
  }

  /** Next-fit from the cursor, `stride`-aligned, never crossing a segment; wraps once. */
  private findFree(need: number, stride: number): number {
    const v = this.v;
    const cursor = v.regs[Reg.slotCursor]!;
    let start = Math.ceil(cursor / stride) * stride;
    for (let tried = 0; tried < this.slots; tried += stride, start += stride) {
      if (start + need > this.slots) {
        start = 0;
      }
      const segEnd = (Math.floor(start / SWIOTLB_SEGMENT_SLOTS) + 1) * SWIOTLB_SEGMENT_SLOTS;
      if (start + need > segEnd) continue;
      let ok = true;
      for (let i = 0; i < need; i++) {
        if (v.slotOrig[start + i]! >= 0) {
          ok = false;
          break;
        }
      }
      if (ok) return start;
    }
    return -1;
  }
}

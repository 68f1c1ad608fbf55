/**
 * Simulated RAM, backed sparsely: gigabytes of physical address space, real
 * bytes only for pages somebody wrote. An unbacked page reads as zeros. The
 * page -> frame map is an open-addressing hash in the machine buffer, and
 * reset clears only the slots touched since the last reset.
 */
import type { MachineConfig } from './config.js';
import { Reg, type MachineViews } from './layout.js';
import { assert, budget } from '../util/assert.js';

export class Memory {
  private readonly pageBytes: number;
  private readonly pageShift: number;
  private readonly hashMask: number;
  private readonly ranges: ReadonlyArray<{ start: number; end: number }>;
  private readonly v: MachineViews;
  /** frameBytes as 32-bit words, to zero a fresh frame (fill on a shared buffer goes element by element: 4x fewer elements) */
  private readonly frameWords: Int32Array;

  constructor(v: MachineViews, cfg: MachineConfig) {
    this.v = v; // a fast-properties object: viewsOver makes it one
    this.pageBytes = cfg.pageBytes;
    this.pageShift = Math.log2(cfg.pageBytes);
    this.hashMask = v.pageHashKey.length - 1;
    assert(v.frameBytes.byteOffset % 4 === 0, 'frame bytes not word-aligned');
    this.frameWords = new Int32Array(v.frameBytes.buffer, v.frameBytes.byteOffset, v.frameBytes.length >> 2);
    this.ranges = cfg.ram;
  }

  /** Is every byte of [phys, phys+len) RAM? (non-RAM is holes and MMIO) */
  isRam(phys: number, len: number): boolean {
    for (const r of this.ranges) {
      if (phys >= r.start && phys + len <= r.end) return true;
    }
    return false;
  }

  read(phys: number, dst: Uint8Array): void {
    this.readInto(phys, dst, 0, dst.length);
  }

  write(phys: number, src: Uint8Array): void {
    this.writeFrom(phys, src, 0, src.length);
  }

  /**
   * Reads [phys, phys+len) into dst[dstOff, dstOff+len): `read` without a
   * subarray view per call (the bus reads each translated chunk this way).
   */
  readInto(phys: number, dst: Uint8Array, dstOff: number, len: number): void {
    this.checkAccess(phys, len);
    // The page loops are written out in each method rather than shared
    // through a callback: these run for every CPU and device access, and a
    // closure per call cost more than the copying.
    const frames = this.v.frameBytes;
    const pageBytes = this.pageBytes;
    let done = 0;
    while (done < len) {
      const addr = phys + done;
      const pfn = Math.floor(addr / pageBytes);
      const pageOff = addr - pfn * pageBytes;
      const n = Math.min(len - done, pageBytes - pageOff);
      const frame = this.lookup(pfn, false);
      if (frame < 0) dst.fill(0, dstOff + done, dstOff + done + n);
      else copyBytes(frames, (frame << this.pageShift) + pageOff, dst, dstOff + done, n);
      done += n;
    }
  }

  /** Writes src[srcOff, srcOff+len) at [phys, phys+len), backing pages as needed. */
  writeFrom(phys: number, src: Uint8Array, srcOff: number, len: number): void {
    this.checkAccess(phys, len);
    const frames = this.v.frameBytes;
    const pageBytes = this.pageBytes;
    let done = 0;
    while (done < len) {
      const addr = phys + done;
      const pfn = Math.floor(addr / pageBytes);
      const pageOff = addr - pfn * pageBytes;
      const n = Math.min(len - done, pageBytes - pageOff);
      const frame = this.lookup(pfn, true);
      copyBytes(src, srcOff + done, frames, (frame << this.pageShift) + pageOff, n);
      done += n;
    }
  }

  zero(phys: number, len: number): void {
    this.checkAccess(phys, len);
    const frames = this.v.frameBytes;
    const pageBytes = this.pageBytes;
    let done = 0;
    while (done < len) {
      const addr = phys + done;
      const pfn = Math.floor(addr / pageBytes);
      const pageOff = addr - pfn * pageBytes;
      const n = Math.min(len - done, pageBytes - pageOff);
      const frame = this.lookup(pfn, false);
      if (frame >= 0) {
        const at = (frame << this.pageShift) + pageOff;
        frames.fill(0, at, at + n);
      }
      done += n;
    }
  }

  /** memcpy inside RAM (swiotlb bouncing); regions must not overlap. */
  copy(dstPhys: number, srcPhys: number, len: number): void {
    if (len === 0) return;
    if (!(len > 0 && Number.isSafeInteger(len)) || (srcPhys < dstPhys + len && dstPhys < srcPhys + len)) {
      // overlapping regions (not expected), or a length no buffer can have
      // (the allocation throws): read everything first, as memmove
      const tmp = new Uint8Array(len);
      this.read(srcPhys, tmp);
      this.write(dstPhys, tmp);
      return;
    }
    // Frame to frame, without a temporary buffer (every bounce copies). The
    // result is the same as reading all of src then writing all of dst: the
    // source is never backed, destination pages are backed in the same
    // ascending order, and a page backed for the destination before a later
    // piece of the source is read from it holds zeros there, as an unbacked
    // page reads.
    this.checkAccess(srcPhys, len);
    this.checkAccess(dstPhys, len);
    const frames = this.v.frameBytes;
    const pageBytes = this.pageBytes;
    let done = 0;
    while (done < len) {
      const src = srcPhys + done;
      const dst = dstPhys + done;
      const srcPfn = Math.floor(src / pageBytes);
      const dstPfn = Math.floor(dst / pageBytes);
      const srcOff = src - srcPfn * pageBytes;
      const dstOff = dst - dstPfn * pageBytes;
      const n = Math.min(len - done, pageBytes - srcOff, pageBytes - dstOff);
      const srcFrame = this.lookup(srcPfn, false);
      const to = (this.lookup(dstPfn, true) << this.pageShift) + dstOff;
      if (srcFrame < 0) frames.fill(0, to, to + n);
      else frames.copyWithin(to, (srcFrame << this.pageShift) + srcOff, (srcFrame << this.pageShift) + srcOff + n);
      done += n;
    }
  }

  /** Forget every backed page touched since the last reset. */
  reset(): void {
    const v = this.v;
    const n = v.regs[Reg.touchedCount]!;
    for (let i = 0; i < n; i++) {
      const slot = v.touchedSlots[i]!;
      v.pageHashKey[slot] = 0;
    }
    v.regs[Reg.touchedCount] = 0;
    v.regs[Reg.framesUsed] = 0;
  }

  /** Number of pages that hold real bytes (for tests and stats). */
  backedPages(): number {
    return this.v.regs[Reg.framesUsed]!;
  }

  private checkAccess(phys: number, len: number): void {
    // the message is only built on failure: a template argument would be built on every access
    if (!(phys >= 0 && Number.isSafeInteger(phys) && phys + len <= 2 ** 53)) assert(false, `bad physical access ${phys}+${len}`);
  }

  /** Frame index of a page, or -1; with `back`, gives a fresh zeroed frame. */
  private lookup(pfn: number, back: boolean): number {
    const v = this.v;
    const key = pfn + 1;
    let slot = (Math.imul(pfn | 0, 0x9e3779b1) ^ Math.floor(pfn / 2 ** 32)) & this.hashMask;
    for (;;) {
      const k = v.pageHashKey[slot]!;
      if (k === key) return v.pageHashFrame[slot]!;
      if (k === 0) break;
      slot = (slot + 1) & this.hashMask;
    }
    if (!back) return -1;
    const used = v.regs[Reg.framesUsed]!;
    budget(used < v.touchedSlots.length, `more than ${v.touchedSlots.length} pages of RAM written`);
    v.pageHashKey[slot] = key;
    v.pageHashFrame[slot] = used;
    // the frame's bytes, zeroed as words (a page is a multiple of 4 bytes)
    this.frameWords.fill(0, used << (this.pageShift - 2), (used + 1) << (this.pageShift - 2));
    v.touchedSlots[v.regs[Reg.touchedCount]!] = slot;
    v.regs[Reg.touchedCount] = v.regs[Reg.touchedCount]! + 1;
    v.regs[Reg.framesUsed] = used + 1;
    return used;
  }
}

/**
 * dst[dstAt, dstAt+n) = src[srcAt, srcAt+n) for distinct arrays. Short
 * copies (a 64-byte device burst) are cheaper as a loop than through a
 * subarray view, longer ones go through set (a memcpy).
 */
function copyBytes(src: Uint8Array, srcAt: number, dst: Uint8Array, dstAt: number, n: number): void {
  if (n <= 64) {
    for (let i = 0; i < n; i++) dst[dstAt + i] = src[srcAt + i]!;
  } else {
    dst.set(src.subarray(srcAt, srcAt + n), dstAt);
  }
}

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

  constructor(
    private readonly v: MachineViews,
    cfg: MachineConfig,
  ) {
    this.pageBytes = cfg.pageBytes;
    this.pageShift = Math.log2(cfg.pageBytes);
    this.hashMask = v.pageHashKey.length - 1;
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
    this.forEachPage(phys, dst.length, (frame, pageOff, done, n) => {
      if (frame < 0) dst.fill(0, done, done + n);
      else dst.set(this.v.frameBytes.subarray(frame + pageOff, frame + pageOff + n), done);
    });
  }

  write(phys: number, src: Uint8Array): void {
    this.forEachPage(
      phys,
      src.length,
      (frame, pageOff, done, n) => this.v.frameBytes.set(src.subarray(done, done + n), frame + pageOff),
      true,
    );
  }

  zero(phys: number, len: number): void {
    this.forEachPage(phys, len, (frame, pageOff, _done, n) => {
      if (frame >= 0) this.v.frameBytes.fill(0, frame + pageOff, frame + pageOff + n);
    });
  }

  /** memcpy inside RAM (swiotlb bouncing); regions must not overlap. */
  copy(dstPhys: number, srcPhys: number, len: number): void {
    if (len === 0) return;
    const tmp = new Uint8Array(len);
    this.read(srcPhys, tmp);
    this.write(dstPhys, tmp);
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

  private forEachPage(
    phys: number,
    len: number,
    fn: (frameByte: number, pageOff: number, done: number, n: number) => void,
    backIfMissing = false,
  ): void {
    assert(phys >= 0 && Number.isSafeInteger(phys) && phys + len <= 2 ** 53, `bad physical access ${phys}+${len}`);
    let done = 0;
    while (done < len) {
      const addr = phys + done;
      const pfn = Math.floor(addr / this.pageBytes);
      const pageOff = addr - pfn * this.pageBytes;
      const n = Math.min(len - done, this.pageBytes - pageOff);
      const frame = this.lookup(pfn, backIfMissing);
      fn(frame < 0 ? -1 : frame << this.pageShift, pageOff, done, n);
      done += n;
    }
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
    v.frameBytes.fill(0, used << this.pageShift, (used + 1) << this.pageShift);
    v.touchedSlots[v.regs[Reg.touchedCount]!] = slot;
    v.regs[Reg.touchedCount] = v.regs[Reg.touchedCount]! + 1;
    v.regs[Reg.framesUsed] = used + 1;
    return used;
  }
}

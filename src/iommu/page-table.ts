/**
 * VT-d second-level page tables: 4 KiB granule, 4 levels of 512 entries
 * (48-bit IOVA). Tables live in the machine buffer's page-table pool; an
 * entry is `target * 4 + W * 2 + R`, where target is the next table's index
 * (non-leaf, always R|W) or the physical frame number (leaf). Empty tables
 * are kept until their domain is freed, as dma-iommu does.
 */
import { PT_ENTRIES, PT_PAGES_MAX, Reg, type MachineViews } from '../machine/layout.js';
import { assert, budget } from '../util/assert.js';

export const IOMMU_PAGE_SHIFT = 12;
export const IOMMU_PAGE_BYTES = 4096;
export const IOVA_WIDTH_BITS = 48;
export const PERM_READ = 1;
export const PERM_WRITE = 2;
const LEVELS = 4;

export class PageTables {
  /** How many table levels the last walk read (for the modelled cost); a field, not a result object, to keep walks allocation-free. */
  lastWalkLevels = 0;

  private readonly v: MachineViews;
  /** the table levels as 32-bit words, for the reset scan (regions are 8-byte aligned; PT_PAGES_MAX is a multiple of 4) */
  private readonly levelWords: Uint32Array;

  constructor(v: MachineViews) {
    this.v = v;
    assert(v.ptLevel.byteOffset % 4 === 0 && v.ptLevel.length % 4 === 0, 'page-table levels not word-aligned');
    this.levelWords = new Uint32Array(v.ptLevel.buffer, v.ptLevel.byteOffset, v.ptLevel.length / 4);
  }

  /** A fresh, empty root table. */
  newRoot(): number {
    return this.allocTable(LEVELS);
  }

  /** Installs npages leaf entries; allocates intermediate tables on the way. Returns tables allocated. */
  map(root: number, iovaPfn: number, pfn: number, perm: number, npages: number): number {
    const entries = this.v.ptEntries;
    let allocated = 0;
    let table = root;
    for (let i = 0; i < npages; i++) {
      const p = iovaPfn + i;
      // Pages after the first that are not at a leaf-table boundary share the
      // previous page's leaf table (same upper index bits, tables already
      // made): skip the walk from the root.
      if (i === 0 || (p & 511) === 0) {
        table = root;
        for (let level = LEVELS; level > 1; level--) {
          const slot = table * PT_ENTRIES + indexAt(p, level);
          let e = entries[slot]!;
          if (e === 0) {
            const child = this.allocTable(level - 1);
            allocated++;
            e = child * 4 + PERM_READ + PERM_WRITE;
            entries[slot] = e;
          }
          table = e >>> 2; // an entry is a u32: the same as Math.floor(e / 4)
        }
      }
      entries[table * PT_ENTRIES + (p & 511)] = (pfn + i) * 4 + perm;
    }
    return allocated;
  }

  /** Clears npages leaf entries; returns how many were present. */
  unmap(root: number, iovaPfn: number, npages: number): number {
    const entries = this.v.ptEntries;
    let cleared = 0;
    let leafTable = -1;
    for (let i = 0; i < npages; i++) {
      const p = iovaPfn + i;
      // as in map: only a page at a leaf-table boundary needs a new walk (unmap allocates nothing)
      if (i === 0 || (p & 511) === 0) leafTable = this.leafTable(root, p);
      if (leafTable < 0) continue;
      const slot = leafTable * PT_ENTRIES + (p & 511);
      if (entries[slot] !== 0) cleared++;
      entries[slot] = 0;
    }
    return cleared;
  }

  /** The leaf entry for an IOVA page (0 = not present). */
  walk(root: number, iovaPfn: number): number {
    const entries = this.v.ptEntries;
    let table = root;
    for (let level = LEVELS; level > 1; level--) {
      const e = entries[table * PT_ENTRIES + indexAt(iovaPfn, level)]!;
      if (e === 0) {
        this.lastWalkLevels = LEVELS - level + 1;
        return 0;
      }
      table = e >>> 2;
    }
    this.lastWalkLevels = LEVELS;
    return entries[table * PT_ENTRIES + (iovaPfn & 511)]!;
  }

  /** Frees a domain's whole tree. */
  freeTree(root: number): void {
    this.freeRecursive(root, LEVELS);
  }

  tablesInUse(): number {
    return this.v.regs[Reg.ptUsed]!;
  }

  reset(): void {
    const v = this.v;
    // Tables in use are exactly those with a non-zero level; zero them and rebuild the stack.
    if (v.regs[Reg.ptUsed]! > 0) this.clearTablesInUse();
    // one copy of the pristine stack instead of a loop run once per program
    v.ptFreeStack.set(PRISTINE_FREE_STACK);
    v.regs[Reg.ptFreeTop] = PT_PAGES_MAX;
    v.regs[Reg.ptUsed] = 0;
  }

  /**
   * Zeroes every table with a non-zero level. The levels are scanned four at
   * a time through a 32-bit view (a reset after every program pays for this
   * scan, so it should cost a few hundred loads, not thousands).
   */
  private clearTablesInUse(): void {
    const levels = this.v.ptLevel;
    const entries = this.v.ptEntries;
    const words = this.levelWords;
    for (let w = 0; w < words.length; w++) {
      if (words[w] === 0) continue;
      for (let t = w * 4; t < w * 4 + 4; t++) {
        if (levels[t] !== 0) {
          entries.fill(0, t * PT_ENTRIES, (t + 1) * PT_ENTRIES);
          levels[t] = 0;
        }
      }
    }
  }

  private leafTable(root: number, iovaPfn: number): number {
    const entries = this.v.ptEntries;
    let table = root;
    for (let level = LEVELS; level > 1; level--) {
      const e = entries[table * PT_ENTRIES + indexAt(iovaPfn, level)]!;
      if (e === 0) return -1;
      table = e >>> 2;
    }
    return table;
  }

  private allocTable(level: number): number {
    const v = this.v;
    const top = v.regs[Reg.ptFreeTop]!;
    budget(top > 0, `more than ${PT_PAGES_MAX} IOMMU page-table pages`);
    const t = v.ptFreeStack[top - 1]!;
    v.regs[Reg.ptFreeTop] = top - 1;
    v.regs[Reg.ptUsed] = v.regs[Reg.ptUsed]! + 1;
    assert(v.ptLevel[t] === 0, 'page-table page handed out twice');
    v.ptLevel[t] = level;
    return t;
  }

  private freeRecursive(table: number, level: number): void {
    const v = this.v;
    if (level > 1) {
      for (let i = 0; i < PT_ENTRIES; i++) {
        const e = v.ptEntries[table * PT_ENTRIES + i]!;
        if (e !== 0) this.freeRecursive(e >>> 2, level - 1);
      }
    }
    v.ptEntries.fill(0, table * PT_ENTRIES, (table + 1) * PT_ENTRIES);
    v.ptLevel[table] = 0;
    const top = v.regs[Reg.ptFreeTop]!;
    v.ptFreeStack[top] = table;
    v.regs[Reg.ptFreeTop] = top + 1;
    v.regs[Reg.ptUsed] = v.regs[Reg.ptUsed]! - 1;
  }
}

/** The free stack after a reset: every table free, table 0 on top. */
const PRISTINE_FREE_STACK = Int32Array.from({ length: PT_PAGES_MAX }, (_, i) => PT_PAGES_MAX - 1 - i);

/**
 * The 9-bit table index of an IOVA page number at a level (1 = leaf).
 * IOVA page numbers are non-negative integers below 2^36. Levels 1-3 take
 * bits below 27, which an int32 shift keeps exactly (the same bits as
 * Math.floor(pfn / 2^k) & 511, without the float division); level 4 takes
 * bits 27-35, beyond 32 bits, so it divides.
 */
function indexAt(iovaPfn: number, level: number): number {
  return level === LEVELS ? Math.floor(iovaPfn / 2 ** 27) & 511 : (iovaPfn >>> (9 * (level - 1))) & 511;
}

/**
 * The machine model below the DMA layer (SPEC section 2): machine words and
 * the facts derived from them (required mask, swiotlb placement), sparse RAM,
 * and the deterministic zone-aware page allocator.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  applyMachineWords,
  DEFAULT_CONFIG,
  deriveFacts,
  MAX_FLUSH_QUEUE,
  type MachineConfig,
} from '../src/machine/config.js';
import { Machine } from '../src/machine/machine.js';
import { Reg } from '../src/machine/layout.js';
import { ExtentKind, zoneForMaskBits, zoneOf } from '../src/machine/page-allocator.js';
import type { MachineWord } from '../src/program/ast.js';
import { UserError } from '../src/util/errors.js';
import { BudgetExceeded } from '../src/util/assert.js';

const K = 2 ** 10;
const M = 2 ** 20;
const G = 2 ** 30;

/** `key=value` strings -> machine words, columns as if written on one `machine` line. */
function words(...kv: string[]): MachineWord[] {
  let column = 9; // after "machine "
  return kv.map((s) => {
    const eq = s.indexOf('=');
    const w = { key: s.slice(0, eq), value: s.slice(eq + 1), column };
    column += s.length + 1;
    return w;
  });
}

function config(...kv: string[]): MachineConfig {
  return applyMachineWords(DEFAULT_CONFIG, words(...kv));
}

function machine(...kv: string[]): Machine {
  return new Machine(config(...kv));
}

/** Asserts a UserError whose message matches `re` and that points at `column`. */
function throwsUserError(fn: () => unknown, re: RegExp, column?: number): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof UserError, `expected a UserError, got ${String(e)}`);
    assert.match(e.message, re);
    if (column !== undefined) assert.equal(e.column, column);
    return true;
  });
}

describe('machine config: applyMachineWords', () => {
  // SPEC 2: the default machine is a PC with 0-2G and 4G-6G, intel-2019, strict, fq 256, 4M swiotlb, 4K pages, 5.18+ copy.
  it('no words gives the documented defaults', () => {
    const c = config();
    assert.deepEqual(c.ram, [
      { start: 0, end: 2 * G },
      { start: 4 * G, end: 6 * G },
    ]);
    assert.equal(c.policy, 'intel-2019');
    assert.equal(c.inval, 'strict');
    assert.equal(c.fq, 256);
    assert.equal(c.swiotlbBytes, 4 * M);
    assert.equal(c.pageBytes, 4096);
    assert.equal(c.swiotlbMapCopy, 'always');
  });

  // SPEC 2: sizes take K/M/G suffixes and 0x hex; every key is parsed into the config.
  it('parses every key, with suffixes and hex', () => {
    const c = config('ram=0x0-0x40000000,4G-0x180000000', 'policy=./p.mjs', 'inval=lazy', 'fq=16', 'swiotlb=512K', 'page=8K', 'swiotlb_map_copy=dir');
    assert.deepEqual(c.ram, [
      { start: 0, end: 1 * G },
      { start: 4 * G, end: 6 * G },
    ]);
    assert.equal(c.policy, './p.mjs');
    assert.equal(c.inval, 'lazy');
    assert.equal(c.fq, 16);
    assert.equal(c.swiotlbBytes, 512 * K);
    assert.equal(c.pageBytes, 8192);
    assert.equal(c.swiotlbMapCopy, 'dir');
  });

  // RAM ranges may be written in any order; the model keeps them sorted.
  it('sorts RAM ranges', () => {
    assert.deepEqual(config('ram=4G-6G,0-1G').ram, [
      { start: 0, end: 1 * G },
      { start: 4 * G, end: 6 * G },
    ]);
  });

  // Words apply over a base and never mutate it (CLI flags win over the program's machine line).
  it('later words win and the base is not mutated', () => {
    const base = config('ram=0-1G', 'inval=lazy');
    const c = applyMachineWords(base, words('inval=strict', 'ram=0-2G'));
    assert.equal(c.inval, 'strict');
    assert.deepEqual(c.ram, [{ start: 0, end: 2 * G }]);
    assert.equal(base.inval, 'lazy');
    assert.deepEqual(base.ram, [{ start: 0, end: 1 * G }]);
    assert.deepEqual(DEFAULT_CONFIG.ram[0], { start: 0, end: 2 * G });
  });

  // Errors are UserErrors that point at the offending word's column.
  it('rejects an unknown key, naming the valid ones, at its column', () => {
    throwsUserError(() => config('inval=strict', 'bogus=1'), /unknown machine key 'bogus' \(expected one of: ram, policy, inval, fq, swiotlb, page, swiotlb_map_copy\)/, 22);
  });

  // Bad values are UserErrors naming what was expected, at the word's column.
  it('rejects bad values at their column', () => {
    throwsUserError(() => config('inval=sometimes'), /expected 'strict' or 'lazy' for inval, got 'sometimes'/, 9);
    throwsUserError(() => config('policy='), /expected a policy name or a path/, 9);
    throwsUserError(() => config('fq=0'), /flush-queue length from 1 to 4096/, 9);
    throwsUserError(() => config(`fq=${MAX_FLUSH_QUEUE + 1}`), /got '4097'/, 9);
    throwsUserError(() => config('fq=lots'), /for fq, got 'lots'/, 9);
    throwsUserError(() => config('swiotlb=100K'), /multiple of 256K, from 256K to 1G, got '100K'/, 9);
    throwsUserError(() => config('swiotlb=384K'), /multiple of 256K/, 9);
    throwsUserError(() => config('swiotlb=2G'), /multiple of 256K/, 9);
    throwsUserError(() => config('page=3K'), /page size of 4K, 8K, 16K, 32K or 64K, got '3K'/, 9);
    throwsUserError(() => config('page=128K'), /got '128K'/, 9);
    throwsUserError(() => config('page=2K'), /got '2K'/, 9);
    throwsUserError(() => config('swiotlb_map_copy=never'), /expected 'always' or 'dir' for swiotlb_map_copy, got 'never'/, 9);
    // the column follows the word's position on the line
    throwsUserError(() => config('inval=lazy', 'fq=0'), /fq/, 20);
  });

  // The documented limits are inclusive: fq 1..4096, swiotlb 256K..1G, page 4K..64K.
  it('accepts the boundary values', () => {
    assert.equal(config(`fq=${MAX_FLUSH_QUEUE}`).fq, 4096);
    assert.equal(config('fq=1').fq, 1);
    assert.equal(config('swiotlb=256K').swiotlbBytes, 256 * K);
    assert.equal(config('swiotlb=1G').swiotlbBytes, G);
    assert.equal(config('page=64K').pageBytes, 64 * K);
  });

  // RAM ranges: START-END with END exclusive, inside the model's 4 TiB, never overlapping.
  it('rejects malformed, empty, too-high and overlapping RAM ranges at the ram column', () => {
    throwsUserError(() => config('inval=lazy', 'ram=0-2G,4G'), /expected RAM ranges like 0-2G,4G-6G .* got '4G'/, 20);
    throwsUserError(() => config('ram=2G-1G'), /RAM range '2G-1G' is empty/, 9);
    throwsUserError(() => config('ram=1G-1G'), /is empty/, 9);
    throwsUserError(() => config('ram=0-8T'), /ends above the model's limit of 4T/, 9);
    throwsUserError(() => config('ram=0-2G,1G-3G'), /RAM ranges overlap in '0-2G,1G-3G'/, 9);
    throwsUserError(() => config('ram=4G-6G,0-5G'), /overlap/, 9);
    throwsUserError(() => config('ram=0-x'), /expected RAM ranges/, 9);
  });

  // Touching ranges are not an overlap (END is exclusive).
  it('accepts adjacent RAM ranges', () => {
    assert.deepEqual(config('ram=0-4G,4G-8G').ram, [
      { start: 0, end: 4 * G },
      { start: 4 * G, end: 8 * G },
    ]);
  });

  // RAM is whole pages, and the swiotlb pool needs RAM below 4G (memblock_alloc_low).
  it('rejects RAM not aligned to the page size, and a machine with no RAM below 4G', () => {
    throwsUserError(() => config('ram=0-0x1800'), /RAM range 0-6K is not aligned to the 4K page size/, 9);
    throwsUserError(() => config('page=64K', 'ram=0-2G,4G-0x100001000'), /not aligned to the 64K page size/);
    throwsUserError(() => config('ram=4G-8G'), /needs some RAM below 4G for the swiotlb pool/, 9);
  });

  // A consistency error caused by the ram word should point at the ram word, not at whatever word came first.
  it(
    'a misaligned RAM error points at the ram word even when it is not the first word',
    () => {
      throwsUserError(() => config('inval=lazy', 'ram=0-0x1800'), /not aligned/, 20);
    },
  );
});

describe('machine config: deriveFacts', () => {
  // dma_direct_get_required_mask: smallest all-ones mask covering the last RAM byte.
  it('required mask bits for several RAM layouts', () => {
    const cases: Array<[string, number]> = [
      ['0-2G,4G-6G', 33],
      ['0-1G', 30],
      ['0-4G', 32],
      ['0-3G', 32],
      ['0-2G,4G-16G', 34],
      ['0-2G,4G-8G', 33],
      ['0-2G,4G-0x200001000', 34], // one page above 8G needs the 34th bit
      ['0-16M', 24],
      ['0-1T', 40],
    ];
    for (const [ram, bits] of cases) {
      assert.equal(deriveFacts(config(`ram=${ram}`)).requiredMaskBits, bits, `ram=${ram}`);
    }
  });

  // The bypass window moves every RAM address up by 2^59: its required mask is 60 bits.
  it('window required mask bits is 60 (RAM far below 2^59)', () => {
    assert.equal(deriveFacts(config()).windowRequiredMaskBits, 60);
    assert.equal(deriveFacts(config('ram=0-1G')).windowRequiredMaskBits, 60);
    assert.equal(deriveFacts(config('ram=0-2G,4G-4T')).windowRequiredMaskBits, 60);
  });

  // Slots = pool size / 2 KiB (IO_TLB_SHIFT 11); page shift from the page size.
  it('ramTop, page shift and swiotlb slot count', () => {
    const f = deriveFacts(config());
    assert.equal(f.ramTop, 6 * G);
    assert.equal(f.pageShift, 12);
    assert.equal(f.swiotlbSlots, 2048); // 4M / 2K
    assert.equal(deriveFacts(config('page=64K')).pageShift, 16);
    assert.equal(deriveFacts(config('swiotlb=256K')).swiotlbSlots, 128);
  });

  // memblock_alloc_low: the pool sits at the top of the highest RAM below 4 GiB.
  it('places the swiotlb pool at the top of the highest RAM below 4G', () => {
    const cases: Array<[string[], number]> = [
      [[], 2 * G - 4 * M],
      [['ram=0-1G'], 1 * G - 4 * M],
      [['ram=0-4G'], 4 * G - 4 * M],
      [['ram=0-4G,4G-8G'], 4 * G - 4 * M],
      [['ram=0-512M,1G-3G,4G-6G'], 3 * G - 4 * M],
      [['ram=0-2G,3G-5G'], 4 * G - 4 * M], // a range straddling 4G: only its part below 4G counts
      [['swiotlb=256K'], 2 * G - 256 * K],
      [['swiotlb=64M', 'ram=0-1G,4G-6G'], 1 * G - 64 * M],
    ];
    for (const [kv, start] of cases) {
      assert.equal(deriveFacts(config(...kv)).swiotlbStart, start, kv.join(' '));
    }
  });

  // The highest range that can *hold* the pool wins; a small top range is skipped.
  it('skips a low range too small for the pool', () => {
    assert.equal(deriveFacts(config('ram=0-1G,3G-0xC0100000,4G-6G')).swiotlbStart, 1 * G - 4 * M);
    throwsUserError(() => deriveFacts(config('ram=0-1M,4G-6G')), /no RAM range below 4G is large enough for a 4M swiotlb pool/);
  });
});

describe('sparse memory', () => {
  // SPEC 2: gigabytes of simulated RAM; an untouched page reads as zeros and costs nothing.
  it('untouched RAM reads as zeros and reading backs nothing', () => {
    const m = machine();
    const buf = new Uint8Array(64).fill(0xaa);
    m.mem.read(5 * G + 123, buf);
    assert.deepEqual(buf, new Uint8Array(64));
    m.mem.read(0, buf);
    assert.deepEqual(buf, new Uint8Array(64));
    assert.equal(m.mem.backedPages(), 0);
  });

  // Accesses split per page; only written pages get backing.
  it('write/read round trip across a page boundary backs exactly the pages touched', () => {
    const m = machine();
    const src = Uint8Array.from({ length: 20 }, (_, i) => i + 1);
    m.mem.write(4 * G + 4096 - 10, src); // 10 bytes in one page, 10 in the next
    assert.equal(m.mem.backedPages(), 2);
    const back = new Uint8Array(20);
    m.mem.read(4 * G + 4096 - 10, back);
    assert.deepEqual(back, src);
    // a read window extending into an unbacked page gives zeros there
    const wide = new Uint8Array(4096 * 2 + 20);
    m.mem.read(4 * G, wide);
    assert.deepEqual(wide.subarray(4086, 4106), src);
    assert.equal(wide[4085], 0);
    assert.equal(wide[4106], 0);
    assert.ok(wide.subarray(8192).every((b) => b === 0));
    assert.equal(m.mem.backedPages(), 2);
  });

  // Backing is per page: repeated writes to one page back it once.
  it('backedPages counts distinct touched pages only', () => {
    const m = machine();
    m.mem.write(4 * G, new Uint8Array([1]));
    m.mem.write(4 * G + 100, new Uint8Array([2])); // same page
    m.mem.write(5 * G, new Uint8Array([3]));
    m.mem.write(0x1000, new Uint8Array([4]));
    assert.equal(m.mem.backedPages(), 3);
    m.mem.write(4 * G + 8192, new Uint8Array(4096 * 3)); // exactly three more pages
    assert.equal(m.mem.backedPages(), 6);
  });

  // zero() on unbacked pages must not allocate backing (it is already zero).
  it('zero() clears backed bytes and backs nothing new', () => {
    const m = machine();
    m.mem.write(4 * G, new Uint8Array(16).fill(7));
    m.mem.zero(4 * G + 4, 8192); // spans one backed page and two unbacked ones
    assert.equal(m.mem.backedPages(), 1);
    const b = new Uint8Array(16);
    m.mem.read(4 * G, b);
    assert.deepEqual(b, Uint8Array.from([7, 7, 7, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
  });

  // memcpy inside RAM, as swiotlb bouncing uses it.
  it('copy() moves bytes between addresses in different pages', () => {
    const m = machine();
    const src = Uint8Array.from({ length: 5000 }, (_, i) => (i * 7) & 0xff);
    m.mem.write(4 * G + 3000, src);
    m.mem.copy(1 * G + 17, 4 * G + 3000, 5000);
    const back = new Uint8Array(5000);
    m.mem.read(1 * G + 17, back);
    assert.deepEqual(back, src);
    m.mem.copy(0, 0, 0); // zero-length is a no-op
  });

  // The PC hole at 2-4G and everything above the top of RAM is not RAM (identity domain / no IOMMU need this).
  it('isRam: holes and the top of RAM are not RAM', () => {
    const m = machine();
    assert.equal(m.mem.isRam(0, 1), true);
    assert.equal(m.mem.isRam(2 * G - 1, 1), true);
    assert.equal(m.mem.isRam(2 * G, 1), false);
    assert.equal(m.mem.isRam(2 * G - 4, 8), false); // runs into the hole
    assert.equal(m.mem.isRam(3 * G, 4096), false);
    assert.equal(m.mem.isRam(4 * G, 4096), true);
    assert.equal(m.mem.isRam(6 * G - 1, 1), true);
    assert.equal(m.mem.isRam(6 * G, 1), false);
  });

  // Backing is bounded (BACKED_BYTES_MAX), independent of the RAM size.
  it('a 6 GiB (or 16 GiB) machine allocates a small buffer', () => {
    const m = machine();
    assert.ok(m.buffer.byteLength < 64 * M, `buffer is ${m.buffer.byteLength} bytes`);
    const big = machine('ram=0-2G,4G-16G');
    assert.equal(big.buffer.byteLength, m.buffer.byteLength);
    // the top byte of RAM is usable
    big.mem.write(16 * G - 1, new Uint8Array([0x5a]));
    const b = new Uint8Array(1);
    big.mem.read(16 * G - 1, b);
    assert.equal(b[0], 0x5a);
  });

  // Writing more distinct pages than the backing holds is a budget overrun (hang verdict), never unbounded growth.
  it('running out of backing frames is a BudgetExceeded', () => {
    const m = machine();
    const one = new Uint8Array([1]);
    const limit = m.v.touchedSlots.length;
    for (let i = 0; i < limit; i++) m.mem.write(4 * G + i * 4096, one);
    assert.equal(m.mem.backedPages(), limit);
    assert.throws(() => m.mem.write(4 * G + limit * 4096, one), BudgetExceeded);
  });

  // Machines are reset between programs; reset forgets every touched page.
  it('reset drops all data and backing', () => {
    const m = machine();
    m.mem.write(4 * G, new Uint8Array(10).fill(9));
    m.mem.write(1 * G + 4095, new Uint8Array(2).fill(8));
    assert.equal(m.mem.backedPages(), 3);
    m.mem.reset();
    assert.equal(m.mem.backedPages(), 0);
    assert.equal(m.v.regs[Reg.touchedCount], 0);
    const b = new Uint8Array(10);
    m.mem.read(4 * G, b);
    assert.deepEqual(b, new Uint8Array(10));
    m.mem.read(1 * G + 4090, b);
    assert.deepEqual(b, new Uint8Array(10));
  });

  // A frame reused after reset is handed out zeroed: no bytes leak between programs.
  it('after reset a reused frame starts zeroed', () => {
    const m = machine();
    m.mem.write(4 * G, new Uint8Array(4096).fill(0xee));
    m.mem.reset();
    m.mem.write(5 * G + 10, new Uint8Array([1])); // gets frame 0 again
    const page = new Uint8Array(4096);
    m.mem.read(5 * G, page);
    const expected = new Uint8Array(4096);
    expected[10] = 1;
    assert.deepEqual(page, expected);
    assert.equal(m.mem.backedPages(), 1);
  });

  // Reset costs what was touched: it visits only the touched hash slots (the
  // rest of the table is left alone), and the touched count equals the pages touched.
  it('reset touches only the slots of touched pages', () => {
    const m = machine();
    for (let i = 0; i < 5; i++) m.mem.write(4 * G + i * 3 * 4096, new Uint8Array([i + 1]));
    assert.equal(m.v.regs[Reg.touchedCount], 5);
    const touched = new Set(Array.from(m.v.touchedSlots.subarray(0, 5)));
    // plant a sentinel in an untouched hash slot: a reset that swept the whole table would clear it
    let sentinelSlot = 0;
    while (touched.has(sentinelSlot) || m.v.pageHashKey[sentinelSlot] !== 0) sentinelSlot++;
    m.v.pageHashKey[sentinelSlot] = 123456789;
    try {
      m.mem.reset();
      assert.equal(m.v.pageHashKey[sentinelSlot], 123456789);
      for (const s of touched) assert.equal(m.v.pageHashKey[s], 0);
      assert.equal(m.mem.backedPages(), 0);
    } finally {
      m.v.pageHashKey[sentinelSlot] = 0;
    }
  });
});

describe('page allocator', () => {
  // SPEC 2: prefer the highest zone a request allows: no limit -> above 4G when RAM is there.
  it('first kmalloc without a zone lands at 4G on the default machine; next ones follow (first fit)', () => {
    const m = machine();
    assert.equal(m.pages.alloc(4096, 'normal', ExtentKind.Kmalloc), 0x100000000);
    assert.equal(m.pages.alloc(100, 'normal', ExtentKind.Kmalloc), 0x100001000); // rounds up to one page
    assert.equal(m.pages.alloc(0, 'normal', ExtentKind.Kmalloc), 0x100002000); // size 0 still takes a page
    assert.equal(m.pages.alloc(8192 + 1, 'normal', ExtentKind.Kmalloc), 0x100003000); // 3 pages
    assert.equal(m.pages.alloc(4096, 'normal', ExtentKind.Kmalloc), 0x100006000);
  });

  // GFP_DMA32: [16M, 4G) minus the swiotlb pool; first fit -> 16M.
  it('zone=dma32 lands at 16M, zone=dma below 16M', () => {
    const m = machine();
    assert.equal(m.pages.alloc(4096, 'dma32', ExtentKind.Kmalloc), 16 * M);
    assert.equal(m.pages.alloc(12 * K, 'dma32', ExtentKind.Kmalloc), 16 * M + 4096);
    assert.equal(m.pages.alloc(4096, 'dma32', ExtentKind.Kmalloc), 16 * M + 16 * K);
    const d = m.pages.alloc(4096, 'dma', ExtentKind.Kmalloc);
    assert.equal(d, 0);
    assert.equal(zoneOf(d), 'dma');
    assert.equal(m.pages.alloc(4096, 'dma', ExtentKind.Kmalloc), 0x1000);
  });

  // SPEC 2: the same program on the same config places every buffer at the same address.
  it('is deterministic: the same requests on a fresh machine give the same addresses', () => {
    const run = (): number[] => {
      const m = machine('ram=0-1G,4G-5G');
      const out: number[] = [];
      out.push(m.pages.alloc(5000, 'normal', ExtentKind.Kmalloc));
      out.push(m.pages.alloc(4096, 'dma32', ExtentKind.Coherent));
      out.push(m.pages.alloc(64 * K, 'dma', ExtentKind.Kmalloc));
      m.pages.free(out[0]!);
      out.push(m.pages.alloc(4096, 'normal', ExtentKind.Kmalloc));
      return out;
    };
    const a = run();
    assert.deepEqual(a, [4 * G, 16 * M, 0, 4 * G]);
    assert.deepEqual(run(), a);
  });

  // free_pages: the pages go back and first fit reuses the lowest hole that fits.
  it('free returns the size and makes the address reusable; unknown starts give -1', () => {
    const m = machine();
    const a = m.pages.alloc(4096, 'normal', ExtentKind.Kmalloc);
    const b = m.pages.alloc(8192, 'normal', ExtentKind.Kmalloc);
    const c = m.pages.alloc(4096, 'normal', ExtentKind.Kmalloc);
    assert.deepEqual([a, b, c], [4 * G, 4 * G + 4096, 4 * G + 3 * 4096]);
    assert.equal(m.pages.free(b + 4096), -1); // not the start of an allocation
    assert.equal(m.pages.free(3 * G), -1);
    assert.equal(m.pages.free(b), 8192);
    assert.equal(m.pages.free(b), -1); // double free
    assert.equal(m.pages.alloc(4096, 'normal', ExtentKind.Kmalloc), b); // reuse, first fit
    assert.equal(m.pages.alloc(8192, 'normal', ExtentKind.Kmalloc), c + 4096); // the 4K hole left is too small
    assert.equal(m.pages.alloc(4096, 'normal', ExtentKind.Kmalloc), b + 4096); // but fits one page
  });

  // The boot-time swiotlb reservation survives machine reset; everything else goes.
  it('kindAt and liveCount track allocations; the swiotlb pool is a boot-time reservation', () => {
    const m = machine();
    assert.equal(m.pages.liveCount(), 1);
    assert.equal(m.pages.kindAt(2 * G - 4 * M), ExtentKind.Reserved);
    const a = m.pages.alloc(4096, 'normal', ExtentKind.Kmalloc);
    const c = m.pages.alloc(4096, 'dma32', ExtentKind.Coherent);
    assert.equal(m.pages.kindAt(a), ExtentKind.Kmalloc);
    assert.equal(m.pages.kindAt(c), ExtentKind.Coherent);
    assert.equal(m.pages.kindAt(a + 4096), 0);
    assert.equal(m.pages.liveCount(), 3);
    m.pages.reset();
    assert.equal(m.pages.liveCount(), 1);
    assert.equal(m.pages.kindAt(2 * G - 4 * M), ExtentKind.Reserved);
    assert.equal(m.pages.alloc(4096, 'normal', ExtentKind.Kmalloc), 4 * G);
  });

  // dma32 ends at the pool: a dma32 request never overlaps the swiotlb pool.
  it('dma32 allocations never overlap the swiotlb pool', () => {
    const m = machine('ram=0-64M', 'swiotlb=256K');
    const poolStart = 64 * M - 256 * K;
    assert.equal(m.swiotlb.start, poolStart);
    // the whole dma32 part of RAM below the pool fits exactly ...
    assert.equal(m.pages.alloc(poolStart - 16 * M, 'dma32', ExtentKind.Kmalloc), 16 * M);
    // ... after which dma32 requests spill down into ZONE_DMA
    assert.equal(m.pages.alloc(4096, 'dma32', ExtentKind.Kmalloc), 0);
  });

  // No ZONE_NORMAL RAM: an unlimited request falls back to ZONE_DMA32 (zonelist fallback).
  it('a machine with RAM only below 4G puts normal requests into dma32', () => {
    const m = machine('ram=0-1G');
    const p = m.pages.alloc(4096, 'normal', ExtentKind.Kmalloc);
    assert.equal(p, 16 * M);
    assert.equal(zoneOf(p), 'dma32');
  });

  // Out of memory in every allowed zone: the allocation fails (-1), nothing blocks.
  it('exhaustion returns -1', () => {
    const m = machine('ram=0-64M', 'swiotlb=256K');
    assert.equal(m.pages.alloc(16 * M, 'dma', ExtentKind.Kmalloc), 0); // all of ZONE_DMA
    assert.equal(m.pages.alloc(4096, 'dma', ExtentKind.Kmalloc), -1);
    assert.equal(m.pages.alloc(64 * M, 'normal', ExtentKind.Kmalloc), -1);
    assert.equal(m.pages.alloc(48 * M, 'normal', ExtentKind.Kmalloc), -1); // 48M - 256K is what is left
    assert.equal(m.pages.alloc(48 * M - 256 * K, 'normal', ExtentKind.Kmalloc), 16 * M);
    assert.equal(m.pages.alloc(1, 'normal', ExtentKind.Kmalloc), -1);
    // the default machine: 3G fits in no zone
    assert.equal(machine().pages.alloc(3 * G, 'normal', ExtentKind.Kmalloc), -1);
  });

  // A request too big for the normal zone falls back to dma32 (like the page allocator's zonelist).
  it('falls back to a lower zone when the preferred one is full', () => {
    const m = machine();
    assert.equal(m.pages.alloc(2 * G, 'normal', ExtentKind.Kmalloc), 4 * G); // all of 4G-6G
    assert.equal(m.pages.alloc(4096, 'normal', ExtentKind.Kmalloc), 16 * M);
  });

  // Allocation granule is the configured page size (page=64K).
  it('allocates whole pages of the configured page size', () => {
    const m = machine('page=64K');
    assert.equal(m.pages.alloc(100, 'normal', ExtentKind.Kmalloc), 4 * G);
    assert.equal(m.pages.alloc(100, 'normal', ExtentKind.Kmalloc), 4 * G + 64 * K);
    assert.equal(m.pages.free(4 * G), 64 * K);
  });

  // x86 zones: ZONE_DMA < 16M (zone_dma_bits 24), ZONE_DMA32 < 4G; dma-direct's zone from a mask width.
  it('zoneOf and zoneForMaskBits', () => {
    assert.equal(zoneOf(0), 'dma');
    assert.equal(zoneOf(16 * M - 1), 'dma');
    assert.equal(zoneOf(16 * M), 'dma32');
    assert.equal(zoneOf(4 * G - 1), 'dma32');
    assert.equal(zoneOf(4 * G), 'normal');
    assert.equal(zoneOf(6 * G), 'normal');
    assert.equal(zoneForMaskBits(20), 'dma');
    assert.equal(zoneForMaskBits(24), 'dma');
    assert.equal(zoneForMaskBits(25), 'dma32');
    assert.equal(zoneForMaskBits(30), 'dma32');
    assert.equal(zoneForMaskBits(32), 'dma32');
    assert.equal(zoneForMaskBits(33), 'normal');
    assert.equal(zoneForMaskBits(64), 'normal');
  });
});

/**
 * The swiotlb bounce pool (linux-dma-reference.md 2.5-2.6, SPEC section 4):
 * slot search, accounting, and when bytes move between the original buffer
 * and its bounce slot, under both `swiotlb_map_copy` rules.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { applyMachineWords, DEFAULT_CONFIG, SWIOTLB_SLOT_BYTES } from '../src/machine/config.js';
import { Machine } from '../src/machine/machine.js';
import { SWIOTLB_MAX_MAPPING_BYTES } from '../src/dma/swiotlb.js';
import type { Direction, MachineWord } from '../src/program/ast.js';
import { DmaLayer } from '../src/dma/mapping.js';
import { builtinPolicy } from '../src/policy/registry.js';

const K = 2 ** 10;
const M = 2 ** 20;
const G = 2 ** 30;
const SLOT = SWIOTLB_SLOT_BYTES;

function machine(...kv: string[]): Machine {
  const words: MachineWord[] = kv.map((s, i) => ({ key: s.split('=')[0]!, value: s.slice(s.indexOf('=') + 1), column: 9 + i }));
  return new Machine(applyMachineWords(DEFAULT_CONFIG, words));
}

/** Bytes `seed, seed+1, ...` (mod 256, never 0) so that a wrong copy is visible. */
function pattern(len: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: len }, (_, i) => ((seed + i) % 255) + 1);
}

function readAt(m: Machine, phys: number, len: number): Uint8Array {
  const b = new Uint8Array(len);
  m.mem.read(phys, b);
  return b;
}

describe('swiotlb geometry and slot search', () => {
  // 2 KiB slots (IO_TLB_SHIFT 11), the pool where deriveFacts put it, 256 KiB max per mapping.
  it('pool geometry of the default machine', () => {
    const m = machine();
    const sw = m.swiotlb;
    assert.equal(SLOT, 2048);
    assert.equal(SWIOTLB_MAX_MAPPING_BYTES, 256 * K);
    assert.equal(sw.start, 2 * G - 4 * M);
    assert.equal(sw.slots, 2048);
    assert.equal(sw.end, 2 * G);
    assert.equal(sw.usedSlots(), 0);
    assert.equal(sw.contains(sw.start), true);
    assert.equal(sw.contains(sw.end - 1), true);
    assert.equal(sw.contains(sw.end), false);
    assert.equal(sw.contains(sw.start - 1), false);
    assert.equal(sw.contains(4 * G), false);
  });

  // Next-fit from a rotating cursor: consecutive small maps take consecutive slots.
  it('two consecutive maps get consecutive slots', () => {
    const m = machine();
    const sw = m.swiotlb;
    assert.equal(sw.map(4 * G, 100, 'to_device'), sw.start);
    assert.equal(sw.map(4 * G + 4096, 100, 'to_device'), sw.start + SLOT);
    assert.equal(sw.map(4 * G + 8192, 2048, 'to_device'), sw.start + 2 * SLOT);
    assert.equal(sw.usedSlots(), 3);
  });

  // swiotlb_tbl_map_single: for size >= PAGE_SIZE the search stride is a page (4 KiB alignment).
  it('a mapping of a page or more is page aligned; smaller ones are not', () => {
    const m = machine();
    const sw = m.swiotlb;
    assert.equal(sw.map(4 * G, 100, 'to_device'), sw.start); // slot 0, cursor 1
    assert.equal(sw.map(4 * G, 4096, 'to_device'), sw.start + 2 * SLOT); // cursor 1 -> aligned up to slot 2
    assert.equal(sw.map(4 * G, 5000, 'to_device'), sw.start + 4 * SLOT); // 3 slots at 4..6
    assert.equal(sw.map(4 * G, 4095, 'to_device'), sw.start + 7 * SLOT); // < page: stride 1, slot 7
    assert.equal(sw.map(4 * G, 4096, 'to_device'), sw.start + 10 * SLOT); // cursor 9 -> 10
    assert.equal(sw.usedSlots(), 1 + 2 + 3 + 2 + 2);
  });

  // IO_TLB_SEGSIZE: a mapping never crosses a 128-slot segment boundary.
  it('never crosses a 128-slot segment', () => {
    const m = machine();
    const sw = m.swiotlb;
    assert.equal(sw.map(4 * G, 127 * SLOT, 'to_device'), sw.start); // slots 0..126, cursor 127
    // two slots from 127 would cross into segment 1: it skips to slot 128
    assert.equal(sw.map(4 * G, 3000, 'to_device'), sw.start + 128 * SLOT);
    // slot 127 is left free; a one-slot mapping does not go back to it (next fit)
    assert.equal(sw.map(4 * G, 10, 'to_device'), sw.start + 130 * SLOT);
    assert.equal(sw.usedSlots(), 127 + 2 + 1);
  });

  // swiotlb_max_mapping_size = 128 x 2 KiB: exactly 256K fits (one whole segment), one byte more fails.
  it('256 KiB maps, more fails with -1 and changes nothing', () => {
    const m = machine();
    const sw = m.swiotlb;
    assert.equal(sw.map(4 * G, 256 * K + 1, 'to_device'), -1);
    assert.equal(sw.usedSlots(), 0);
    assert.equal(sw.map(4 * G, 256 * K, 'to_device'), sw.start);
    assert.equal(sw.usedSlots(), 128);
    assert.equal(sw.map(4 * G, 256 * K, 'to_device'), sw.start + 128 * SLOT);
  });

  // A full pool gives a mapping error; nothing waits.
  it('a full pool returns -1; unmap frees it again', () => {
    const m = machine('swiotlb=256K');
    const sw = m.swiotlb;
    assert.equal(sw.start, 2 * G - 256 * K);
    assert.equal(sw.slots, 128);
    const b = sw.map(4 * G, 256 * K, 'to_device');
    assert.equal(b, sw.start);
    assert.equal(sw.usedSlots(), 128);
    assert.equal(sw.map(4 * G, 1, 'to_device'), -1);
    assert.equal(sw.usedSlots(), 128);
    sw.unmap(b, 'to_device');
    assert.equal(sw.usedSlots(), 0);
    assert.equal(sw.map(4 * G, 1, 'to_device'), sw.start); // cursor wrapped to 0
  });

  // Enough free slots in total is not enough: they must be contiguous inside one segment.
  it('fails when free slots are fragmented', () => {
    const m = machine('swiotlb=256K');
    const sw = m.swiotlb;
    const a = sw.map(4 * G, 100, 'to_device');
    const b = sw.map(4 * G, 100, 'to_device');
    assert.deepEqual([a, b], [sw.start, sw.start + SLOT]);
    sw.unmap(a, 'to_device');
    assert.equal(sw.usedSlots(), 1);
    assert.equal(sw.map(4 * G, 127 * SLOT, 'to_device'), -1); // 127 free slots, but slot 1 splits them
    assert.equal(sw.usedSlots(), 1);
    assert.equal(sw.map(4 * G, 126 * SLOT, 'to_device'), sw.start + 2 * SLOT); // slots 2..127 fit
  });

  // The search wraps once to the start of the pool.
  it('wraps around to slot 0 when nothing fits above the cursor', () => {
    const m = machine('swiotlb=256K');
    const sw = m.swiotlb;
    const a = sw.map(4 * G, 100 * SLOT, 'to_device'); // slots 0..99, cursor 100
    sw.unmap(a, 'to_device');
    assert.equal(sw.map(4 * G, 50 * SLOT, 'to_device'), sw.start); // 100+50 > 128 -> wrap
  });

  // nslots = ceil(size / IO_TLB_SIZE); io_tlb_used goes up at map and down at unmap.
  it('usedSlots counts ceil(size / 2K) per mapping and unmap gives them back', () => {
    const m = machine();
    const sw = m.swiotlb;
    const sizes = [1, 2048, 2049, 4096, 10000];
    const slots = [1, 1, 2, 2, 5];
    const handles = sizes.map((s) => sw.map(4 * G, s, 'to_device'));
    assert.ok(handles.every((h) => h >= 0));
    assert.equal(sw.usedSlots(), slots.reduce((a, b) => a + b, 0));
    let used = sw.usedSlots();
    for (let i = 0; i < handles.length; i++) {
      sw.unmap(handles[i]!, 'to_device');
      used -= slots[i]!;
      assert.equal(sw.usedSlots(), used);
    }
    assert.equal(sw.usedSlots(), 0);
  });

  // Freed slots are reused: map/unmap/map at a rewound cursor gets the same address back.
  it('unmap frees the slots (origOf/mappedBytes forget them) and reset rewinds the cursor', () => {
    const m = machine();
    const sw = m.swiotlb;
    const b = sw.map(4 * G, 3000, 'to_device');
    assert.equal(sw.origOf(b), 4 * G);
    sw.unmap(b, 'to_device');
    assert.equal(sw.origOf(b), -1);
    assert.equal(sw.origOf(b + SLOT), -1);
    assert.equal(sw.mappedBytes(b), -1);
    assert.equal(sw.map(4 * G, 100, 'to_device'), sw.start + 2 * SLOT); // cursor kept moving
    sw.reset();
    assert.equal(sw.usedSlots(), 0);
    assert.equal(sw.origOf(sw.start + 2 * SLOT), -1);
    assert.equal(sw.map(4 * G, 100, 'to_device'), sw.start);
  });
});

describe('swiotlb lookups', () => {
  // io_tlb_orig_addr: every byte of a mapping maps back to its original address.
  it('origOf maps any byte of a mapping back to the original', () => {
    const m = machine();
    const sw = m.swiotlb;
    const orig = 4 * G + 100; // not slot aligned
    const b = sw.map(orig, 5000, 'to_device');
    assert.equal(sw.origOf(b), orig);
    assert.equal(sw.origOf(b + 1), orig + 1);
    assert.equal(sw.origOf(b + 2048), orig + 2048);
    assert.equal(sw.origOf(b + 4999), orig + 4999);
    assert.equal(sw.origOf(b + 3 * SLOT), -1); // the slot after the mapping is free
    assert.equal(sw.origOf(4 * G), -1); // outside the pool
    assert.equal(sw.origOf(sw.end), -1);
  });

  // The size is recorded at a mapping's first slot only; other addresses start no mapping.
  it('mappedBytes: the size at the start of a mapping, -1 elsewhere', () => {
    const m = machine();
    const sw = m.swiotlb;
    const b = sw.map(4 * G, 5000, 'to_device');
    assert.equal(sw.mappedBytes(b), 5000);
    assert.equal(sw.mappedBytes(b + 1), -1); // not slot aligned
    assert.equal(sw.mappedBytes(b + 3 * SLOT), -1); // free slot
    assert.equal(sw.mappedBytes(4 * G), -1); // outside the pool
  });

  // The map/unmap contract must hold for every size map accepts: a zero-byte
  // mapping takes a slot, so it must be releasable (or map must refuse it).
  // (Programs cannot reach this: the executor rejects zero-length maps first.)
  it(
    'a zero-byte mapping is either refused or can be unmapped',
    () => {
      const m = machine();
      const sw = m.swiotlb;
      const b = sw.map(4 * G, 0, 'to_device');
      if (b < 0) return;
      assert.equal(sw.mappedBytes(b), 0);
      sw.unmap(b, 'to_device');
      assert.equal(sw.usedSlots(), 0);
    },
  );

  // A slot in the middle of a mapping does not start one: unmap/sync of such an
  // address must be refused (dma-direct relies on mappedBytes < 0 to report it).
  it('mappedBytes of the second slot of a multi-slot mapping is -1', () => {
    const m = machine();
    const sw = m.swiotlb;
    const b = sw.map(4 * G, 3 * SLOT, 'to_device');
    assert.equal(sw.mappedBytes(b + SLOT), -1);
    assert.equal(sw.mappedBytes(b + 2 * SLOT), -1);
  });

  // The same check seen from dma-direct: an unmap of an address inside a bounced
  // mapping (not its start) must be a layer error that frees nothing.
  it('dma-direct unmap of an address inside a bounced mapping is refused', () => {
    const m = machine();
    const layer = new DmaLayer(m, builtinPolicy('direct')!);
    const dev = layer.addDevice(64, false); // 32-bit masks: a buffer at 4G bounces
    const h = layer.map(dev, 4 * G, 3 * SLOT, 'to_device');
    assert.equal(h, BigInt(m.swiotlb.start));
    assert.equal(m.swiotlb.usedSlots(), 3);
    layer.unmap(dev, h + BigInt(SLOT), SLOT, 'to_device');
    assert.equal(m.swiotlb.usedSlots(), 3);
    assert.match(layer.out.layerError ?? '', /no bounce mapping starts there/);
  });
});

describe('swiotlb copies', () => {
  const DIRS: Direction[] = ['to_device', 'from_device', 'bidirectional'];

  // Map: to_device / bidirectional copy orig -> bounce in both modes.
  it('map copies orig -> bounce for to_device and bidirectional (both modes)', () => {
    for (const mode of ['always', 'dir']) {
      for (const dir of ['to_device', 'bidirectional'] as const) {
        const m = machine(`swiotlb_map_copy=${mode}`);
        const data = pattern(3000, 11);
        m.mem.write(4 * G + 50, data);
        const b = m.swiotlb.map(4 * G + 50, 3000, dir);
        assert.deepEqual(readAt(m, b, 3000), data, `${mode} ${dir}`);
      }
    }
  });

  // 5.18+ ('always') copies for from_device too; 5.4 ('dir') leaves the slot alone.
  it('from_device map copies under always, not under dir', () => {
    const always = machine('swiotlb_map_copy=always');
    const data = pattern(4096, 3);
    always.mem.write(4 * G, data);
    const b1 = always.swiotlb.map(4 * G, 4096, 'from_device');
    assert.deepEqual(readAt(always, b1, 4096), data);

    const dir = machine('swiotlb_map_copy=dir');
    dir.mem.write(4 * G, data);
    const b2 = dir.swiotlb.map(4 * G, 4096, 'from_device');
    assert.deepEqual(readAt(dir, b2, 4096), new Uint8Array(4096)); // the never-used slot is still zero
  });

  // CVE-2022-0854: under 5.4 rules a from_device slot keeps the previous user's bytes,
  // and unmap copies them over the new buffer; 5.18+ copies the buffer in first.
  it('stale slot contents: dir leaks the previous user, always does not', () => {
    const a = pattern(256 * K, 101);
    const bBytes = new Uint8Array(4096).fill(0xbb);
    const results: Record<string, { slot: Uint8Array; after: Uint8Array }> = {};
    for (const mode of ['dir', 'always']) {
      const m = machine('swiotlb=256K', `swiotlb_map_copy=${mode}`);
      const sw = m.swiotlb;
      const A = 4 * G;
      const B = 5 * G;
      m.mem.write(A, a);
      m.mem.write(B, bBytes);
      const ba = sw.map(A, 256 * K, 'to_device'); // fills the whole pool; the cursor wraps to 0
      sw.unmap(ba, 'to_device');
      const bb = sw.map(B, 4096, 'from_device');
      assert.equal(bb, ba, 'B lands in the slot A used');
      const slot = readAt(m, bb, 4096);
      sw.unmap(bb, 'from_device'); // the device wrote nothing: unmap copies the slot back
      results[mode] = { slot, after: readAt(m, B, 4096) };
    }
    assert.deepEqual(results.dir!.slot, a.subarray(0, 4096));
    assert.deepEqual(results.dir!.after, a.subarray(0, 4096)); // A's bytes leaked into B
    assert.deepEqual(results.always!.slot, bBytes);
    assert.deepEqual(results.always!.after, bBytes);
  });

  // sync_for_device: orig -> bounce only for to_device / bidirectional.
  it('sync_for_device copies only for to_device and bidirectional', () => {
    for (const dir of DIRS) {
      const m = machine();
      const sw = m.swiotlb;
      m.mem.write(4 * G, pattern(4096, 1));
      const b = sw.map(4 * G, 4096, dir);
      const before = readAt(m, b, 4096);
      const fresh = pattern(4096, 77);
      m.mem.write(4 * G, fresh); // the CPU rewrites the buffer
      sw.syncForDevice(b, 4096, dir);
      assert.deepEqual(readAt(m, b, 4096), dir === 'from_device' ? before : fresh, dir);
    }
  });

  // sync_for_cpu: bounce -> orig only for from_device / bidirectional.
  it('sync_for_cpu copies only for from_device and bidirectional', () => {
    for (const dir of DIRS) {
      const m = machine();
      const sw = m.swiotlb;
      const orig = pattern(4096, 1);
      m.mem.write(4 * G, orig);
      const b = sw.map(4 * G, 4096, dir);
      const devData = pattern(4096, 200);
      m.mem.write(b, devData); // the device writes the bounce slot
      sw.syncForCpu(b, 4096, dir);
      assert.deepEqual(readAt(m, 4 * G, 4096), dir === 'to_device' ? orig : devData, dir);
      assert.equal(sw.usedSlots(), 2, 'sync does not free the mapping');
    }
  });

  // A ranged sync moves only [off, off+len).
  it('a partial sync_for_cpu copies just its range', () => {
    const m = machine();
    const sw = m.swiotlb;
    const b = sw.map(4 * G, 4096, 'from_device');
    m.mem.write(b, new Uint8Array(4096).fill(0x44));
    sw.syncForCpu(b + 100, 50, 'from_device');
    const out = readAt(m, 4 * G, 4096);
    const expected = new Uint8Array(4096);
    expected.fill(0x44, 100, 150);
    assert.deepEqual(out, expected);
  });

  // Unmap: the final bounce -> orig copy for from_device / bidirectional, then the slots are free.
  it('unmap copies back for from_device and bidirectional only', () => {
    for (const dir of DIRS) {
      const m = machine();
      const sw = m.swiotlb;
      const orig = pattern(3000, 9);
      m.mem.write(4 * G, orig);
      const b = sw.map(4 * G, 3000, dir);
      const devData = pattern(3000, 150);
      m.mem.write(b, devData);
      sw.unmap(b, dir);
      assert.deepEqual(readAt(m, 4 * G, 3000), dir === 'to_device' ? orig : devData, dir);
      assert.equal(sw.usedSlots(), 0);
    }
  });

  // Bytes past the mapped length are never copied back over the neighbour of the buffer.
  it('unmap copies exactly the mapped length', () => {
    const m = machine();
    const sw = m.swiotlb;
    m.mem.write(4 * G, new Uint8Array(200).fill(0x11));
    const b = sw.map(4 * G, 100, 'from_device');
    m.mem.write(b, new Uint8Array(SLOT).fill(0x99));
    sw.unmap(b, 'from_device');
    const out = readAt(m, 4 * G, 200);
    assert.ok(out.subarray(0, 100).every((x) => x === 0x99));
    assert.ok(out.subarray(100).every((x) => x === 0x11));
  });
});

/**
 * Driver bugs (SPEC section 6): every `api-misuse:<check>` the executor
 * implements, each with one program that triggers it and one that narrowly
 * does not; then the other driver kinds (`dma-after-unmap`,
 * `cpu-owns-violation`), the security record of rogue accesses, the
 * "skipped" error paths, the width-lie rule and the swiotlb stale-data case.
 *
 * The checks, as found in src/exec/ops and src/dma/debug.ts:
 *   dma-debug (debug.ts):  invalid-free, free-unmapped, wrong-size, wrong-function,
 *                          wrong-direction, map-error-unchecked (unmap, sync),
 *                          sync-unmapped, sync-out-of-range, sync-direction
 *   executor (ops/*.ts):   double-unmap, sync-after-unmap, map-error-unchecked
 *                          (device access, sync of a failed map), nomask-dma,
 *                          use-after-unbind, leak, map-freed-buffer,
 *                          map-out-of-bounds, overlapping-mapping,
 *                          free-mapped-buffer, double-free,
 *                          cpu-use-after-free, cpu-out-of-range,
 *                          segment-out-of-range, foreign-handle,
 *                          access-direction, access-out-of-range
 *
 * Programs are built with prog(), which puts `# dmafuzz v1` on line 1, so the
 * i-th statement (0-based) is on line i + 2.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ALL_POLICIES, brief, prog, runText } from './helpers.js';
import type { RunResult } from '../src/exec/executor.js';
import { Machine } from '../src/machine/machine.js';
import { DEFAULT_CONFIG } from '../src/machine/config.js';
import { DMA_MAPPING_ERROR, MapType } from '../src/dma/debug.js';

/** Line of statement `i` (0-based) of a prog() program. */
const lineOf = (i: number) => i + 2;

function assertMisuse(r: RunResult, check: string, line: number, phrases: string[], where = ''): void {
  const v = r.verdict;
  assert.equal(brief(r), `api-misuse:${check}/driver@${line}`, `${where}: ${v.message ?? ''}`);
  assert.equal(v.verdict, 'crash');
  assert.equal(v.kind, `api-misuse:${check}`);
  assert.equal(v.blame, 'driver');
  assert.equal(v.line, line);
  for (const p of phrases) assert.ok(v.message?.includes(p), `${where}: message lacks ${JSON.stringify(p)}:\n${v.message}`);
  assert.ok(v.message?.includes('(driver bug)'), `${where}: no plain sentence blaming the driver:\n${v.message}`);
}

function assertOk(r: RunResult, where = ''): void {
  assert.equal(brief(r), 'ok', `${where}: ${r.verdict.message ?? ''}`);
}

interface MisuseCase {
  /** what the test shows */
  name: string;
  check: string;
  /** the triggering program; the failing statement is the last one unless `at` says otherwise */
  bad: string[];
  /** 0-based index of the failing statement in `bad` (default: the last) */
  at?: number;
  /** the kernel-style text and the key phrase the message must contain */
  phrases: string[];
  /** the same program, narrowly fixed */
  good: string[];
  policies?: readonly string[];
}

const D0 = 'dev d0 width=64';
const D1 = 'dev d1 width=64';
const B0 = 'b0 = kmalloc 4K';
/** a checked 4K to_device single mapping of b0 */
const MAP_TO = ['m0 = map_single d0 b0 0 4K to_device', 'mapping_error d0 m0'];
const MAP_FROM = ['m0 = map_single d0 b0 0 4K from_device', 'mapping_error d0 m0'];
const MAP_BIDI = ['m0 = map_single d0 b0 0 4K bidirectional', 'mapping_error d0 m0'];
/** under `direct` a 32-bit device cannot bounce 512K (swiotlb: at most 256K per mapping): the map fails */
const FAILING_MAP = ['b9 = kmalloc 512K', 'm9 = map_single d0 b9 0 512K to_device'];

const CASES: MisuseCase[] = [
  // ---- unmap / free checks (dma-debug check_unmap)
  {
    name: 'invalid-free: unmap of a failed (DMA_MAPPING_ERROR) handle that was never checked',
    check: 'invalid-free',
    bad: ['dev d0 width=64 nomask', B0, 'm0 = map_single d0 b0 0 4K to_device', 'unmap_single d0 m0'],
    phrases: ['DMA-API:', 'invalid DMA memory address', 'dma_mapping_error'],
    good: ['dev d0 width=64 nomask', B0, 'm0 = map_single d0 b0 0 4K to_device', 'mapping_error d0 m0', 'unmap_single d0 m0', 'kfree b0', 'unbind d0'],
  },
  {
    name: 'invalid-free: a swiotlb-full map on a masked device, unmapped unchecked',
    check: 'invalid-free',
    bad: [D0, ...FAILING_MAP, 'unmap_page d0 m9'],
    phrases: ['DMA-API: dmafuzz d0:', 'invalid DMA memory address'],
    good: [D0, ...FAILING_MAP, 'mapping_error d0 m9', 'unmap_page d0 m9', 'kfree b9', 'unbind d0'],
    policies: ['direct'],
  },
  {
    name: 'free-unmapped: unmap through a device that never mapped the handle',
    check: 'free-unmapped',
    bad: [D0, D1, B0, ...MAP_TO, 'unmap_single d1 m0'],
    phrases: ['DMA-API: dmafuzz d1:', 'tries to free DMA memory it has not allocated'],
    good: [D0, D1, B0, ...MAP_TO, 'unmap_single d0 m0', 'unbind d1', 'unbind d0'],
  },
  {
    name: 'free-unmapped: free_coherent through the wrong device',
    check: 'free-unmapped',
    bad: [D0, D1, 'c0 = alloc_coherent d0 4K', 'free_coherent d1 c0'],
    phrases: ['DMA-API: dmafuzz d1:', 'tries to free DMA memory it has not allocated'],
    good: [D0, D1, 'c0 = alloc_coherent d0 4K', 'free_coherent d0 c0', 'unbind d0', 'unbind d1'],
  },
  {
    name: 'wrong-size: unmap_single with a smaller length',
    check: 'wrong-size',
    bad: [D0, B0, ...MAP_TO, 'unmap_single d0 m0 2K'],
    phrases: ['DMA-API:', 'frees DMA memory with different size', '[map size=4096 bytes] [unmap size=2048 bytes]'],
    good: [D0, B0, ...MAP_TO, 'unmap_single d0 m0 4K', 'kfree b0', 'unbind d0'],
  },
  {
    // The validator rejects unmap_single on an sg / free_coherent on a mapping, so a
    // type mismatch is only reachable through dma-debug's best-fit lookup: under
    // dma-direct (no bounce: 64-bit mask) a single mapping and an sg of the same
    // buffer share one DMA address; an unmap_single with the sg's size picks the sg
    // entry (size match beats type match), exactly as check_unmap does.
    name: 'wrong-function: unmap_single whose (wrong) size best-fits an sg entry at the same address',
    check: 'wrong-function',
    bad: [D0, 'set_mask_and_coherent d0 64', 'b0 = kmalloc 8K', 'm0 = map_single d0 b0 0 4K to_device', 'mapping_error d0 m0', 's0 = map_sg d0 [b0] to_device', 'unmap_single d0 m0 8K'],
    phrases: ['DMA-API:', 'frees DMA memory with wrong function', '[mapped as scatter-gather] [unmapped as single]'],
    good: [D0, 'set_mask_and_coherent d0 64', 'b0 = kmalloc 8K', 'm0 = map_single d0 b0 0 4K to_device', 'mapping_error d0 m0', 's0 = map_sg d0 [b0] to_device', 'unmap_single d0 m0 4K', 'unmap_sg d0 s0', 'kfree b0', 'unbind d0'],
    policies: ['direct'],
  },
  {
    name: 'wrong-direction: unmap_single with another direction',
    check: 'wrong-direction',
    bad: [D0, B0, ...MAP_TO, 'unmap_single d0 m0 4K from_device'],
    phrases: ['DMA-API:', 'frees DMA memory with different direction', '[mapped with DMA_TO_DEVICE] [unmapped with DMA_FROM_DEVICE]'],
    good: [D0, B0, ...MAP_TO, 'unmap_single d0 m0 4K to_device', 'kfree b0', 'unbind d0'],
  },
  {
    name: 'wrong-direction: unmap_sg with another direction',
    check: 'wrong-direction',
    bad: [D0, B0, 's0 = map_sg d0 [b0] to_device', 'unmap_sg d0 s0 bidirectional'],
    phrases: ['DMA-API:', 'frees DMA memory with different direction', '[unmapped with DMA_BIDIRECTIONAL]'],
    good: [D0, B0, 's0 = map_sg d0 [b0] to_device', 'unmap_sg d0 s0 to_device', 'kfree b0', 'unbind d0'],
  },
  {
    name: 'map-error-unchecked at unmap: a live mapping never passed to mapping_error',
    check: 'map-error-unchecked',
    bad: [D0, B0, 'm0 = map_single d0 b0 0 4K to_device', 'unmap_single d0 m0'],
    phrases: ['DMA-API:', 'device driver failed to check map error', '[mapped as single]'],
    good: [D0, B0, 'm0 = map_single d0 b0 0 4K to_device', 'mapping_error d0 m0', 'unmap_single d0 m0', 'kfree b0', 'unbind d0'],
  },
  {
    name: 'double-unmap: unmap_single twice',
    check: 'double-unmap',
    bad: [D0, B0, ...MAP_TO, 'unmap_single d0 m0', 'unmap_single d0 m0'],
    phrases: ['DMA-API:', 'tries to free DMA memory it has not allocated', 'already released at line 6'],
    good: [D0, B0, ...MAP_TO, 'unmap_single d0 m0', 'kfree b0', 'unbind d0'],
  },
  {
    name: 'double-unmap: unmap_sg twice',
    check: 'double-unmap',
    bad: [D0, B0, 's0 = map_sg d0 [b0] from_device', 'unmap_sg d0 s0', 'unmap_sg d0 s0'],
    phrases: ['DMA-API:', 'tries to free DMA memory it has not allocated'],
    good: [D0, B0, 's0 = map_sg d0 [b0] from_device', 'unmap_sg d0 s0', 'unbind d0'],
  },
  {
    // free_coherent twice is reported as a double unmap (dma-debug's "has not allocated")
    name: 'double-unmap: free_coherent twice',
    check: 'double-unmap',
    bad: [D0, 'c0 = alloc_coherent d0 4K', 'free_coherent d0 c0', 'free_coherent d0 c0'],
    phrases: ['DMA-API:', 'tries to free DMA memory it has not allocated', 'free_coherent of c0, which was already released at line 4'],
    good: [D0, 'c0 = alloc_coherent d0 4K', 'free_coherent d0 c0', 'unbind d0'],
  },

  // ---- sync checks (dma-debug check_sync and the executor's own)
  {
    name: 'map-error-unchecked at sync: sync_for_cpu of a mapping never checked',
    check: 'map-error-unchecked',
    bad: [D0, B0, 'm0 = map_single d0 b0 0 4K to_device', 'sync_for_cpu d0 m0'],
    phrases: ['DMA-API:', 'device driver failed to check map error', 'before sync_for_cpu'],
    good: [D0, B0, 'm0 = map_single d0 b0 0 4K to_device', 'mapping_error d0 m0', 'sync_for_cpu d0 m0', 'unmap_single d0 m0', 'unbind d0'],
  },
  {
    name: 'map-error-unchecked at sync: sync_for_device of a failed map never checked',
    check: 'map-error-unchecked',
    bad: ['dev d0 width=64 nomask', B0, 'm0 = map_single d0 b0 0 4K to_device', 'sync_for_device d0 m0'],
    phrases: ['DMA-API:', 'device driver failed to check map error', '0xffffffffffffffff'],
    good: ['dev d0 width=64 nomask', B0, 'm0 = map_single d0 b0 0 4K to_device', 'mapping_error d0 m0', 'sync_for_device d0 m0', 'unbind d0'],
  },
  {
    name: 'sync-unmapped: sync through a device that has no such mapping',
    check: 'sync-unmapped',
    bad: [D0, D1, B0, ...MAP_TO, 'sync_for_cpu d1 m0'],
    phrases: ['DMA-API: dmafuzz d1:', 'tries to sync DMA memory it has not allocated'],
    good: [D0, D1, B0, ...MAP_TO, 'sync_for_cpu d0 m0', 'unmap_single d0 m0', 'unbind d0'],
  },
  {
    name: 'sync-unmapped: a range sync that starts past the end of the mapping',
    check: 'sync-unmapped',
    bad: [D0, B0, ...MAP_TO, 'sync_for_cpu d0 m0 4K 16'],
    phrases: ['DMA-API:', 'tries to sync DMA memory it has not allocated', '[size=16 bytes]'],
    good: [D0, B0, ...MAP_TO, 'sync_for_cpu d0 m0 4080 16', 'unmap_single d0 m0', 'unbind d0'],
  },
  {
    name: 'sync-after-unmap: sync_for_device after unmap',
    check: 'sync-after-unmap',
    bad: [D0, B0, ...MAP_TO, 'unmap_single d0 m0', 'sync_for_device d0 m0'],
    phrases: ['DMA-API:', 'tries to sync DMA memory it has not allocated', 'after it was released at line 6'],
    good: [D0, B0, ...MAP_TO, 'sync_for_device d0 m0', 'unmap_single d0 m0', 'unbind d0'],
  },
  {
    name: 'sync-out-of-range: sync_for_cpu D M OFF LEN reaching past the end',
    check: 'sync-out-of-range',
    bad: [D0, B0, ...MAP_TO, 'sync_for_cpu d0 m0 2K 4K'],
    phrases: ['DMA-API:', 'syncs DMA memory outside allocated range', '[sync offset+size=6144]'],
    good: [D0, B0, ...MAP_TO, 'sync_for_cpu d0 m0 2K 2K', 'unmap_single d0 m0', 'unbind d0'],
  },
  {
    name: 'sync-direction: a to_device mapping synced from_device; a bidirectional one may be synced to_device',
    check: 'sync-direction',
    bad: [D0, B0, ...MAP_TO, 'sync_for_cpu d0 m0 from_device'],
    phrases: ['DMA-API:', 'syncs DMA memory with different direction', '[mapped with DMA_TO_DEVICE] [synced with DMA_FROM_DEVICE]'],
    good: [D0, B0, ...MAP_BIDI, 'sync_for_cpu d0 m0 to_device', 'sync_for_device d0 m0 0 4K to_device', 'unmap_single d0 m0', 'unbind d0'],
  },

  // ---- map-time and buffer checks
  {
    name: 'map-freed-buffer: map_single of a kfree-d buffer',
    check: 'map-freed-buffer',
    bad: [D0, B0, 'kfree b0', 'm0 = map_single d0 b0 0 4K to_device'],
    phrases: ['DMA-API:', 'maps memory from invalid area', 'b0 was freed at line 4'],
    good: [D0, B0, 'm0 = map_single d0 b0 0 4K to_device', 'mapping_error d0 m0', 'unmap_single d0 m0', 'kfree b0', 'unbind d0'],
  },
  {
    name: 'map-freed-buffer: map_sg with a freed entry',
    check: 'map-freed-buffer',
    bad: [D0, B0, 'b1 = kmalloc 4K', 'kfree b1', 's0 = map_sg d0 [b0 b1] to_device'],
    phrases: ['DMA-API:', 'maps memory from invalid area', 'b1 was freed'],
    good: [D0, B0, 'b1 = kmalloc 4K', 's0 = map_sg d0 [b0 b1] to_device', 'unmap_sg d0 s0', 'kfree b1', 'unbind d0'],
  },
  {
    name: 'map-out-of-bounds: map_single reaching past the end of the buffer',
    check: 'map-out-of-bounds',
    bad: [D0, B0, 'm0 = map_single d0 b0 2K 4K to_device'],
    phrases: ['DMA-API:', 'maps memory from invalid area', '[b0+2048 len 4096, buffer size 4096]'],
    good: [D0, B0, 'm0 = map_single d0 b0 2K 2K to_device', 'mapping_error d0 m0', 'unmap_single d0 m0', 'unbind d0'],
  },
  {
    name: 'map-out-of-bounds: a zero-length map_page',
    check: 'map-out-of-bounds',
    bad: [D0, B0, 'm0 = map_page d0 b0 0 0 to_device'],
    phrases: ['DMA-API:', 'maps memory from invalid area', 'zero bytes'],
    good: [D0, B0, 'm0 = map_page d0 b0 4095 1 to_device', 'mapping_error d0 m0', 'unmap_page d0 m0', 'unbind d0'],
  },
  {
    name: 'overlapping-mapping: mapping bytes a live mapping already covers (not both to_device)',
    check: 'overlapping-mapping',
    bad: [D0, B0, ...MAP_BIDI, 'm1 = map_single d0 b0 2K 2K from_device'],
    phrases: ['DMA-API:', "cacheline tracking EEXIST, overlapping mappings aren't supported", 'b0 is already mapped bidirectional by m0 at line 4'],
    good: [D0, B0, ...MAP_TO, 'm1 = map_single d0 b0 2K 2K to_device', 'mapping_error d0 m1', 'unmap_single d0 m1', 'unmap_single d0 m0', 'unbind d0'],
  },
  {
    name: 'overlapping-mapping: narrowly not when the ranges only touch',
    check: 'overlapping-mapping',
    bad: [D0, 'b0 = kmalloc 8K', 'm0 = map_single d0 b0 0 4K from_device', 'mapping_error d0 m0', 'm1 = map_single d0 b0 4095 4K from_device'],
    phrases: ['already mapped from_device by m0'],
    good: [D0, 'b0 = kmalloc 8K', 'm0 = map_single d0 b0 0 4K from_device', 'mapping_error d0 m0', 'm1 = map_single d0 b0 4K 4K from_device', 'mapping_error d0 m1', 'unmap_single d0 m1', 'unmap_single d0 m0', 'unbind d0'],
  },
  {
    name: 'overlapping-mapping: the same buffer twice in one scatter list (even to_device)',
    check: 'overlapping-mapping',
    bad: [D0, B0, 's0 = map_sg d0 [b0 b0] to_device'],
    phrases: ['DMA-API:', 'cacheline tracking EEXIST', 'b0 twice in one list'],
    good: [D0, B0, 'b1 = kmalloc 4K', 's0 = map_sg d0 [b0 b1] to_device', 'unmap_sg d0 s0', 'unbind d0'],
  },
  {
    name: 'overlapping-mapping: a map_sg over a live single mapping',
    check: 'overlapping-mapping',
    bad: [D0, B0, ...MAP_FROM, 's0 = map_sg d0 [b0] to_device'],
    phrases: ['already mapped from_device by m0'],
    good: [D0, B0, ...MAP_FROM, 'unmap_single d0 m0', 's0 = map_sg d0 [b0] to_device', 'unmap_sg d0 s0', 'unbind d0'],
  },
  {
    name: 'free-mapped-buffer: kfree while a mapping of it is live',
    check: 'free-mapped-buffer',
    bad: [D0, B0, ...MAP_TO, 'kfree b0'],
    phrases: ['DMA-API:', 'frees memory that is still DMA-mapped', 'mapping m0'],
    good: [D0, B0, ...MAP_TO, 'unmap_single d0 m0', 'kfree b0', 'unbind d0'],
  },
  {
    // KASAN's wording: kfree is not a DMA API call, so dma-debug has nothing to say
    name: 'double-free: kfree twice',
    check: 'double-free',
    bad: [B0, 'kfree b0', 'kfree b0'],
    phrases: ['BUG: KASAN: double-free in kfree [b0 was freed at line 3]', 'freed twice'],
    good: [B0, 'b1 = kmalloc 4K', 'kfree b0', 'kfree b1'],
  },
  {
    name: 'cpu-use-after-free: cpu_read of a kfree-d buffer',
    check: 'cpu-use-after-free',
    bad: [B0, 'cpu_write b0 0 64 seed=1', 'kfree b0', 'cpu_read b0 0 64'],
    phrases: ['BUG: KASAN: use-after-free in cpu_read', 'b0 freed at line 4'],
    good: [B0, 'cpu_write b0 0 64 seed=1', 'cpu_read b0 0 64', 'kfree b0'],
  },
  {
    name: 'cpu-use-after-free: cpu_write to a freed coherent buffer',
    check: 'cpu-use-after-free',
    bad: [D0, 'c0 = alloc_coherent d0 4K', 'free_coherent d0 c0', 'cpu_write c0 0 64 seed=1'],
    phrases: ['BUG: KASAN: use-after-free in cpu_write', 'c0 freed at line 4'],
    good: [D0, 'c0 = alloc_coherent d0 4K', 'cpu_write c0 0 64 seed=1', 'free_coherent d0 c0', 'unbind d0'],
  },
  {
    name: 'cpu-out-of-range: cpu_read one byte past the end',
    check: 'cpu-out-of-range',
    bad: [B0, 'cpu_read b0 1 4K'],
    phrases: ['BUG: KASAN: slab-out-of-bounds in cpu_read', '[b0+1 len 4096, size 4096]'],
    good: [B0, 'cpu_read b0 0 4K', 'cpu_write b0 4095 1 seed=2', 'kfree b0'],
  },

  // ---- lifecycle
  {
    name: 'leak: unbind with a live streaming mapping',
    check: 'leak',
    bad: [D0, B0, ...MAP_TO, 'unbind d0'],
    phrases: ['DMA-API:', 'device driver has pending DMA allocations while released from device [count=1]', '[type=single]', 'm0'],
    good: [D0, B0, ...MAP_TO, 'unmap_single d0 m0', 'unbind d0'],
  },
  {
    name: 'leak: unbind with a live coherent buffer',
    check: 'leak',
    bad: [D0, 'c0 = alloc_coherent d0 8K', 'unbind d0'],
    phrases: ['DMA-API:', 'has pending DMA allocations while released from device [count=1]', '[type=coherent]', 'c0'],
    good: [D0, 'c0 = alloc_coherent d0 8K', 'free_coherent d0 c0', 'unbind d0'],
  },
  {
    name: 'leak: counts every pending entry of the device (and only that device)',
    check: 'leak',
    bad: [D0, D1, B0, 'c0 = alloc_coherent d0 4K', 's0 = map_sg d0 [b0] to_device', 'c1 = alloc_coherent d1 4K', 'unbind d0'],
    phrases: ['[count=2]'],
    good: [D0, D1, B0, 'c0 = alloc_coherent d0 4K', 's0 = map_sg d0 [b0] to_device', 'c1 = alloc_coherent d1 4K', 'free_coherent d0 c0', 'unmap_sg d0 s0', 'unbind d0'],
  },
  {
    name: 'use-after-unbind: map_single after unbind (kmalloc and CPU access are not DMA API calls)',
    check: 'use-after-unbind',
    bad: [D0, 'unbind d0', B0, 'cpu_write b0 0 64 seed=1', 'm0 = map_single d0 b0 0 4K to_device'],
    phrases: ['DMA-API:', 'DMA API call after the driver was unbound', "map_single on d0 after 'unbind'"],
    good: [D0, 'unbind d0', B0, 'cpu_write b0 0 64 seed=1', 'cpu_read b0 0 64', 'kfree b0'],
  },
  {
    name: 'use-after-unbind: set_mask and alloc_coherent after unbind',
    check: 'use-after-unbind',
    bad: [D0, 'unbind d0', 'set_mask d0 64'],
    phrases: ['DMA API call after the driver was unbound', 'set_mask on d0'],
    good: [D0, 'set_mask d0 64', 'unbind d0'],
  },
  {
    name: 'use-after-unbind: unbind twice',
    check: 'use-after-unbind',
    bad: [D0, 'unbind d0', 'unbind d0'],
    phrases: ['DMA API call after the driver was unbound'],
    good: [D0, D1, 'unbind d0', 'unbind d1'],
  },

  // ---- device accesses through a handle
  {
    name: 'map-error-unchecked at device access: a live mapping handed to the device before mapping_error',
    check: 'map-error-unchecked',
    bad: [D0, B0, 'm0 = map_single d0 b0 0 4K to_device', 'dev_read d0 m0 0 64'],
    phrases: ['DMA-API:', 'device driver failed to check map error', 'before dma_mapping_error was called'],
    good: [D0, B0, 'm0 = map_single d0 b0 0 4K to_device', 'mapping_error d0 m0', 'dev_read d0 m0 0 64', 'unmap_single d0 m0', 'unbind d0'],
  },
  {
    name: 'map-error-unchecked at device access: a failed map (swiotlb) used without the check',
    check: 'map-error-unchecked',
    bad: [D0, ...FAILING_MAP, 'dev_read d0 m9 0 64'],
    phrases: ['DMA-API:', 'device driver failed to check map error', '0xffffffffffffffff', 'pointed at DMA_MAPPING_ERROR'],
    good: [D0, ...FAILING_MAP, 'mapping_error d0 m9', 'dev_read d0 m9 0 64', 'unmap_single d0 m9', 'unbind d0'],
    policies: ['direct'],
  },
  {
    name: 'map-error-unchecked: scatter-gather and coherent handles need no check (narrowly-not only)',
    check: 'map-error-unchecked',
    bad: [D0, B0, 'm0 = map_single d0 b0 0 4K bidirectional', 'dev_write d0 m0 0 64 seed=1'],
    phrases: ['failed to check map error'],
    good: [D0, B0, 's0 = map_sg d0 [b0] bidirectional', 'dev_write d0 s0[0] 0 64 seed=1', 'c0 = alloc_coherent d0 4K', 'dev_read d0 c0 0 64', 'unmap_sg d0 s0', 'free_coherent d0 c0', 'unbind d0'],
  },
  {
    name: 'nomask-dma: DMA through a failed map on a device without a mask, error ignored',
    check: 'nomask-dma',
    bad: ['dev d0 width=64 nomask', B0, 'm0 = map_single d0 b0 0 4K to_device', 'dev_write d0 m0 0 64 seed=1'],
    phrases: ['DMA-API:', 'DMA on a device without a DMA mask', 'the map of m0 failed and the error was ignored'],
    good: ['dev d0 width=64 nomask', B0, 'm0 = map_single d0 b0 0 4K to_device', 'mapping_error d0 m0', 'dev_write d0 m0 0 64 seed=1', 'unbind d0'],
  },
  {
    name: 'segment-out-of-range: S[5] of a 2-buffer scatter list',
    check: 'segment-out-of-range',
    bad: [D0, B0, 'b1 = kmalloc 4K', 's0 = map_sg d0 [b0 b1] bidirectional', 'dev_read d0 s0[5] 0 64'],
    phrases: ['dev_read uses s0[5] but map_sg returned', 'segment(s)'],
    good: [D0, B0, 'b1 = kmalloc 4K', 's0 = map_sg d0 [b0 b1] bidirectional', 'dev_read d0 s0[0] 0 64', 'unmap_sg d0 s0', 'unbind d0'],
  },
  {
    name: 'foreign-handle: a device DMAs through another device\'s mapping',
    check: 'foreign-handle',
    bad: [D0, D1, B0, ...MAP_BIDI, 'dev_read d1 m0 0 64'],
    phrases: ['dev_read: d1 uses m0, which was mapped for d0', 'only valid for the device it was mapped for'],
    good: [D0, D1, B0, ...MAP_BIDI, 'dev_read d0 m0 0 64', 'unmap_single d0 m0', 'unbind d0', 'unbind d1'],
  },
  {
    name: 'access-direction: dev_read of a from_device mapping',
    check: 'access-direction',
    bad: [D0, B0, ...MAP_FROM, 'dev_read d0 m0 0 64'],
    phrases: ['dev_read through m0, mapped from_device at line 4'],
    good: [D0, B0, ...MAP_FROM, 'dev_write d0 m0 0 64 seed=1', 'unmap_single d0 m0', 'unbind d0'],
  },
  {
    name: 'access-direction: dev_write of a to_device mapping',
    check: 'access-direction',
    bad: [D0, B0, ...MAP_TO, 'dev_write d0 m0 0 64 seed=1'],
    phrases: ['dev_write through m0, mapped to_device at line 4'],
    good: [D0, B0, ...MAP_TO, 'dev_read d0 m0 0 64', 'unmap_single d0 m0', 'unbind d0'],
  },
  {
    name: 'access-out-of-range: dev_read one byte past the mapping',
    check: 'access-out-of-range',
    bad: [D0, B0, ...MAP_BIDI, 'dev_read d0 m0 1 4K'],
    phrases: ['dev_read at m0+1 len 4096: the mapping is 4096 bytes', 'past the end of m0'],
    good: [D0, B0, ...MAP_BIDI, 'dev_read d0 m0 0 4K', 'dev_write d0 m0 4095 1 seed=1', 'unmap_single d0 m0', 'unbind d0'],
  },
  {
    name: 'access-out-of-range: a zero-length device access',
    check: 'access-out-of-range',
    bad: [D0, B0, ...MAP_BIDI, 'dev_write d0 m0 0 0 seed=1'],
    phrases: ['len 0'],
    good: [D0, B0, ...MAP_BIDI, 'dev_write d0 m0 0 1 seed=1', 'unmap_single d0 m0', 'unbind d0'],
  },
  {
    name: 'access-out-of-range: within the sg list but past its segment',
    check: 'access-out-of-range',
    bad: [D0, B0, 's0 = map_sg d0 [b0] to_device', 'dev_read d0 s0[0] 2K 4K'],
    phrases: ['dev_read at s0+2048 len 4096'],
    good: [D0, B0, 's0 = map_sg d0 [b0] to_device', 'dev_read d0 s0[0] 2K 2K', 'unmap_sg d0 s0', 'unbind d0'],
  },
];

describe('api-misuse: every check, triggered and narrowly not', () => {
  for (const c of CASES) {
    const policies = c.policies ?? ALL_POLICIES;
    it(c.name, () => {
      for (const p of policies) {
        const line = lineOf(c.at ?? c.bad.length - 1);
        assertMisuse(runText(prog(...c.bad), p), c.check, line, c.phrases, `${p} bad`);
        assertOk(runText(prog(...c.good), p), `${p} good`);
      }
    });
  }

  it('covers every api-misuse check the executor implements', () => {
    const covered = new Set(CASES.map((c) => c.check));
    for (const check of [
      'invalid-free', 'free-unmapped', 'wrong-size', 'wrong-function', 'wrong-direction', 'map-error-unchecked',
      'double-unmap', 'sync-unmapped', 'sync-after-unmap', 'sync-out-of-range', 'sync-direction',
      'map-freed-buffer', 'map-out-of-bounds', 'free-mapped-buffer', 'double-free', 'leak', 'nomask-dma',
      'use-after-unbind', 'cpu-use-after-free', 'cpu-out-of-range', 'access-direction', 'access-out-of-range',
      'segment-out-of-range', 'foreign-handle', 'overlapping-mapping',
    ]) {
      assert.ok(covered.has(check), check);
    }
  });

  // A release or sync through the wrong device: dma-debug alone would be fooled when that
  // device has its own live entry at the same address (per-domain IOVA spaces make that the
  // normal case on every IOMMU policy); the contract knows which device made the handle.

  it('free-unmapped: unmap through a device whose own mapping has the same IOVA', () => {
    const lines = [D0, D1, B0, 'b1 = kmalloc 4K', ...MAP_TO, 'm1 = map_single d1 b1 0 4K to_device', 'mapping_error d1 m1', 'unmap_single d1 m0', 'dev_read d1 m1 0 64'];
    for (const p of ALL_POLICIES) {
      // today: direct ok (bounce slots differ); iommu, intel-2019, bypass-flag, default-domain, commit-on-map: iommu-fault/layer@11
      assertMisuse(runText(prog(...lines), p), 'free-unmapped', lineOf(8), ['tries to free DMA memory it has not allocated'], p);
    }
  });

  it('free-unmapped: unmap through a device that mapped the same buffer at the same dma-direct address', () => {
    const lines = [D0, D1, 'set_mask d0 64', 'set_mask d1 64', B0, ...MAP_TO, 'm1 = map_single d1 b0 0 4K to_device', 'mapping_error d1 m1', 'unmap_single d1 m0', 'unmap_single d1 m1'];
    // today under direct: the line-11 unmap passes (it consumes m1's entry) and the legal line-12 unmap is reported
    assertMisuse(runText(prog(...lines), 'direct'), 'free-unmapped', lineOf(9), ['tries to free DMA memory it has not allocated'], 'direct');
  });

  it('free-unmapped: free_coherent through a device whose own coherent buffer has the same IOVA', () => {
    const lines = [D0, D1, 'c0 = alloc_coherent d0 4K', 'c1 = alloc_coherent d1 4K', 'free_coherent d1 c0', 'dev_read d1 c1 0 64'];
    for (const p of ALL_POLICIES) {
      // today: direct is right; the IOMMU policies give iommu-fault/layer@7 on the legal dev_read of c1
      assertMisuse(runText(prog(...lines), p), 'free-unmapped', lineOf(4), ['tries to free DMA memory it has not allocated'], p);
    }
  });

  it('sync-unmapped: sync through a device whose own mapping has the same IOVA', () => {
    const lines = [D0, D1, B0, 'b1 = kmalloc 4K', ...MAP_FROM, 'm1 = map_single d1 b1 0 4K from_device', 'mapping_error d1 m1', 'sync_for_cpu d1 m0', 'cpu_read b0 0 64'];
    for (const p of ALL_POLICIES) {
      // today: direct is right; the IOMMU policies accept it (ok) and hand m0 to the CPU without a sync on d0
      assertMisuse(runText(prog(...lines), p), 'sync-unmapped', lineOf(8), ['tries to sync DMA memory it has not allocated'], p);
    }
  });

  it('the run stops at the failing statement: later statements are not executed', () => {
    const r = runText(prog(D0, B0, ...MAP_TO, 'unmap_single d0 m0 2K', 'unmap_single d0 m0', 'unbind d0'), 'iommu');
    assert.equal(brief(r), `api-misuse:wrong-size/driver@${lineOf(4)}`);
    assert.equal(r.trace.length, 5);
    assert.equal(r.trace.at(-1)!.note, 'CRASH api-misuse:wrong-size');
  });

  it('access-direction is judged before the access, even where the IOMMU would fault (no iommu-fault, no rogue)', () => {
    for (const p of ALL_POLICIES) {
      for (const [map, access] of [
        [MAP_FROM, 'dev_read d0 m0 0 64'],
        [MAP_TO, 'dev_write d0 m0 0 64 seed=1'],
      ] as const) {
        const r = runText(prog(D0, B0, ...map, access), p);
        assert.equal(brief(r), `api-misuse:access-direction/driver@${lineOf(4)}`, p);
        assert.deepEqual(r.verdict.security, { rogue: 0, contained: 0, escaped: 0 });
      }
    }
    // under iommu the page table really lacks the permission: a raw access at the same bus address faults
    const iova = runText(prog(D0, B0, ...MAP_FROM), 'iommu').trace[2]!.note.split(' ')[0]!;
    const raw = runText(prog(D0, B0, ...MAP_FROM, `dev_read_raw d0 ${iova} 64`), 'iommu');
    assert.equal(brief(raw), 'ok');
    assert.match(raw.trace.at(-1)!.note, /inside live m0: refused/);
  });

  it('a failed map_single released without the check is invalid-free (map-error-unchecked is never reached there)', () => {
    // checkRelease falls back to map-error-unchecked only if dma-debug passes a failed
    // handle, but a failed single/page handle is always DMA_MAPPING_ERROR (invalid-free)
    // and failed coherent/sg handles count as checked: that fallback is unreachable.
    const r = runText(prog('dev d0 width=64 nomask', B0, 'm0 = map_page d0 b0 0 4K bidirectional', 'unmap_page d0 m0'), 'intel-2019');
    assertMisuse(r, 'invalid-free', lineOf(3), ['never called dma_mapping_error before unmap_page']);
  });
});

describe('dma-debug wrong-function, checked directly on DmaDebug', () => {
  // From a program, wrong-function needs two entries at one address (see the
  // best-fit case above): the validator rejects unmap_single on an sg and
  // free_coherent on a mapping, and each release statement passes its own type.
  const m = new Machine({ ...DEFAULT_CONFIG, policy: 'direct' });
  const name = 'DMA-API: dmafuzz x0';

  it('a coherent entry unmapped as single', () => {
    m.debug.reset();
    m.debug.add(0, 0x1000n, 4096, 0x1000, MapType.Coherent, 'bidirectional');
    const r = m.debug.checkUnmap(0, 0x1000n, 4096, MapType.Single, 'bidirectional', name);
    assert.equal(r?.check, 'wrong-function');
    assert.ok(r.message.includes('DMA-API: dmafuzz x0: device driver frees DMA memory with wrong function'), r.message);
    assert.ok(r.message.includes('[mapped as coherent] [unmapped as single]'), r.message);
    assert.equal(m.debug.liveCount(), 1, 'a failed check keeps the entry');
  });

  it('an sg entry freed as coherent', () => {
    m.debug.reset();
    m.debug.add(0, 0x2000n, 8192, 0x2000, MapType.Sg, 'to_device', 2);
    const r = m.debug.checkUnmap(0, 0x2000n, 8192, MapType.Coherent, undefined, name);
    assert.equal(r?.check, 'wrong-function');
    assert.ok(r.message.includes('[mapped as scatter-gather] [unmapped as coherent]'), r.message);
  });

  it('narrowly not: the same type passes and removes the entry', () => {
    m.debug.reset();
    m.debug.add(0, 0x2000n, 8192, 0x2000, MapType.Sg, 'to_device', 2);
    assert.equal(m.debug.checkUnmap(0, 0x2000n, 8192, MapType.Sg, 'to_device', name), undefined);
    assert.equal(m.debug.liveCount(), 0);
  });

  it('check order: invalid address, then not allocated, size, function, direction, unchecked', () => {
    m.debug.reset();
    assert.equal(m.debug.checkUnmap(0, DMA_MAPPING_ERROR, 4096, MapType.Single, 'to_device', name)?.check, 'invalid-free');
    m.debug.add(0, 0x3000n, 4096, 0x3000, MapType.Single, 'to_device');
    assert.equal(m.debug.checkUnmap(1, 0x3000n, 4096, MapType.Single, 'to_device', name)?.check, 'free-unmapped');
    assert.equal(m.debug.checkUnmap(0, 0x3000n, 512, MapType.Sg, 'from_device', name)?.check, 'wrong-size');
    assert.equal(m.debug.checkUnmap(0, 0x3000n, 4096, MapType.Sg, 'from_device', name)?.check, 'wrong-function');
    assert.equal(m.debug.checkUnmap(0, 0x3000n, 4096, MapType.Single, 'from_device', name)?.check, 'wrong-direction');
    assert.equal(m.debug.checkUnmap(0, 0x3000n, 4096, MapType.Single, 'to_device', name)?.check, 'map-error-unchecked');
    m.debug.markChecked(0, 0x3000n);
    assert.equal(m.debug.checkUnmap(0, 0x3000n, 4096, MapType.Single, 'to_device', name), undefined);
    m.debug.reset();
  });
});

describe('dma-after-unmap (driver) and the security record', () => {
  const AFTER = [D0, B0, ...MAP_BIDI, 'dev_read d0 m0 0 64', 'unmap_single d0 m0', 'dev_write d0 m0 0 64 seed=3'];

  it('under iommu strict the access is contained', () => {
    const r = runText(prog(...AFTER), 'iommu');
    assert.equal(brief(r), `dma-after-unmap/driver@${lineOf(6)}`);
    assert.deepEqual(r.verdict.security, { rogue: 1, contained: 1, escaped: 0 });
    assert.match(r.verdict.message!, /after dma_unmap of m0 \(line 7\) — contained by the IOMMU: DMAR: \[DMA Write\]/);
  });

  it('under direct it escapes', () => {
    const r = runText(prog(...AFTER), 'direct');
    assert.equal(brief(r), `dma-after-unmap/driver@${lineOf(6)}`);
    assert.deepEqual(r.verdict.security, { rogue: 1, contained: 0, escaped: 1 });
    assert.match(r.verdict.message!, /escaped: it reached phys/);
  });

  it('under iommu inval=lazy a filled IOTLB entry lets it escape; after a tick it is contained', () => {
    const lazy = (...lines: string[]) => prog('machine inval=lazy', ...lines);
    const stale = runText(lazy(...AFTER), 'iommu');
    assert.equal(brief(stale), `dma-after-unmap/driver@${lineOf(7)}`);
    assert.deepEqual(stale.verdict.security, { rogue: 1, contained: 0, escaped: 1 });
    assert.match(stale.verdict.message!, /escaped through a stale IOTLB entry/);

    const ticked = runText(lazy(...AFTER.slice(0, -1), 'tick', AFTER.at(-1)!), 'iommu');
    assert.equal(brief(ticked), `dma-after-unmap/driver@${lineOf(8)}`);
    assert.deepEqual(ticked.verdict.security, { rogue: 1, contained: 1, escaped: 0 });

    // no access before the unmap: nothing was cached, so even lazy mode contains it
    const cold = runText(lazy(D0, B0, ...MAP_BIDI, 'unmap_single d0 m0', 'dev_write d0 m0 0 64 seed=3'), 'iommu');
    assert.equal(brief(cold), `dma-after-unmap/driver@${lineOf(6)}`);
    assert.deepEqual(cold.verdict.security, { rogue: 1, contained: 1, escaped: 0 });
  });

  it('an access through an unmapped handle is dma-after-unmap whatever it hits (wrong direction, out of range, a reused IOVA)', () => {
    for (const p of ALL_POLICIES) {
      // against the direction: still dma-after-unmap, not access-direction
      const dir = runText(prog(D0, B0, ...MAP_TO, 'unmap_single d0 m0', 'dev_write d0 m0 0 64 seed=1'), p);
      assert.equal(brief(dir), `dma-after-unmap/driver@${lineOf(5)}`, p);
      // past the end: not access-out-of-range
      const oor = runText(prog(D0, B0, ...MAP_TO, 'unmap_single d0 m0', 'dev_read d0 m0 1 4K'), p);
      assert.equal(brief(oor), `dma-after-unmap/driver@${lineOf(5)}`, p);
      // through another device: not foreign-handle
      const foreign = runText(prog(D0, D1, B0, ...MAP_TO, 'unmap_single d0 m0', 'dev_read d1 m0 0 64'), p);
      assert.equal(brief(foreign), `dma-after-unmap/driver@${lineOf(6)}`, p);
      // a freed coherent buffer
      const coh = runText(prog(D0, 'c0 = alloc_coherent d0 4K', 'free_coherent d0 c0', 'dev_read d0 c0 0 64'), p);
      assert.equal(brief(coh), `dma-after-unmap/driver@${lineOf(3)}`, p);
      assert.match(coh.verdict.message!, /after dma_free_coherent of c0/);
      // an unmapped sg segment
      const sg = runText(prog(D0, B0, 's0 = map_sg d0 [b0] from_device', 'unmap_sg d0 s0', 'dev_write d0 s0[0] 0 64 seed=1'), p);
      assert.equal(brief(sg), `dma-after-unmap/driver@${lineOf(4)}`, p);
    }
    // strict iommu reuses the IOVA for the next mapping: the stale handle reaches live memory
    const reused = runText(prog(D0, B0, ...MAP_TO, 'unmap_single d0 m0', 'm1 = map_single d0 b0 0 4K bidirectional', 'mapping_error d0 m1', 'dev_write d0 m0 0 64 seed=1'), 'iommu');
    assert.equal(reused.trace[2]!.note, reused.trace[5]!.note, 'the IOVA is reused');
    assert.equal(brief(reused), `dma-after-unmap/driver@${lineOf(7)}`);
    assert.deepEqual(reused.verdict.security, { rogue: 1, contained: 0, escaped: 1 });
  });
});

describe('cpu-owns-violation (driver)', () => {
  it('cpu_read of a from_device-mapped buffer before sync_for_cpu', () => {
    for (const p of ALL_POLICIES) {
      const r = runText(prog(D0, B0, ...MAP_FROM, 'dev_write d0 m0 0 64 seed=1', 'cpu_read b0 0 64'), p);
      assert.equal(brief(r), `cpu-owns-violation/driver@${lineOf(5)}`, p);
      assert.match(r.verdict.message!, /DMA-API: cpu touching an active dma mapped cacheline \[m0, mapped from_device at line 4\]/);
    }
  });

  it('cpu_write into a live mapping (only the mapped bytes count)', () => {
    const lines = [D0, 'b0 = kmalloc 8K', 'm0 = map_single d0 b0 0 4K to_device', 'mapping_error d0 m0'];
    assert.equal(brief(runText(prog(...lines, 'cpu_write b0 4095 2 seed=1'), 'iommu')), `cpu-owns-violation/driver@${lineOf(4)}`);
    assert.equal(brief(runText(prog(...lines, 'cpu_write b0 4K 4K seed=1', 'cpu_read b0 4K 4K'), 'iommu')), 'ok');
  });

  it('dev_write after sync_for_cpu, before sync_for_device', () => {
    for (const p of ALL_POLICIES) {
      const r = runText(prog(D0, B0, ...MAP_BIDI, 'sync_for_cpu d0 m0', 'dev_write d0 m0 0 64 seed=1'), p);
      assert.equal(brief(r), `cpu-owns-violation/driver@${lineOf(5)}`, p);
      assert.match(r.verdict.message!, /while the CPU owns it \(after sync_for_cpu\)/);
    }
  });

  it('a range sync_for_cpu hands over only that range', () => {
    const lines = [D0, B0, ...MAP_BIDI, 'sync_for_cpu d0 m0 0 2K'];
    assert.equal(brief(runText(prog(...lines, 'dev_write d0 m0 2K 2K seed=1'), 'iommu')), 'ok');
    assert.equal(brief(runText(prog(...lines, 'dev_write d0 m0 2047 2 seed=1'), 'iommu')), `cpu-owns-violation/driver@${lineOf(5)}`);
    assert.equal(brief(runText(prog(...lines, 'cpu_read b0 2047 2'), 'iommu')), `cpu-owns-violation/driver@${lineOf(5)}`);
  });

  it('narrowly not: with sync_for_cpu before the CPU and sync_for_device before the device', () => {
    for (const p of ALL_POLICIES) {
      const r = runText(
        prog(D0, B0, ...MAP_BIDI, 'dev_write d0 m0 0 64 seed=1', 'sync_for_cpu d0 m0', 'cpu_read b0 0 64', 'cpu_write b0 64 64 seed=2',
          'sync_for_device d0 m0', 'dev_read d0 m0 64 64', 'dev_write d0 m0 128 64 seed=3', 'unmap_single d0 m0', 'cpu_read b0 0 192', 'kfree b0', 'unbind d0'),
        p,
      );
      assertOk(r, p);
    }
  });
});

describe('dev_*_raw: a hostile device, counted but never a crash by itself', () => {
  it('a raw write to a RAM address escapes under direct and is contained under iommu', () => {
    const lines = [D0, 'dev_write_raw d0 0x12345000 64 seed=1', 'dev_read_raw d0 0x12345000 64'];
    const direct = runText(prog(...lines), 'direct');
    assertOk(direct);
    assert.deepEqual(direct.verdict.security, { rogue: 2, contained: 0, escaped: 2 });
    assert.match(direct.trace[1]!.note, /^rogue: escaped: it reached phys 0x12345000\+64/);
    const iommu = runText(prog(...lines), 'iommu');
    assertOk(iommu);
    assert.deepEqual(iommu.verdict.security, { rogue: 2, contained: 2, escaped: 0 });
    assert.match(iommu.trace[1]!.note, /^rogue: contained by the IOMMU: DMAR: \[DMA Write\]/);
  });

  it('an escaped raw write over a driver buffer makes its bytes undefined, not stale', () => {
    // kmalloc lands at 0x100000000 (the highest zone); under direct the raw write hits it
    const r = runText(prog(D0, B0, 'cpu_write b0 0 4K seed=1', 'dev_write_raw d0 0x100000000 64 seed=9', 'cpu_read b0 0 4K', 'kfree b0', 'unbind d0'), 'direct');
    assertOk(r);
    assert.deepEqual(r.verdict.security, { rogue: 1, contained: 0, escaped: 1 });
  });

  it('a raw access to an address nothing backs is contained', () => {
    const r = runText(prog(D0, 'set_mask d0 64', 'dev_read_raw d0 0x90000000 64'), 'direct'); // the 2-4G hole
    assertOk(r);
    assert.deepEqual(r.verdict.security, { rogue: 1, contained: 1, escaped: 0 });
  });

  it('a raw access inside one of the device\'s own live mappings is not rogue', () => {
    for (const p of ALL_POLICIES) {
      const setup = [D0, B0, ...MAP_BIDI];
      const handle = runText(prog(...setup), p).trace[2]!.note.split(' ')[0]!;
      assert.match(handle, /^0x[0-9a-f]+$/);
      const r = runText(prog(...setup, `dev_write_raw d0 ${handle} 64 seed=1`, `dev_read_raw d0 ${handle} 64`, 'unmap_single d0 m0', 'unbind d0'), p);
      assertOk(r, p);
      assert.deepEqual(r.verdict.security, { rogue: 0, contained: 0, escaped: 0 }, p);
      assert.match(r.trace[4]!.note, /inside live m0/);
    }
  });

  it('the same address after the unmap is rogue', () => {
    const setup = [D0, B0, ...MAP_BIDI];
    const handle = runText(prog(...setup), 'iommu').trace[2]!.note.split(' ')[0]!;
    const r = runText(prog(...setup, 'unmap_single d0 m0', `dev_read_raw d0 ${handle} 64`), 'iommu');
    assertOk(r);
    assert.deepEqual(r.verdict.security, { rogue: 1, contained: 1, escaped: 0 });
  });
});

describe('error paths: failed maps and NULL allocations the driver checked are skipped', () => {
  it('a failed map_single checked with mapping_error: later uses are skipped (ok)', () => {
    const r = runText(prog(D0, ...FAILING_MAP, 'mapping_error d0 m9', 'sync_for_device d0 m9', 'dev_read d0 m9 0 64', 'sync_for_cpu d0 m9', 'unmap_single d0 m9', 'kfree b9', 'unbind d0'), 'direct');
    assertOk(r);
    assert.match(r.trace[2]!.note, /^DMA_MAPPING_ERROR \[swiotlb buffer is full/);
    assert.match(r.trace[3]!.note, /^-ENOMEM/);
    for (const i of [4, 5, 6, 7]) assert.match(r.trace[i]!.note, /^skipped: m9 failed and the driver checked it/);
  });

  it('a failed map_sg needs no check: 0 segments, later uses skipped', () => {
    const r = runText(prog('dev d0 width=64 nomask', B0, 's0 = map_sg d0 [b0] to_device', 'dev_read d0 s0[0] 0 64', 'sync_for_device d0 s0', 'unmap_sg d0 s0', 'unbind d0'), 'iommu');
    assertOk(r);
    assert.match(r.trace[2]!.note, /^0 segments/);
  });

  it('alloc_coherent NULL (mask too narrow for the size): later uses skipped', () => {
    for (const p of ALL_POLICIES) {
      const r = runText(prog(D0, 'set_coherent_mask d0 24', 'c0 = alloc_coherent d0 32M', 'cpu_write c0 0 64 seed=1', 'dev_write d0 c0 0 64 seed=2', 'cpu_read c0 0 64', 'free_coherent d0 c0', 'unbind d0'), p);
      assertOk(r, p);
      assert.match(r.trace[2]!.note, /^NULL/, p);
      assert.match(r.trace[3]!.note, /^skipped: c0 is NULL/, p);
      assert.match(r.trace[4]!.note, /^skipped/, p);
    }
  });

  it('alloc_coherent NULL on a nomask device: later uses skipped', () => {
    const r = runText(prog('dev d0 width=64 nomask', 'c0 = alloc_coherent d0 4K', 'dev_read d0 c0 0 64', 'free_coherent d0 c0', 'unbind d0'), 'direct');
    assertOk(r);
    assert.match(r.trace[1]!.note, /^NULL/);
  });

  it(
    'alloc_coherent of 8G returns NULL and later uses are skipped',
    () => {
      for (const p of ALL_POLICIES) {
        const r = runText(prog(D0, 'c0 = alloc_coherent d0 8G', 'cpu_write c0 0 64 seed=1', 'dev_write d0 c0 0 64 seed=2', 'free_coherent d0 c0', 'unbind d0'), p);
        assertOk(r, p);
        assert.match(r.trace[1]!.note, /^NULL/, p);
      }
    },
  );
});

describe('the width-lie rule: a device that drives fewer bits than the mask the driver set', () => {
  const LIE = ['dev d0 width=32', 'set_mask_and_coherent d0 64', B0, ...MAP_BIDI];

  it('dev_write under direct: the address is truncated, the crash is blamed on the driver', () => {
    const r = runText(prog(...LIE, 'dev_write d0 m0 0 64 seed=1'), 'direct');
    assert.match(r.trace[2]!.note, /^phys 0x100000000/, 'kmalloc lands above 4G');
    assert.equal(r.trace[3]!.path, 'direct');
    assert.equal(brief(r), `memory-corruption/driver@${lineOf(5)}`);
    assert.match(r.verdict.message!, /drives only 32 address bits but the driver set a 64-bit mask, so 0x100000000 was cut to 0x0/);
    assert.match(r.verdict.message!, /lied about the width/);
  });

  it('dev_read: the same lie gives stale-data, still the driver\'s', () => {
    const r = runText(prog('dev d0 width=32', 'set_mask_and_coherent d0 64', B0, 'cpu_write b0 0 64 seed=4', ...MAP_TO, 'dev_read d0 m0 0 64'), 'direct');
    assert.equal(brief(r), `stale-data/driver@${lineOf(6)}`);
    assert.match(r.verdict.message!, /lied about the width/);
  });

  it('narrowly not: an honest 64-bit device, or a 32-bit mask that bounces', () => {
    assertOk(runText(prog('dev d0 width=64', 'set_mask_and_coherent d0 64', B0, ...MAP_BIDI, 'dev_write d0 m0 0 64 seed=1', 'unmap_single d0 m0', 'cpu_read b0 0 64'), 'direct'));
    assertOk(runText(prog('dev d0 width=32', B0, ...MAP_BIDI, 'dev_write d0 m0 0 64 seed=1', 'unmap_single d0 m0', 'cpu_read b0 0 64'), 'direct'));
  });
});

describe('stale-data (layer): swiotlb_map_copy=dir keeps the previous slot user\'s bytes', () => {
  const program = (copy: 'dir' | 'always') =>
    prog(
      `machine swiotlb=256K swiotlb_map_copy=${copy}`,
      'dev d0 width=64', // 32-bit masks: memory above 4G bounces
      'a = kmalloc 256K',
      'b = kmalloc 4K',
      'cpu_write a 0 256K seed=5',
      'm0 = map_single d0 a 0 256K to_device', // fills the whole pool: the slot cursor wraps to 0
      'mapping_error d0 m0',
      'unmap_single d0 m0',
      'm1 = map_single d0 b 0 4K from_device', // the slot a's bytes are still in
      'mapping_error d0 m1',
      'dev_write d0 m1 0 1K seed=9',
      'unmap_single d0 m1', // copies the whole slot back
      'cpu_read b 0 1K',
      'cpu_read b 1K 3K', // bytes the device did not write
    );

  it('with dir (Linux 5.4): the unwritten bytes come back stale, blamed on the layer', () => {
    const r = runText(program('dir'), 'direct');
    assert.equal(r.trace[4]!.path, 'bounce');
    assert.equal(r.trace[7]!.path, 'bounce');
    assert.equal(r.trace[4]!.note, r.trace[7]!.note, 'the second user gets the same slot');
    assert.equal(brief(r), 'stale-data/layer@15');
    assert.match(r.verdict.message!, /^cpu_read b: byte 1024 \(0x400\) is 0x[0-9a-f]+, the contract says 0x0/);
  });

  it('with always (Linux 5.18+): ok', () => {
    assertOk(runText(program('always'), 'direct'));
  });
});

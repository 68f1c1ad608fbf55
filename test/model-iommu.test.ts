/**
 * The IOMMU model (linux-dma-reference.md 3.3-3.6, SPEC section 4): the IOVA
 * allocator, VT-d page tables, the IOTLB, the bus as a device sees it
 * (identity, translated, bypass window, faults, lazy staleness), and the
 * iommu-dma path of the mapping layer (IOVA placement, map_sg merging), with
 * dma-direct's per-buffer map_sg and bouncing for contrast.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { applyMachineWords, DEFAULT_CONFIG } from '../src/machine/config.js';
import { Machine } from '../src/machine/machine.js';
import { ExtentKind } from '../src/machine/page-allocator.js';
import { IovaState, IOVA_START_PFN, roundUpPow2 } from '../src/iommu/iova.js';
import { PERM_READ, PERM_WRITE } from '../src/iommu/page-table.js';
import { DomainType, IDENTITY_DOMAIN, MSI_WINDOW_HI_PFN, MSI_WINDOW_LO_PFN, NO_DOMAIN } from '../src/iommu/domains.js';
import { AccessStatus, FAULT_REASONS } from '../src/iommu/bus.js';
import { DmaLayer, DMA_MAPPING_ERROR } from '../src/dma/mapping.js';
import { MAX_SEGMENT_BYTES } from '../src/dma/iommu-dma.js';
import { builtinPolicy } from '../src/policy/registry.js';
import type { MachineWord } from '../src/program/ast.js';

const K = 2 ** 10;
const M = 2 ** 20;
const G = 2 ** 30;
const PAGE = 4096;

function machine(...kv: string[]): Machine {
  const words: MachineWord[] = kv.map((s, i) => ({ key: s.split('=')[0]!, value: s.slice(s.indexOf('=') + 1), column: 9 + i }));
  return new Machine(applyMachineWords(DEFAULT_CONFIG, words));
}

/** A machine, a layer under `policy`, and one device of `width` address bits with the given masks. */
function setup(policy: string, opts: { words?: string[]; width?: number; mask?: number; coherent?: number } = {}) {
  const m = machine(...(opts.words ?? []));
  const layer = new DmaLayer(m, builtinPolicy(policy)!);
  const dev = layer.addDevice(opts.width ?? 64, false);
  if (opts.mask !== undefined) assert.equal(layer.setMask(dev, opts.mask, false), 0);
  if (opts.coherent !== undefined) assert.equal(layer.setMask(dev, opts.coherent, true), 0);
  const domain = (): number => m.v.devDomain[dev]!;
  return { m, layer, dev, domain };
}

function kmalloc(m: Machine, bytes: number, zone: 'dma' | 'dma32' | 'normal' = 'normal'): number {
  const p = m.pages.alloc(bytes, zone, ExtentKind.Kmalloc);
  assert.ok(p >= 0);
  return p;
}

describe('IOVA allocator', () => {
  // The rounding both intel_alloc_iova and iommu_dma_alloc_iova apply.
  it('roundUpPow2', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 5, 7, 8, 9, 17, 1024, 1025].map(roundUpPow2), [1, 1, 2, 4, 4, 8, 8, 8, 16, 32, 1024, 2048]);
  });

  // Intel reserves the IOAPIC/MSI window 0xFEE00000-0xFEEFFFFF in every domain.
  it('a translated domain starts with the MSI window reserved', () => {
    const m = machine();
    const d = m.domains.createTranslated(false);
    assert.equal(m.domains.type(d), DomainType.Translated);
    assert.equal(MSI_WINDOW_LO_PFN, 0xfee00);
    assert.equal(MSI_WINDOW_HI_PFN, 0xfeeff);
    const r = m.iova.find(d, 0xfee80);
    assert.ok(r >= 0);
    assert.equal(m.iova.lo(r), 0xfee00);
    assert.equal(m.iova.hi(r), 0xfeeff);
    assert.equal(m.iova.state(r), IovaState.Reserved);
    assert.equal(m.iova.find(d, 0xfedff), -1);
    assert.equal(m.iova.find(d, 0xfef00), -1);
  });

  // Top-down below the limit: the first page below 4G is 0xFFFFF.
  it('allocates top-down below the limit', () => {
    const m = machine();
    const d = m.domains.createTranslated(false);
    assert.equal(m.iova.alloc(d, 1, 0xfffff), 0xfffff);
    assert.equal(m.iova.alloc(d, 1, 0xfffff), 0xffffe);
    assert.equal(m.iova.alloc(d, 1, 0xfffff), 0xffffd);
    assert.equal(m.iova.alloc(d, 1, 0x3ffff), 0x3ffff); // a lower limit starts lower
    assert.equal(m.iova.alloc(d, 1, 2 ** 36 - 1), 2 ** 36 - 1); // a 48-bit limit
    const r = m.iova.find(d, 0xffffe);
    assert.equal(m.iova.state(r), IovaState.Allocated);
    assert.equal(m.iova.lo(r), 0xffffe);
    assert.equal(m.iova.hi(r), 0xffffe);
  });

  // Size-aligned allocation: a power-of-two block starts on a multiple of its size, gaps get reused.
  it('aligns power-of-two blocks to their size and fills gaps top-down', () => {
    const m = machine();
    const d = m.domains.createTranslated(false);
    assert.equal(m.iova.alloc(d, 1, 0xfffff), 0xfffff);
    assert.equal(m.iova.alloc(d, 4, 0xfffff), 0xffff8); // 0xffffb is not 4-aligned: down to 0xffff8
    assert.equal(m.iova.alloc(d, 2, 0xfffff), 0xffffc); // the 3-page gap above holds a 2-block at 0xffffc
    assert.equal(m.iova.alloc(d, 1, 0xfffff), 0xffffe); // and the last page of the gap
    assert.equal(m.iova.alloc(d, 8, 0xfffff), 0xffff0);
    assert.equal(m.iova.alloc(d, 256, 0xfffff), 0xffe00);
    const r = m.iova.find(d, 0xffe80);
    assert.deepEqual([m.iova.lo(r), m.iova.hi(r)], [0xffe00, 0xffeff]);
  });

  // Intel IOVA_START_PFN = 1: IOVA 0 is never returned.
  it('never hands out page 0', () => {
    const m = machine();
    const d = m.domains.createTranslated(false);
    assert.equal(IOVA_START_PFN, 1);
    assert.equal(m.iova.alloc(d, 2, 1), -1); // the only 2-aligned block below the limit is pages 0-1
    assert.equal(m.iova.alloc(d, 1, 1), 1);
    assert.equal(m.iova.alloc(d, 1, 1), -1); // only page 0 is left
    assert.equal(m.iova.alloc(d, 1, 0), -1);
  });

  // reserve_iova: the allocator walks around the reserved window.
  it('skips the reserved MSI window', () => {
    const m = machine();
    const d = m.domains.createTranslated(false);
    // 0xFEF00-0xFFFFF (0x1100 pages) lies above the window: fill it with a 4096- and a 256-page block
    assert.equal(m.iova.alloc(d, 4096, 0xfffff), 0xff000);
    assert.equal(m.iova.alloc(d, 256, 0xfffff), 0xfef00);
    // the next page jumps below the window
    assert.equal(m.iova.alloc(d, 1, 0xfffff), 0xfedff);
    // a block that would overlap the window is placed below it
    const m2 = machine();
    const d2 = m2.domains.createTranslated(false);
    assert.equal(m2.iova.alloc(d2, 0x4000, 0xfffff), 0xf8000); // [0xf8000, 0xfbfff] (0xfc000 would cover the window)
  });

  // Lazy unmap: the range sits in the flush queue, not reusable, until the flush.
  it('queue keeps a range unavailable until the domain is flushed', () => {
    const m = machine();
    const d = m.domains.createTranslated(false);
    assert.equal(m.iova.alloc(d, 1, 0xfffff), 0xfffff);
    const r = m.iova.find(d, 0xfffff);
    m.iova.queue(d, r);
    assert.equal(m.iova.state(r), IovaState.Queued);
    assert.equal(m.domains.queued(d), 1);
    assert.equal(m.iova.alloc(d, 1, 0xfffff), 0xffffe); // not the queued one
    assert.equal(m.domains.flush(d), 1); // one range released
    assert.equal(m.domains.queued(d), 0);
    assert.equal(m.iova.find(d, 0xfffff), -1);
    assert.equal(m.iova.alloc(d, 1, 0xfffff), 0xfffff); // reusable now
    assert.equal(m.domains.flush(d), 0);
  });

  // Strict unmap: the IOVA is free at once.
  it('free makes a range reusable at once', () => {
    const m = machine();
    const d = m.domains.createTranslated(false);
    assert.equal(m.iova.alloc(d, 1, 0xfffff), 0xfffff);
    assert.equal(m.iova.alloc(d, 1, 0xfffff), 0xffffe);
    m.iova.free(d, m.iova.find(d, 0xfffff));
    assert.equal(m.iova.find(d, 0xfffff), -1);
    assert.equal(m.iova.alloc(d, 1, 0xfffff), 0xfffff);
  });

  // Each domain has its own IOVA space.
  it('domains have separate IOVA spaces', () => {
    const m = machine();
    const d1 = m.domains.createTranslated(false);
    const d2 = m.domains.createTranslated(false);
    assert.notEqual(d1, d2);
    assert.equal(m.iova.alloc(d1, 1, 0xfffff), 0xfffff);
    assert.equal(m.iova.alloc(d2, 1, 0xfffff), 0xfffff);
    assert.equal(m.iova.find(d2, 0xffffe), -1);
  });

  // flushAll (the 10 ms timer) flushes only domains with queued unmaps.
  it('flushAll releases queued ranges of every domain', () => {
    const m = machine();
    const d1 = m.domains.createTranslated(false);
    const d2 = m.domains.createTranslated(false);
    m.iova.alloc(d1, 1, 0xfffff);
    m.iova.alloc(d1, 2, 0xfffff);
    m.iova.alloc(d2, 1, 0xfffff);
    m.iova.queue(d1, m.iova.find(d1, 0xfffff));
    m.iova.queue(d1, m.iova.find(d1, 0xffffc));
    m.iova.queue(d2, m.iova.find(d2, 0xfffff));
    assert.equal(m.domains.flushAll(), 3);
    assert.equal(m.domains.flushAll(), 0);
    assert.equal(m.iova.find(d1, 0xffffc), -1);
  });
});

describe('IOMMU page tables', () => {
  // 4 levels of 512 entries: the first mapping allocates the three tables below the root.
  it('map allocates intermediate tables once; walk returns pfn and permissions', () => {
    const m = machine();
    assert.equal(m.tables.tablesInUse(), 0);
    const root = m.tables.newRoot();
    assert.equal(m.tables.tablesInUse(), 1);
    assert.equal(m.tables.map(root, 0x12345, 0x100000, PERM_READ, 1), 3);
    assert.equal(m.tables.tablesInUse(), 4);
    assert.equal(m.tables.walk(root, 0x12345), 0x100000 * 4 + PERM_READ);
    assert.equal(m.tables.lastWalkLevels, 4);
    assert.equal(m.tables.map(root, 0x12346, 0x100007, PERM_WRITE, 1), 0); // same leaf table
    assert.equal(m.tables.walk(root, 0x12346), 0x100007 * 4 + PERM_WRITE);
    assert.equal(m.tables.tablesInUse(), 4);
    // not mapped, same leaf table: a full walk finds an empty leaf entry
    assert.equal(m.tables.walk(root, 0x12347), 0);
    assert.equal(m.tables.lastWalkLevels, 4);
    // not mapped, different top-level entry: the walk stops at the root
    assert.equal(m.tables.walk(root, 2 ** 27), 0);
    assert.equal(m.tables.lastWalkLevels, 1);
    // different leaf table under the same level-2 table: stops at level 2
    assert.equal(m.tables.walk(root, 0x12345 + 512), 0);
    assert.equal(m.tables.lastWalkLevels, 3);
  });

  // VT-d PTE: bit 0 read, bit 1 write.
  it('encodes R/W permissions', () => {
    const m = machine();
    const root = m.tables.newRoot();
    m.tables.map(root, 0x10, 0x500, PERM_READ, 1);
    m.tables.map(root, 0x11, 0x501, PERM_WRITE, 1);
    m.tables.map(root, 0x12, 0x502, PERM_READ | PERM_WRITE, 1);
    assert.equal(m.tables.walk(root, 0x10) & 3, 1);
    assert.equal(m.tables.walk(root, 0x11) & 3, 2);
    assert.equal(m.tables.walk(root, 0x12) & 3, 3);
    assert.equal(Math.floor(m.tables.walk(root, 0x12) / 4), 0x502);
  });

  // A multi-page map installs consecutive frames; crossing a 512-page boundary needs a new leaf table.
  it('maps consecutive pages and allocates a new leaf at a 512 boundary', () => {
    const m = machine();
    const root = m.tables.newRoot();
    assert.equal(m.tables.map(root, 0x1fe, 0x40000, PERM_READ, 4), 4); // 3 tables + 1 more leaf
    for (let i = 0; i < 4; i++) assert.equal(m.tables.walk(root, 0x1fe + i), (0x40000 + i) * 4 + PERM_READ);
    assert.equal(m.tables.tablesInUse(), 5);
  });

  // domain_unmap clears PTEs at once; tables stay until the domain is freed.
  it('unmap clears entries, counts those present, keeps the tables', () => {
    const m = machine();
    const root = m.tables.newRoot();
    m.tables.map(root, 0x100, 0x9000, PERM_READ, 2);
    assert.equal(m.tables.unmap(root, 0x100, 3), 2); // the third page was not mapped
    assert.equal(m.tables.walk(root, 0x100), 0);
    assert.equal(m.tables.walk(root, 0x101), 0);
    assert.equal(m.tables.unmap(root, 2 ** 30, 1), 0); // nothing there at all
    assert.equal(m.tables.tablesInUse(), 4);
    // a remap overwrites
    m.tables.map(root, 0x100, 0x7777, PERM_WRITE, 1);
    assert.equal(m.tables.walk(root, 0x100), 0x7777 * 4 + PERM_WRITE);
  });

  // Teardown frees the whole tree (domain_exit); the pool hands pages back zeroed.
  it('freeTree releases every table, and freed tables come back empty', () => {
    const m = machine();
    const root = m.tables.newRoot();
    m.tables.map(root, 0x10, 0x500, PERM_READ, 1);
    m.tables.map(root, 2 ** 27 + 5, 0x600, PERM_READ, 1); // another top-level subtree
    assert.equal(m.tables.tablesInUse(), 7);
    m.tables.freeTree(root);
    assert.equal(m.tables.tablesInUse(), 0);
    const root2 = m.tables.newRoot();
    assert.equal(m.tables.walk(root2, 0x10), 0);
    assert.equal(m.tables.walk(root2, 2 ** 27 + 5), 0);
    assert.equal(m.tables.tablesInUse(), 1);
  });

  // A translated domain left without devices is torn down: tables, IOVAs, IOTLB entries go.
  it('domain teardown frees its page tables and IOTLB entries', () => {
    const { m, layer, dev, domain } = setup('iommu', { mask: 64 });
    const d = domain();
    assert.equal(m.domains.type(d), DomainType.Translated);
    assert.equal(m.tables.tablesInUse(), 1); // the root
    const buf = kmalloc(m, 8192);
    const h = layer.map(dev, buf, 8192, 'bidirectional');
    assert.equal(h, 0xffffe000n);
    assert.equal(m.tables.tablesInUse(), 4);
    assert.equal(m.bus.translate(dev, 64, h, 8192, false), AccessStatus.Ok);
    assert.ok(m.iotlb.lookup(d, 0xffffe) >= 0);
    m.domains.attach(dev, IDENTITY_DOMAIN);
    assert.equal(m.domains.type(d), DomainType.Free);
    assert.equal(m.tables.tablesInUse(), 0);
    assert.equal(m.iotlb.lookup(d, 0xffffe), -1);
    assert.equal(m.iotlb.lookup(d, 0xfffff), -1);
  });
});

describe('IOTLB', () => {
  // IOTLB entries are tagged by domain (VT-d domain id): one domain never hits another's entry.
  it('fill then lookup, tagged by domain', () => {
    const m = machine();
    assert.equal(m.iotlb.lookup(1, 0x10), -1);
    m.iotlb.fill(1, 0x10, 0x500, PERM_READ);
    const e = m.iotlb.lookup(1, 0x10);
    assert.ok(e >= 0);
    assert.equal(m.iotlb.pfnAt(e), 0x500);
    assert.equal(m.iotlb.permAt(e), PERM_READ);
    assert.equal(m.iotlb.lookup(2, 0x10), -1); // another domain's IOVA 0x10
    assert.equal(m.iotlb.lookup(1, 0x11), -1);
  });

  // 16 sets x 4 ways; a fifth entry in a set evicts its least recently used way.
  it('evicts the LRU way of a 4-way set', () => {
    const m = machine();
    for (const p of [0, 16, 32, 48]) m.iotlb.fill(1, p, 0x1000 + p, PERM_READ); // all in set 0
    for (const p of [0, 16, 32, 48]) assert.ok(m.iotlb.lookup(1, p) >= 0);
    // LRU order now 0,16,32,48; touch 0 so that 16 is the oldest
    m.iotlb.lookup(1, 0);
    m.iotlb.fill(1, 64, 0x2000, PERM_READ);
    assert.equal(m.iotlb.lookup(1, 16), -1);
    for (const p of [0, 32, 48, 64]) assert.ok(m.iotlb.lookup(1, p) >= 0, `pfn ${p}`);
    // other sets are untouched by set 0's traffic
    m.iotlb.fill(1, 1, 0x3000, PERM_READ);
    // set 0 again: the loop above refreshed 0, 32, 48, 64 in that order, so 0 is now the LRU way
    m.iotlb.fill(1, 80, 0x4000, PERM_READ);
    assert.equal(m.iotlb.lookup(1, 0), -1);
    for (const p of [32, 48, 64, 80]) assert.ok(m.iotlb.lookup(1, p) >= 0, `pfn ${p}`);
    assert.equal(m.iotlb.pfnAt(m.iotlb.lookup(1, 1)), 0x3000);
  });

  // Geometry: 16 sets x 4 ways = 64 entries (reach 256 KiB), set = IOVA pfn mod 16.
  it('holds 64 entries: one full set per 16 consecutive pages x 4', () => {
    const m = machine();
    for (let p = 0; p < 64; p++) m.iotlb.fill(3, p, p + 100, PERM_WRITE);
    for (let p = 0; p < 64; p++) assert.equal(m.iotlb.pfnAt(m.iotlb.lookup(3, p)), p + 100);
    m.iotlb.fill(3, 64, 0, PERM_WRITE); // set 0 is full: evicts its LRU way, which is page 0
    assert.equal(m.iotlb.lookup(3, 0), -1);
  });

  // Page-selective invalidation (strict unmap) drops only that domain's pages in the range.
  it('invalidateRange drops the range of one domain', () => {
    const m = machine();
    for (let p = 10; p < 20; p++) m.iotlb.fill(1, p, p, PERM_READ);
    m.iotlb.fill(2, 12, 12, PERM_READ);
    assert.equal(m.iotlb.invalidateRange(1, 12, 3), 3);
    for (let p = 10; p < 20; p++) assert.equal(m.iotlb.lookup(1, p) >= 0, p < 12 || p >= 15, `pfn ${p}`);
    assert.ok(m.iotlb.lookup(2, 12) >= 0);
    assert.equal(m.iotlb.invalidateRange(1, 12, 3), 0);
  });

  // Domain-selective invalidation (lazy flush, teardown).
  it('invalidateDomain drops one domain only', () => {
    const m = machine();
    m.iotlb.fill(1, 5, 5, PERM_READ);
    m.iotlb.fill(1, 6, 6, PERM_READ);
    m.iotlb.fill(2, 5, 7, PERM_READ);
    m.iotlb.invalidateDomain(1);
    assert.equal(m.iotlb.lookup(1, 5), -1);
    assert.equal(m.iotlb.lookup(1, 6), -1);
    assert.equal(m.iotlb.pfnAt(m.iotlb.lookup(2, 5)), 7);
  });

  // An invalid way is reused before any valid one is evicted.
  it('refills an invalidated way before evicting', () => {
    const m = machine();
    for (const p of [0, 16, 32, 48]) m.iotlb.fill(1, p, p, PERM_READ);
    m.iotlb.invalidateRange(1, 32, 1);
    m.iotlb.fill(1, 64, 64, PERM_READ);
    for (const p of [0, 16, 48, 64]) assert.ok(m.iotlb.lookup(1, p) >= 0, `pfn ${p}`);
  });
});

describe('bus: device accesses', () => {
  // Identity domain: bus = physical for RAM; anything else faults.
  it('identity domain passes RAM and faults on non-RAM', () => {
    const { m, dev } = setup('intel-2019');
    assert.equal(m.v.devDomain[dev], IDENTITY_DOMAIN);
    assert.equal(m.bus.translate(dev, 64, 0x100000000n, 8192, false), AccessStatus.Ok);
    assert.deepEqual(m.bus.chunkPhys, [4 * G]);
    assert.deepEqual(m.bus.chunkLen, [8192]);
    assert.equal(m.bus.route, 'direct');
    assert.equal(m.bus.faultCount(), 0);
    assert.equal(m.bus.translate(dev, 64, BigInt(3 * G), 64, false), AccessStatus.Fault);
    assert.equal(m.bus.faultReason, 6);
    assert.equal(m.bus.faultAddr, BigInt(3 * G));
    assert.deepEqual(m.bus.chunkPhys, []);
    assert.equal(m.bus.translate(dev, 64, BigInt(3 * G), 64, true), AccessStatus.Fault);
    assert.equal(m.bus.faultReason, 5);
    assert.equal(m.bus.translate(dev, 64, BigInt(2 * G - 2048), 4096, false), AccessStatus.Fault); // runs off RAM
    assert.equal(m.bus.translate(dev, 64, BigInt(6 * G), 1, false), AccessStatus.Fault);
    assert.equal(m.bus.faultCount(), 4);
    assert.equal(m.v.faultReason[0], 6);
    assert.equal(m.v.faultReason[1], 5);
    assert.equal(m.v.faultWrite[1], 1);
    assert.equal(m.v.faultDev[1], dev);
  });

  // No IOMMU: the transaction to a hole goes nowhere; nothing is logged as a fault.
  it('no IOMMU: non-RAM is NoMemory, not a fault', () => {
    const { m, dev } = setup('direct');
    assert.equal(m.v.devDomain[dev], NO_DOMAIN);
    assert.equal(m.bus.translate(dev, 64, BigInt(3 * G), 64, true), AccessStatus.NoMemory);
    assert.equal(m.bus.faultCount(), 0);
    assert.equal(m.bus.translate(dev, 64, BigInt(5 * G), 64, true), AccessStatus.Ok);
    assert.deepEqual(m.bus.chunkPhys, [5 * G]);
  });

  // VT-d fault reasons: 6 "PTE Read access is not set", 5 "PTE Write access is not set".
  it('translated domain: unmapped IOVA faults with reason 6 (read) / 5 (write)', () => {
    const { m, dev } = setup('iommu');
    assert.equal(FAULT_REASONS[5], 'PTE Write access is not set');
    assert.equal(FAULT_REASONS[6], 'PTE Read access is not set');
    assert.equal(FAULT_REASONS[4], 'Access beyond MGAW');
    assert.equal(m.bus.translate(dev, 64, 0x12345000n, 4, false), AccessStatus.Fault);
    assert.equal(m.bus.faultReason, 6);
    assert.equal(m.bus.faultAddr, 0x12345000n);
    assert.equal(m.bus.route, 'iommu');
    assert.equal(m.bus.translate(dev, 64, 0x12345000n, 4, true), AccessStatus.Fault);
    assert.equal(m.bus.faultReason, 5);
    // a physical RAM address is not an IOVA in a translated domain
    assert.equal(m.bus.translate(dev, 64, 0x100000000n, 4, false), AccessStatus.Fault);
  });

  // Permissions come from the direction: to_device read-only, from_device write-only.
  it('faults on a missing permission; no IOTLB fill for a refused access', () => {
    const { m, layer, dev, domain } = setup('iommu', { mask: 64 });
    const buf = kmalloc(m, 3 * PAGE);
    const toDev = layer.map(dev, buf, PAGE, 'to_device');
    const fromDev = layer.map(dev, buf + PAGE, PAGE, 'from_device');
    const bidi = layer.map(dev, buf + 2 * PAGE, PAGE, 'bidirectional');
    assert.deepEqual([toDev, fromDev, bidi], [0xfffff000n, 0xffffe000n, 0xffffd000n]);
    assert.equal(m.bus.translate(dev, 64, toDev, PAGE, false), AccessStatus.Ok);
    assert.equal(m.bus.translate(dev, 64, toDev, PAGE, true), AccessStatus.Fault);
    assert.equal(m.bus.faultReason, 5);
    assert.equal(m.bus.translate(dev, 64, fromDev, 8, false), AccessStatus.Fault);
    assert.equal(m.bus.faultReason, 6);
    assert.equal(m.iotlb.lookup(domain(), 0xffffe), -1);
    assert.equal(m.bus.translate(dev, 64, fromDev, 8, true), AccessStatus.Ok);
    assert.deepEqual(m.bus.chunkPhys, [buf + PAGE]);
    assert.equal(m.bus.translate(dev, 64, bidi + 5n, 8, true), AccessStatus.Ok);
    assert.deepEqual(m.bus.chunkPhys, [buf + 2 * PAGE + 5]);
    assert.equal(m.bus.translate(dev, 64, bidi, 8, false), AccessStatus.Ok);
    // a cached read-only entry still refuses a write
    assert.equal(m.bus.translate(dev, 64, toDev, PAGE, true), AccessStatus.Fault);
    assert.equal(m.bus.faultReason, 5);
  });

  // The whole transaction is blocked if any page fails; the fault names the first bad page.
  it('an access straddling a mapped and an unmapped page faults at the unmapped one', () => {
    const { m, layer, dev } = setup('iommu', { mask: 64 });
    const h = layer.map(dev, kmalloc(m, PAGE), PAGE, 'bidirectional');
    assert.equal(h, 0xfffff000n);
    // 0xfffff000 + 4096 is 4G: not mapped
    assert.equal(m.bus.translate(dev, 64, h + 2048n, PAGE, false), AccessStatus.Fault);
    assert.equal(m.bus.faultAddr, 0x100000000n);
    assert.deepEqual(m.bus.chunkPhys, []);
  });

  // Physically contiguous pages give one chunk; scattered pages give one chunk each.
  it('translates multi-page accesses into physical chunks', () => {
    const { m, layer, dev } = setup('iommu', { mask: 64 });
    const a = kmalloc(m, 2 * PAGE);
    const h = layer.map(dev, a, 2 * PAGE, 'bidirectional');
    assert.equal(m.bus.translate(dev, 64, h, 2 * PAGE, false), AccessStatus.Ok);
    assert.deepEqual(m.bus.chunkPhys, [a]);
    assert.deepEqual(m.bus.chunkLen, [2 * PAGE]);
    const x = kmalloc(m, PAGE);
    kmalloc(m, PAGE); // gap
    const y = kmalloc(m, PAGE);
    const segs = layer.mapSg(dev, [{ phys: x, len: PAGE }, { phys: y, len: PAGE }], 'bidirectional');
    assert.equal(segs.length, 1); // one IOVA range ...
    assert.equal(m.bus.translate(dev, 64, segs[0]!.handle, 2 * PAGE, false), AccessStatus.Ok);
    assert.deepEqual(m.bus.chunkPhys, [x, y]); // ... two physical chunks
    assert.deepEqual(m.bus.chunkLen, [PAGE, PAGE]);
    // device write then read through the IOVA
    assert.equal(m.bus.translate(dev, 64, segs[0]!.handle + 4090n, 12, true), AccessStatus.Ok);
    m.bus.write(Uint8Array.from({ length: 12 }, (_, i) => i + 1));
    const b = new Uint8Array(6);
    m.mem.read(x + 4090, b);
    assert.deepEqual(b, Uint8Array.from([1, 2, 3, 4, 5, 6]));
    m.mem.read(y, b);
    assert.deepEqual(b, Uint8Array.from([7, 8, 9, 10, 11, 12]));
    const r = new Uint8Array(12);
    m.bus.read(r);
    assert.deepEqual(r, Uint8Array.from({ length: 12 }, (_, i) => i + 1));
  });

  // A 48-bit (4-level) IOVA space: reason 4 above 2^48.
  it('faults with reason 4 beyond the 48-bit address width', () => {
    const { m, dev } = setup('iommu');
    assert.equal(m.bus.translate(dev, 64, 1n << 48n, 4, false), AccessStatus.Fault);
    assert.equal(m.bus.faultReason, 4);
    assert.equal(m.bus.translate(dev, 64, (1n << 48n) - 2048n, 4096, true), AccessStatus.Fault); // ends above
    assert.equal(m.bus.faultReason, 4);
    assert.equal(m.bus.translate(dev, 64, (1n << 48n) - 4096n, 4096, false), AccessStatus.Fault); // inside: a walk
    assert.equal(m.bus.faultReason, 6);
  });

  // bypass-flag's window: all RAM 1:1 at PA + 2^59, checked before the page tables.
  it('the bypass window maps PA + 2^59', () => {
    const { m, dev, domain } = setup('bypass-flag');
    assert.equal(m.domains.hasWindow(domain()), true);
    const base = 1n << 59n;
    assert.equal(m.bus.translate(dev, 64, base + 0x100000000n, 8192, true), AccessStatus.Ok);
    assert.equal(m.bus.route, 'window');
    assert.deepEqual(m.bus.chunkPhys, [4 * G]);
    assert.equal(m.bus.translate(dev, 64, base + 0x1000n, 16, false), AccessStatus.Ok);
    assert.deepEqual(m.bus.chunkPhys, [0x1000]);
    // a hole in the window is not RAM: it falls to the IOMMU, far above 2^48
    assert.equal(m.bus.translate(dev, 64, base + BigInt(3 * G), 16, false), AccessStatus.Fault);
    assert.equal(m.bus.faultReason, 4);
    // the plain PA is not mapped in the windowed domain
    assert.equal(m.bus.translate(dev, 64, 0x100000000n, 16, false), AccessStatus.Fault);
    assert.equal(m.bus.faultReason, 6);
    // a domain without the window does not honour window addresses
    const t = setup('iommu');
    assert.equal(t.m.bus.translate(t.dev, 64, base + 0x100000000n, 16, false), AccessStatus.Fault);
    assert.equal(t.m.bus.faultReason, 4);
  });

  // A device with fewer address lines drops the high bits (the sata_nv ADMA case).
  it('width truncation drops high bits', () => {
    const id = setup('intel-2019', { width: 32 });
    assert.equal(id.m.bus.translate(id.dev, 32, 0x100001000n, 16, true), AccessStatus.Ok);
    assert.equal(id.m.bus.drivenAddr, 0x1000n);
    assert.deepEqual(id.m.bus.chunkPhys, [0x1000]); // the write lands in low memory
    assert.equal(id.m.bus.translate(id.dev, 64, 0x100001000n, 16, true), AccessStatus.Ok);
    assert.equal(id.m.bus.drivenAddr, 0x100001000n);

    const w = setup('bypass-flag', { width: 48 });
    assert.equal(w.m.bus.translate(w.dev, 48, (1n << 59n) + 0x100000000n, 16, false), AccessStatus.Fault);
    assert.equal(w.m.bus.drivenAddr, 0x100000000n);
    assert.equal(w.m.bus.faultAddr, 0x100000000n);
    assert.equal(w.m.bus.faultReason, 6);

    const t = setup('iommu', { mask: 64 });
    const h = t.layer.map(t.dev, kmalloc(t.m, PAGE), PAGE, 'to_device');
    assert.equal(t.m.bus.translate(t.dev, 32, h + (1n << 32n), 8, false), AccessStatus.Ok); // aliases back to h
    assert.equal(t.m.bus.drivenAddr, h);
  });

  // Lazy invalidation (flush queue): a stale IOTLB entry still translates after unmap until the flush.
  it('lazy: a stale IOTLB entry translates after unmap until flushAll', () => {
    const { m, layer, dev, domain } = setup('iommu', { words: ['inval=lazy'], mask: 64 });
    const buf = kmalloc(m, PAGE);
    const h = layer.map(dev, buf, PAGE, 'bidirectional');
    assert.equal(m.bus.translate(dev, 64, h, PAGE, false), AccessStatus.Ok); // fills the IOTLB
    assert.equal(m.bus.usedStaleEntry, false);
    layer.unmap(dev, h, PAGE, 'bidirectional');
    assert.equal(layer.out.layerError, undefined);
    assert.equal(m.tables.walk(m.domains.root(domain()), 0xfffff), 0); // the PTE is gone ...
    assert.equal(m.domains.queued(domain()), 1);
    assert.equal(m.bus.translate(dev, 64, h, PAGE, true), AccessStatus.Ok); // ... but the IOTLB still has it
    assert.equal(m.bus.usedStaleEntry, true);
    assert.deepEqual(m.bus.chunkPhys, [buf]);
    // the IOVA is not reused while queued
    const h2 = layer.map(dev, buf, PAGE, 'bidirectional');
    assert.equal(h2, 0xffffe000n);
    assert.equal(m.domains.flushAll(), 1);
    assert.equal(m.bus.translate(dev, 64, h, PAGE, false), AccessStatus.Fault);
    assert.equal(m.bus.faultReason, 6);
    assert.equal(m.bus.usedStaleEntry, false);
    assert.equal(layer.map(dev, buf, PAGE, 'bidirectional'), 0xfffff000n); // reusable after the flush
  });

  // Strict invalidation: the IOTLB range is invalidated before unmap returns.
  it('strict: the same access faults right after unmap', () => {
    const { m, layer, dev, domain } = setup('iommu', { words: ['inval=strict'], mask: 64 });
    const buf = kmalloc(m, PAGE);
    const h = layer.map(dev, buf, PAGE, 'bidirectional');
    assert.equal(m.bus.translate(dev, 64, h, PAGE, false), AccessStatus.Ok);
    assert.ok(m.iotlb.lookup(domain(), 0xfffff) >= 0);
    layer.unmap(dev, h, PAGE, 'bidirectional');
    assert.equal(m.iotlb.lookup(domain(), 0xfffff), -1);
    assert.equal(m.bus.translate(dev, 64, h, PAGE, false), AccessStatus.Fault);
    assert.equal(m.bus.faultReason, 6);
    assert.equal(m.bus.usedStaleEntry, false);
    assert.equal(layer.map(dev, buf, PAGE, 'bidirectional'), h); // IOVA reusable at once
  });

  // The flush queue drains itself when it holds `fq` entries.
  it('lazy: a full flush queue flushes on the unmap that fills it', () => {
    const { m, layer, dev, domain } = setup('iommu', { words: ['inval=lazy', 'fq=2'], mask: 64 });
    const buf = kmalloc(m, PAGE);
    const h1 = layer.map(dev, buf, PAGE, 'bidirectional');
    const h2 = layer.map(dev, buf, PAGE, 'bidirectional');
    m.bus.translate(dev, 64, h1, 8, false);
    layer.unmap(dev, h1, PAGE, 'bidirectional');
    assert.equal(m.domains.queued(domain()), 1);
    assert.equal(m.bus.translate(dev, 64, h1, 8, false), AccessStatus.Ok);
    assert.equal(m.bus.usedStaleEntry, true);
    layer.unmap(dev, h2, PAGE, 'bidirectional');
    assert.equal(m.domains.queued(domain()), 0);
    assert.equal(m.bus.translate(dev, 64, h1, 8, false), AccessStatus.Fault);
    assert.equal(m.iova.find(domain(), 0xfffff), -1);
    assert.equal(m.iova.find(domain(), 0xffffe), -1);
  });

  // DmaLayer.tick is the 10 ms timer.
  it('lazy: the layer tick flushes the queue', () => {
    const { m, layer, dev } = setup('iommu', { words: ['inval=lazy'], mask: 64 });
    const buf = kmalloc(m, PAGE);
    const h = layer.map(dev, buf, PAGE, 'to_device');
    m.bus.translate(dev, 64, h, 8, false);
    layer.unmap(dev, h, PAGE, 'to_device');
    assert.equal(m.bus.translate(dev, 64, h, 8, false), AccessStatus.Ok);
    layer.tick();
    assert.equal(m.bus.translate(dev, 64, h, 8, false), AccessStatus.Fault);
  });
});

describe('iommu-dma through the mapping layer', () => {
  // A new device has 32-bit masks: the first IOVA page is the top one below 4G; the page offset is kept.
  it('maps top-down below 4G and keeps the page offset', () => {
    const { m, layer, dev, domain } = setup('iommu');
    assert.equal(layer.maskBits(dev), 32);
    const buf = kmalloc(m, 2 * PAGE);
    assert.equal(layer.map(dev, buf + 0x123, 100, 'to_device'), 0xfffff123n);
    assert.equal(layer.out.path, 'iommu');
    assert.equal(m.tables.walk(m.domains.root(domain()), 0xfffff), Math.floor(buf / PAGE) * 4 + PERM_READ);
    // 200 bytes at offset 4000 touch two pages: a 2-page block, 2-aligned
    assert.equal(layer.map(dev, buf + 4000, 200, 'from_device'), 0xffffcfa0n);
    const root = m.domains.root(domain());
    assert.equal(m.tables.walk(root, 0xffffc), Math.floor(buf / PAGE) * 4 + PERM_WRITE);
    assert.equal(m.tables.walk(root, 0xffffd), (Math.floor(buf / PAGE) + 1) * 4 + PERM_WRITE);
  });

  // Sizes round up to a power of two: a 3-page map reserves a 4-page IOVA block but maps 3 PTEs.
  it('reserves a power-of-two IOVA block', () => {
    const { m, layer, dev, domain } = setup('iommu', { mask: 64 });
    const buf = kmalloc(m, 3 * PAGE);
    const h = layer.map(dev, buf, 3 * PAGE, 'bidirectional');
    assert.equal(h, 0xffffc000n);
    const r = m.iova.find(domain(), 0xffffc);
    assert.deepEqual([m.iova.lo(r), m.iova.hi(r)], [0xffffc, 0xfffff]);
    const root = m.domains.root(domain());
    assert.notEqual(m.tables.walk(root, 0xffffe), 0);
    assert.equal(m.tables.walk(root, 0xfffff), 0);
  });

  // "SAC first": a wider mask still gets a 32-bit IOVA while there is room.
  it('allocates below 4G first for 64- and 40-bit masks', () => {
    for (const bits of [64, 40, 33]) {
      const { m, layer, dev } = setup('iommu', { mask: bits });
      assert.equal(layer.map(dev, kmalloc(m, PAGE), PAGE, 'to_device'), 0xfffff000n, `${bits}-bit mask`);
    }
  });

  // intel_alloc_iova: the limit is the mask (streaming for map, coherent for alloc).
  it('respects a mask narrower than 32 bits', () => {
    const { m, layer, dev } = setup('iommu', { mask: 30 });
    assert.equal(layer.map(dev, kmalloc(m, PAGE), PAGE, 'to_device'), BigInt(G - PAGE));
    const c = setup('iommu', { coherent: 24 });
    assert.equal(c.layer.allocCoherent(c.dev, PAGE), BigInt(16 * M - PAGE));
  });

  // When the 32-bit space is exhausted, a wider mask falls back to the top of its own limit.
  it('falls back above 4G when the 32-bit space is exhausted, within the mask', () => {
    const { m, layer, dev, domain } = setup('iommu', { mask: 64 });
    const buf = 4 * G; // phys of RAM; iommu-dma maps whatever pages it is given
    // 1 GiB blocks: 0xC0000000 would cover the MSI window, so the first lands at 2G, the next at 1G
    assert.equal(layer.map(dev, buf, G, 'to_device'), 0x80000000n);
    assert.equal(layer.map(dev, buf, G, 'to_device'), 0x40000000n);
    // the last 1G block below 4G would start at IOVA 0: refused, so the 64-bit mask goes to the top of 2^48
    assert.equal(layer.map(dev, buf, G, 'to_device'), (1n << 48n) - BigInt(G));
    assert.equal(layer.map(dev, buf, PAGE, 'to_device'), 0xfffff000n); // small ones still fit low
    // a 40-bit mask tops out at 2^40
    assert.equal(layer.setMask(dev, 40, false), 0);
    assert.equal(layer.map(dev, buf, G, 'to_device'), (1n << 40n) - BigInt(G));
    // a 32-bit mask has nowhere to go: a mapping error and the kernel's message
    assert.equal(layer.setMask(dev, 32, false), 0);
    assert.equal(layer.map(dev, buf, G, 'to_device'), DMA_MAPPING_ERROR);
    assert.deepEqual(layer.out.log, ['DMAR: Allocating 262144-page iova failed']);
    assert.equal(m.domains.type(domain()), DomainType.Translated);
  });

  // intel_unmap's "Driver unmaps unmatched page" WARN: an unknown or already-freed IOVA is a layer error.
  it('unmap of a handle this domain never handed out is a layer error', () => {
    const { m, layer, dev } = setup('iommu', { mask: 64 });
    const h = layer.map(dev, kmalloc(m, PAGE), PAGE, 'to_device');
    layer.unmap(dev, 0x100000000n, PAGE, 'to_device');
    assert.match(layer.out.layerError ?? '', /driver unmaps unmatched page at PFN 0x100000/);
    layer.unmap(dev, h, PAGE, 'to_device');
    assert.equal(layer.out.layerError, undefined);
    layer.unmap(dev, h, PAGE, 'to_device'); // double unmap
    assert.match(layer.out.layerError ?? '', /unmatched page/);
    layer.sync(dev, 0x5000n, 0, 8, 'to_device', true);
    assert.match(layer.out.layerError ?? '', /sync of 0x5000: not an IOVA/);
  });

  // Coherent memory on the IOMMU path: any pages, mapped bidirectional, zeroed, IOVA below the coherent mask.
  it('allocCoherent maps zeroed pages read/write', () => {
    const { m, layer, dev, domain } = setup('iommu');
    m.mem.write(4 * G, new Uint8Array(16).fill(0xcc)); // dirty the page it will get
    const h = layer.allocCoherent(dev, 8192);
    assert.equal(h, 0xffffe000n);
    assert.equal(layer.lastPhys, 4 * G);
    const b = new Uint8Array(16);
    m.mem.read(4 * G, b);
    assert.deepEqual(b, new Uint8Array(16));
    assert.equal(m.tables.walk(m.domains.root(domain()), 0xffffe) & 3, PERM_READ | PERM_WRITE);
    layer.freeCoherent(dev, h!, 4 * G, 8192);
    assert.equal(layer.out.layerError, undefined);
    assert.equal(m.pages.kindAt(4 * G), 0);
    assert.equal(m.iova.find(domain(), 0xffffe), -1);
  });

  // iommu_dma_map_sg: one IOVA range; page-multiple segments merge into one DMA segment.
  it('map_sg merges contiguous page-multiple segments', () => {
    const { m, layer, dev, domain } = setup('iommu', { mask: 64 });
    const bufs = [kmalloc(m, PAGE), kmalloc(m, PAGE, 'dma32'), kmalloc(m, PAGE)];
    const segs = layer.mapSg(dev, bufs.map((phys) => ({ phys, len: PAGE })), 'to_device');
    assert.deepEqual(segs, [{ handle: 0xffffc000n, len: 3 * PAGE }]); // 3 pages in a 4-page block
    const root = m.domains.root(domain());
    for (let i = 0; i < 3; i++) assert.equal(m.tables.walk(root, 0xffffc + i), Math.floor(bufs[i]! / PAGE) * 4 + PERM_READ);
    // unmap_sg with the first handle releases the whole range
    layer.unmapSg(dev, segs, 'to_device');
    assert.equal(layer.out.layerError, undefined);
    assert.equal(m.iova.find(domain(), 0xffffc), -1);
    assert.equal(m.tables.walk(root, 0xffffd), 0);
  });

  // dma_get_max_seg_size: merged segments stay within 64 KiB.
  it('map_sg does not merge beyond 64 KiB', () => {
    const { m, layer, dev } = setup('iommu', { mask: 64 });
    assert.equal(MAX_SEGMENT_BYTES, 64 * K);
    const ents = Array.from({ length: 17 }, () => ({ phys: kmalloc(m, PAGE), len: PAGE }));
    const segs = layer.mapSg(dev, ents, 'bidirectional');
    assert.deepEqual(segs, [
      { handle: 0xfffe0000n, len: 64 * K },
      { handle: 0xffff0000n, len: PAGE },
    ]);
  });

  // A segment that does not end on a page boundary cannot be merged with the next.
  it('map_sg keeps a short segment separate', () => {
    const { m, layer, dev } = setup('iommu', { mask: 64 });
    const segs = layer.mapSg(dev, [{ phys: kmalloc(m, PAGE), len: 100 }, { phys: kmalloc(m, PAGE), len: PAGE }], 'to_device');
    assert.deepEqual(segs, [
      { handle: 0xffffe000n, len: 100 },
      { handle: 0xfffff000n, len: PAGE },
    ]);
  });

  // A segment ending on a page boundary merges with a next one starting at offset 0, whatever its length.
  it('map_sg merges a sub-page segment that ends on a page boundary', () => {
    const { m, layer, dev } = setup('iommu', { mask: 64 });
    const a = kmalloc(m, PAGE);
    const b = kmalloc(m, PAGE);
    const segs = layer.mapSg(dev, [{ phys: a + 0x800, len: 0x800 }, { phys: b, len: 100 }], 'to_device');
    assert.deepEqual(segs, [{ handle: 0xffffe800n, len: 0x800 + 100 }]);
  });

  // dma_direct_map_sg: each entry on its own, even if physically contiguous.
  it('direct map_sg returns one segment per buffer', () => {
    const { m, layer, dev } = setup('direct', { mask: 64 });
    const bufs = [kmalloc(m, PAGE), kmalloc(m, PAGE), kmalloc(m, PAGE)];
    assert.deepEqual(bufs, [4 * G, 4 * G + PAGE, 4 * G + 2 * PAGE]);
    const segs = layer.mapSg(dev, bufs.map((phys) => ({ phys, len: PAGE })), 'to_device');
    assert.deepEqual(segs, bufs.map((p) => ({ handle: BigInt(p), len: PAGE })));
    assert.equal(layer.out.path, 'direct');
  });

  // dma-direct bounces what the streaming mask cannot reach.
  it('direct: a buffer above 4G bounces with a 32-bit mask, not with a 64-bit one', () => {
    const lo = setup('direct');
    const buf = kmalloc(lo.m, PAGE);
    assert.equal(buf, 4 * G);
    lo.m.mem.write(buf, new Uint8Array(8).fill(0x3c));
    const h = lo.layer.map(lo.dev, buf, PAGE, 'to_device');
    assert.equal(lo.layer.out.path, 'bounce');
    assert.equal(h, BigInt(lo.m.swiotlb.start));
    assert.equal(lo.m.swiotlb.contains(Number(h)), true);
    assert.equal(lo.m.swiotlb.origOf(Number(h)), buf);
    const b = new Uint8Array(8);
    lo.m.mem.read(Number(h), b);
    assert.deepEqual(b, new Uint8Array(8).fill(0x3c)); // copied in at map
    lo.layer.unmap(lo.dev, h, PAGE, 'to_device');
    assert.equal(lo.layer.out.path, 'bounce');
    assert.equal(lo.m.swiotlb.usedSlots(), 0);
    // a dma32 buffer is reachable: no bounce
    const low = kmalloc(lo.m, PAGE, 'dma32');
    assert.equal(lo.layer.map(lo.dev, low, PAGE, 'to_device'), BigInt(low));
    assert.equal(lo.layer.out.path, 'direct');

    const hi = setup('direct', { mask: 64 });
    const buf2 = kmalloc(hi.m, PAGE);
    assert.equal(hi.layer.map(hi.dev, buf2, PAGE, 'to_device'), BigInt(4 * G));
    assert.equal(hi.layer.out.path, 'direct');
    assert.equal(hi.m.swiotlb.usedSlots(), 0);
  });
});

describe('dma-direct coherent allocations', () => {
  // 5.4 __dma_direct_alloc_pages: the zone comes from the coherent mask.
  it('picks the zone the coherent mask can reach', () => {
    const cases: Array<[number, number]> = [
      [64, 4 * G],
      [33, 4 * G],
      [32, 16 * M],
      [30, 16 * M],
      [24, 0],
    ];
    for (const [bits, phys] of cases) {
      const { layer, dev } = setup('direct', { coherent: bits });
      assert.equal(layer.allocCoherent(dev, PAGE), BigInt(phys), `${bits}-bit coherent mask`);
      assert.equal(layer.lastPhys, phys);
      assert.equal(layer.out.path, 'direct');
    }
  });

  // Through the bypass window the handle is PA + 2^59; with a 64-bit mask any zone will do.
  it('bypass window: a 64-bit coherent mask allocates from the normal zone', () => {
    const { layer, dev } = setup('bypass-flag', { coherent: 64 });
    assert.equal(layer.allocCoherent(dev, PAGE), (1n << 59n) + BigInt(4 * G));
    assert.equal(layer.lastPhys, 4 * G);
  });

  // Linux computes the zone from the *physical* limit, dma_to_phys(mask) = 2^60-1 - 2^59 = 2^59-1:
  // no zone restriction. The model maps any mask below 64 bits to ZONE_DMA (physBits 0), so
  // a 60..63-bit coherent device only ever gets memory below 16M, and fails once ZONE_DMA is full.
  it(
    'bypass window: a 60-bit coherent mask is not confined to ZONE_DMA',
    () => {
      const { m, layer, dev } = setup('bypass-flag', { coherent: 60 });
      const h = layer.allocCoherent(dev, PAGE);
      assert.equal(layer.out.path, 'direct');
      assert.equal(layer.lastPhys, 4 * G);
      assert.equal(h, (1n << 59n) + BigInt(4 * G));
      // and it keeps working when ZONE_DMA is full
      assert.equal(m.pages.alloc(16 * M, 'dma', ExtentKind.Kmalloc), 0);
      assert.equal(layer.allocCoherent(dev, PAGE), (1n << 59n) + BigInt(4 * G + PAGE));
    },
  );
});

/**
 * Coverage of the model's branches (issue: the parallel engine, item 3):
 * each part of the model marks the interesting branch it takes, and the
 * executor turns what a statement marked into coverage edges. Each event
 * is shown here on a program or a layer call that takes its branch, and
 * absent where the branch is not taken.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fs from 'node:fs';
import path from 'node:path';
import { loadProgramText } from '../src/exec/load.js';
import { Machine } from '../src/machine/machine.js';
import { applyMachineWords, DEFAULT_CONFIG } from '../src/machine/config.js';
import { builtinPolicy } from '../src/policy/registry.js';
import { runProgram } from '../src/exec/executor.js';
import { Coverage, SharedCoverage } from '../src/machine/coverage.js';
import { Ev, EVENT_COUNT, EVENT_NAMES, takeEvents } from '../src/machine/events.js';
import { ExtentKind } from '../src/machine/page-allocator.js';
import { DmaLayer, DMA_MAPPING_ERROR } from '../src/dma/mapping.js';
import { prog } from './helpers.js';
import { ROOT } from './cli.js';

/** A coverage map that also keeps the union of the model events it was given. */
class EventLog extends Coverage {
  seen = 0;
  override hitEvents(mask: number): void {
    this.seen |= mask;
    super.hitEvents(mask);
  }
}

type EventName = keyof typeof Ev;

function eventsOf(text: string, policy: string, machine?: Machine): { names: Set<string>; verdict: string; bits: number } {
  const lp = loadProgramText(text, 'events.dmafuzz');
  const log = new EventLog();
  const r = runProgram(lp.program, machine ?? new Machine(lp.config), builtinPolicy(policy)!, { coverage: log });
  return { names: new Set(EVENT_NAMES.filter((_, i) => (log.seen & (1 << i)) !== 0)), verdict: r.verdict.verdict === 'ok' ? 'ok' : `${r.verdict.kind}@${r.verdict.line}`, bits: log.bits().length };
}

function assertEvents(got: Set<string>, want: EventName[], absent: EventName[] = []): void {
  for (const w of want) assert.ok(got.has(w), `expected ${w} among ${[...got].join(' ') || 'no events'}`);
  for (const a of absent) assert.ok(!got.has(a), `did not expect ${a} among ${[...got].join(' ')}`);
}

const BOUNCE = prog(
  'machine ram=0-2G,4G-6G',
  'dev d0 width=64',
  'set_mask d0 32',
  'b = kmalloc 4K',
  'm = map_single d0 b 0 4K bidirectional',
  'mapping_error d0 m',
  'dev_write d0 m 0 64 seed=1',
  'unmap_single d0 m',
  'cpu_read b 0 64',
  'kfree b',
  'unbind d0',
);

// lazy invalidation, a merged map_sg, a stale IOTLB entry after a lazy unmap, and rogue accesses of each fault reason
const LAZY = prog(
  'machine ram=0-2G,4G-6G inval=lazy',
  'dev d0 width=64',
  'set_mask d0 64',
  'a = kmalloc 4K',
  'b = kmalloc 4K',
  's = map_sg d0 [a b] to_device',
  'unmap_sg d0 s',
  'm = map_single d0 a 0 4K from_device',
  'mapping_error d0 m',
  'dev_write d0 m 0 64 seed=1',
  'unmap_single d0 m',
  // m's IOVA: below the two pages of s, which lazy mode keeps until the flush
  'dev_read_raw d0 0xffffd000 64',
  'dev_write_raw d0 0x1000 64 seed=2',
  'dev_read_raw d0 0x2000 64',
  'dev_read_raw d0 0x1000000000000000 64',
  'tick',
  'kfree a',
  'kfree b',
  'unbind d0',
);

describe('model events as coverage', () => {
  it('names every event bit once, within one Int32 register', () => {
    assert.equal(EVENT_NAMES.length, EVENT_COUNT);
    assert.ok(EVENT_COUNT <= 32);
    assert.deepEqual(
      Object.values(Ev).sort((a, b) => a - b),
      [...Array(EVENT_COUNT).keys()],
    );
  });

  it('dma-direct below the mask bounces through swiotlb and copies; through the IOMMU it does not', () => {
    const direct = eventsOf(BOUNCE, 'direct');
    assert.equal(direct.verdict, 'ok');
    assertEvents(direct.names, ['Bounce', 'BounceCopy', 'OracleCpuRead'], ['DomainChange', 'IovaBelow4G', 'PageTableAlloc']);
    const iommu = eventsOf(BOUNCE, 'iommu');
    assert.equal(iommu.verdict, 'ok');
    assertEvents(iommu.names, ['DomainChange', 'PageTableAlloc', 'IotlbMiss', 'StrictInvalidate'], ['Bounce', 'BounceCopy', 'IovaBelow4G']);
  });

  it('a 64-bit device gets an IOVA below 4 GiB first', () => {
    const r = eventsOf(BOUNCE.replace('set_mask d0 32', 'set_mask d0 64'), 'iommu');
    assertEvents(r.names, ['IovaBelow4G'], ['IovaFallbackAbove4G']);
  });

  it('a mapping over the swiotlb segment limit finds the pool full', () => {
    const r = eventsOf(prog('machine ram=0-2G,4G-6G', 'dev d0 width=64', 'set_mask d0 32', 'a = kmalloc 512K', 'm = map_single d0 a 0 512K to_device', 'mapping_error d0 m', 'kfree a', 'unbind d0'), 'direct');
    assert.equal(r.verdict, 'ok');
    assertEvents(r.names, ['SwiotlbFull'], ['Bounce', 'BounceCopy']);
  });

  it('lazy mode queues and flushes, map_sg merges, a stale IOTLB entry is seen, and each fault reason is marked', () => {
    const r = eventsOf(LAZY, 'iommu');
    assert.equal(r.verdict, 'ok');
    assertEvents(r.names, ['LazyQueue', 'LazyFlush', 'SgMerged', 'StaleIotlbHit', 'Fault4', 'Fault5', 'Fault6', 'RogueContained', 'IotlbMiss'], ['StrictInvalidate']);
    // without an IOMMU the same rogue accesses reach memory
    assertEvents(eventsOf(LAZY, 'direct').names, ['RogueEscaped'], ['LazyQueue', 'SgMerged', 'Fault5']);
  });

  it('the thread cases: domain changes, path switches, faults and the layer errors of each path', () => {
    const games = fs.readFileSync(path.join(ROOT, 'test/fixtures/mask-games.dmafuzz'), 'utf8');
    const sata = fs.readFileSync(path.join(ROOT, 'test/fixtures/sata-nv.dmafuzz'), 'utf8');
    assertEvents(eventsOf(games, 'intel-2019').names, ['DomainChange', 'Fault5']);
    assertEvents(eventsOf(games, 'bypass-flag').names, ['DomainChange', 'PathSwitch', 'IommuUnmatched'], ['DirectHandleMismatch']);
    assertEvents(eventsOf(sata, 'bypass-flag').names, ['PathSwitch', 'DirectHandleMismatch'], ['IommuUnmatched']);
    assertEvents(eventsOf(sata, 'default-domain').names, ['Fault6', 'OracleDeviceRead']);
    assertEvents(eventsOf(games, 'direct').names, ['OracleCpuRead'], ['DomainChange', 'PathSwitch', 'Fault5']);
  });

  it('a full IOVA space below 4 GiB falls back to the wider mask; under a 32-bit mask it is exhausted', () => {
    const m = new Machine(DEFAULT_CONFIG);
    const layer = new DmaLayer(m, builtinPolicy('iommu')!);
    const dev = layer.addDevice(64, false);
    assert.equal(layer.setMask(dev, 64, false), 0);
    const d = m.v.devDomain[dev]!;
    for (let size = 2 ** 19; size >= 1; size /= 2) while (m.iova.alloc(d, size, 2 ** 20 - 1) >= 0);
    const buf = m.pages.alloc(4096, 'normal', ExtentKind.Kmalloc);
    takeEvents(m.v);
    assert.notEqual(layer.map(dev, buf, 4096, 'to_device'), DMA_MAPPING_ERROR);
    let e = takeEvents(m.v);
    assert.ok(e & (1 << Ev.IovaFallbackAbove4G), 'fallback marked');
    assert.equal(e & (1 << Ev.IovaBelow4G), 0);
    assert.equal(layer.setMask(dev, 32, false), 0);
    takeEvents(m.v);
    assert.equal(layer.map(dev, buf, 4096, 'to_device'), DMA_MAPPING_ERROR);
    e = takeEvents(m.v);
    assert.ok(e & (1 << Ev.IovaExhausted), 'exhaustion marked');
  });

  it('a page allocation with no room marks NoMemory', () => {
    const m = new Machine(applyMachineWords(DEFAULT_CONFIG, []));
    takeEvents(m.v);
    assert.ok(m.pages.alloc(4096, 'normal', ExtentKind.Kmalloc) >= 0);
    assert.equal(takeEvents(m.v) & (1 << Ev.NoMemory), 0);
    assert.equal(m.pages.alloc(2 ** 40, 'normal', ExtentKind.Kmalloc), -1);
    assert.ok(takeEvents(m.v) & (1 << Ev.NoMemory));
  });

  it('events of one run never leak into the next, with or without coverage in between', () => {
    const m = new Machine(loadProgramText(BOUNCE, 'b').config);
    runProgram(loadProgramText(BOUNCE, 'b').program, m, builtinPolicy('direct')!);
    const quiet = eventsOf(prog('machine ram=0-2G,4G-6G', 'dev d0 width=64', 'unbind d0'), 'direct', m);
    assert.equal(quiet.names.size, 0, [...quiet.names].join(' '));
  });

  it('model events add coverage edges beyond the statement kinds and paths', () => {
    class WithoutEvents extends Coverage {
      override hitEvents(): void {}
    }
    const bitsOf = (c: Coverage): number => {
      const lp = loadProgramText(LAZY, 'lazy');
      runProgram(lp.program, new Machine(lp.config), builtinPolicy('iommu')!, { coverage: c });
      return c.bits().length;
    };
    const all = bitsOf(new Coverage());
    const statementsOnly = bitsOf(new WithoutEvents());
    assert.ok(all > statementsOnly + 10, `${all} bits with model events, ${statementsOnly} without`);
  });

  it('the shared map: add counts the bits that were new, collectNewBits keeps only the ones it lacks', () => {
    const shared = new SharedCoverage();
    assert.equal(shared.add([1, 31, 32, 65535]), 4);
    assert.equal(shared.add([1, 2]), 1);
    assert.equal(shared.count(), 5);
    const into = new Set<number>([7]);
    shared.collectNewBits([0, 1, 2, 3, 32, 33, 65535, 65534], into);
    assert.deepEqual([...into].sort((a, b) => a - b), [0, 3, 7, 33, 65534]);
  });
});

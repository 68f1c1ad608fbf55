/**
 * What a batch reports as coverage finds (src/engine/batch.ts): each find
 * carries only the bits no earlier find of its batch carries, and nothing
 * is lost: together the finds hold every bit the batch's programs set that
 * the shared map lacked. The coordinator's merge relies on both.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchRunner } from '../src/engine/batch.js';
import { SharedCorpusWriter, SharedCorpusReader } from '../src/engine/shared-corpus.js';
import { WATCH_BYTES, type FuzzTask } from '../src/engine/protocol.js';
import { Coverage, SharedCoverage } from '../src/machine/coverage.js';
import { BUILTIN_POLICIES } from '../src/policy/registry.js';
import { programAt, type SourceOptions } from '../src/engine/program-source.js';
import { Machine } from '../src/machine/machine.js';
import { DEFAULT_CONFIG } from '../src/machine/config.js';
import { runProgram } from '../src/exec/executor.js';

const SOURCE: SourceOptions = { mode: 'all', machine: [], maxIntents: 30, longIntents: 60 };

test('a batch reports each new bit once, in its first program, and every new bit', async () => {
  const shared = new SharedCoverage();
  const corpus = new SharedCorpusWriter();
  const policies = BUILTIN_POLICIES.map((p) => p.name);
  const task: FuzzTask = {
    kind: 'fuzz', taskId: 1, runSeed: 7, epoch: 0, batch: 0, count: 24, ...SOURCE, policies,
    corpus: corpus.snapshot(), coverage: shared.buffer, watch: new SharedArrayBuffer(WATCH_BYTES), stepBudget: 200_000, histograms: false,
  };
  const r = await new BatchRunner().run(task);
  assert.ok(r.finds.length > 1, 'several programs of a fresh batch find coverage');
  const seen = new Set<number>();
  for (const f of r.finds) {
    assert.ok(f.bits.length > 0);
    for (const b of f.bits) {
      assert.ok(!seen.has(b), `bit ${b} sent twice`);
      seen.add(b);
    }
    // the packed intents decode to the program's own intents
    const w = new SharedCorpusWriter();
    w.appendPacked(f.intents);
    const src = programAt({ runSeed: 7, epoch: 0, batch: 0, index: f.index }, [], SOURCE);
    assert.deepEqual(new SharedCorpusReader().entries(w.snapshot())[0], src.intents.map((i) => ({ ...i })));
  }
  // every bit any program set under any policy (the map was empty: all of them are new)
  const all = new Set<number>();
  const m = new Machine(DEFAULT_CONFIG);
  const cov = new Coverage();
  for (let index = 0; index < task.count; index++) {
    const src = programAt({ runSeed: 7, epoch: 0, batch: 0, index }, [], SOURCE);
    for (const p of BUILTIN_POLICIES) {
      cov.reset();
      cov.hitName(p.name);
      runProgram(src.program, m, p, { coverage: cov });
      for (const b of cov.bits()) all.add(b);
    }
  }
  assert.deepEqual([...seen].sort((a, b) => a - b), [...all].sort((a, b) => a - b));
});

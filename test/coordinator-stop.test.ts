/**
 * A stop (the time limit, SIGINT, SIGTERM) waits only for the batches
 * already handed to workers (two per worker), not for the epochs queued
 * behind them: an epoch is 512 programs, a batch 32. And a stopped run's
 * queued batches are not counted as run. The coordinator runs in process
 * here, with the compiled worker (`npm test` builds first).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Coordinator, DEFAULTS, type FuzzConfig } from '../src/engine/coordinator.js';
import { BUILTIN_POLICIES } from '../src/policy/registry.js';
import { Slots } from '../src/util/slots.js';

test('a stop waits for the batches in the workers only', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmafuzz-stop-'));
  try {
    const workers = 1;
    const cfg: FuzzConfig = {
      ...DEFAULTS, runs: 100_000, workers, seed: 1, policies: BUILTIN_POLICIES.map((p) => p.name), mode: 'all', machine: [],
      corpusDir: dir, known: new Set(), knownEntries: new Map(), seedCorpus: [], fileCorpus: [], minimize: false,
    };
    const c = new Coordinator(cfg);
    // the first new crash arrives with the first batch's result: stop there
    let aliveAtFirstCrash = -1;
    c.onCrash(() => {
      aliveAtFirstCrash = c.state.workersAlive;
      c.stop('test');
    });
    const s = await c.run();
    assert.equal(s.stopReason, 'test');
    // the status line's worker count is right from the first batch, before any epoch is merged
    assert.equal(aliveAtFirstCrash, workers);
    assert.ok(s.programs > 0 && s.programs % DEFAULTS.batchSize === 0, `${s.programs} programs`);
    // the batch that reported, plus at most the two per worker in the pool when it did
    assert.ok(s.programs <= (1 + 2 * workers) * DEFAULTS.batchSize, `${s.programs} programs ran after the stop`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('slots are handed out first come, first served, never more than the size at once', async () => {
  const slots = new Slots(2);
  const order: number[] = [];
  let held = 0;
  let most = 0;
  await Promise.all(
    Array.from({ length: 6 }, async (_, i) => {
      await slots.acquire();
      held++;
      most = Math.max(most, held);
      order.push(i);
      await new Promise((r) => setTimeout(r, 5));
      held--;
      slots.release();
    }),
  );
  assert.equal(most, 2);
  assert.deepEqual(order, [0, 1, 2, 3, 4, 5]);
});

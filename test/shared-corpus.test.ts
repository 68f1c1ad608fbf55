/** The corpus log the coordinator shares with its workers: what a reader decodes is what was appended. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SharedCorpusReader, SharedCorpusWriter } from '../src/engine/shared-corpus.js';
import { intentsArb } from '../src/program/arbitrary.js';
import type { Intent } from '../src/program/generate.js';

/** Plain objects, for deepEqual (the reader builds its own). */
const plain = (entries: readonly (readonly Intent[])[]) => entries.map((e) => e.map((i) => ({ ...i })));

test('a reader sees exactly the appended entries, across growth of both buffers', () => {
  fc.assert(
    fc.property(fc.array(intentsArb({ mode: 'legal', minIntents: 0, maxIntents: 40 }), { maxLength: 30 }), (entries) => {
      // tiny initial buffers, so that most runs grow the index and the data several times
      const w = new SharedCorpusWriter(1, 4);
      const r = new SharedCorpusReader();
      const snaps = [w.snapshot()];
      for (const e of entries) {
        w.append(e);
        snaps.push(w.snapshot());
      }
      // snapshots in order, then an older one again (two epochs in flight)
      for (const [i, s] of snaps.entries()) assert.deepEqual(r.entries(s), plain(entries.slice(0, i)));
      const mid = Math.floor(snaps.length / 2);
      assert.deepEqual(r.entries(snaps[mid]!), plain(entries.slice(0, mid)));
      // a reader that starts late decodes everything at once
      assert.deepEqual(new SharedCorpusReader().entries(snaps.at(-1)!), plain(entries));
    }),
    { numRuns: 200 },
  );
});

test('a snapshot is shared memory: nothing of the corpus is copied into the task', () => {
  const w = new SharedCorpusWriter();
  w.append([{ k: 1, a: 2, b: 3, c: 4, d: 5 }]);
  const s = w.snapshot();
  assert.ok(s.index instanceof SharedArrayBuffer && s.data instanceof SharedArrayBuffer);
  assert.equal(s.length, 1);
  // appending later does not change what an earlier snapshot names
  w.append([{ k: 6, a: 7, b: 8, c: 9, d: 10 }]);
  assert.deepEqual(new SharedCorpusReader().entries(s), [[{ k: 1, a: 2, b: 3, c: 4, d: 5 }]]);
});

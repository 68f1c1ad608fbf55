/**
 * What a worker reports of the crashes it meets (src/engine/batch.ts): for
 * each signature, the report the coordinator keeps (the first by `precedes`:
 * shortest program, then earliest coordinates) must be among the reports,
 * whatever order the batches reached the worker in. The pool can hand a
 * worker its batches out of order, and a batch run again after its worker
 * died comes late.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchRunner } from '../src/engine/batch.js';
import { SharedCorpusWriter } from '../src/engine/shared-corpus.js';
import { WATCH_BYTES, type FoundCrash, type FuzzTask } from '../src/engine/protocol.js';
import { SharedCoverage } from '../src/machine/coverage.js';
import { BUILTIN_POLICIES } from '../src/policy/registry.js';
import { programAt, type SourceOptions } from '../src/engine/program-source.js';
import { Machine } from '../src/machine/machine.js';
import { DEFAULT_CONFIG } from '../src/machine/config.js';
import { runProgram } from '../src/exec/executor.js';
import { precedes, type ReportRank } from '../src/engine/report-order.js';

const SOURCE: SourceOptions = { mode: 'all', machine: [], maxIntents: 60, longIntents: 400 };
const SEED = 3;

test('batches met out of order still yield, per signature, the first report in coordinate order', async () => {
  const shared = new SharedCoverage();
  const corpus = new SharedCorpusWriter();
  const policies = BUILTIN_POLICIES.map((p) => p.name);
  const task = (batch: number): FuzzTask => ({
    kind: 'fuzz', taskId: batch + 1, runSeed: SEED, epoch: 0, batch, count: 32, ...SOURCE, policies,
    corpus: corpus.snapshot(), coverage: shared.buffer, watch: new SharedArrayBuffer(WATCH_BYTES), stepBudget: 200_000, histograms: false,
  });
  // later batches first, as a worker may get them
  const order = [11, 10, 9, 8];
  const runner = new BatchRunner();
  const reports: FoundCrash[] = [];
  for (const b of order) reports.push(...(await runner.run(task(b))).crashes);

  // the first report of every signature, from running every program on its own
  const first = new Map<string, ReportRank>();
  const m = new Machine(DEFAULT_CONFIG);
  for (const batch of [...order].sort((a, b) => a - b)) {
    for (let index = 0; index < 32; index++) {
      const src = programAt({ runSeed: SEED, epoch: 0, batch, index }, [], SOURCE);
      for (const p of BUILTIN_POLICIES) {
        const v = runProgram(src.program, m, p).verdict;
        if (v.verdict !== 'crash') continue;
        const rank = { statements: src.program.statements.length, coords: { epoch: 0, batch, index } };
        const had = first.get(v.signature!);
        if (!had || precedes(rank, had)) first.set(v.signature!, rank);
      }
    }
  }
  assert.ok(first.size > 20, `only ${first.size} signatures`);
  const kept = new Map<string, ReportRank>();
  for (const r of reports) {
    const had = kept.get(r.signature);
    if (!had || precedes(r, had)) kept.set(r.signature, r);
  }
  const key = (r: ReportRank) => `${r.statements} ${r.coords.epoch}.${r.coords.batch}.${r.coords.index}`;
  for (const [sig, want] of first) assert.equal(kept.has(sig) ? key(kept.get(sig)!) : 'none', key(want), sig);
  assert.equal(kept.size, first.size);
});

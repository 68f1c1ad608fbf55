// Where a worker's time goes besides executing, warm and in one thread: BatchRunner.run (what a
// fuzz worker runs per batch: generation, coverage, histograms, crash records) against bare loops
// over the same programs with each of those parts added alone, and all three together. Every
// variant runs once to warm up, then REPS rounds in turn; each figure is the median over rounds of
// its rate / the bare loop's rate in the same round. The order inside a round is fixed, so a
// variant's JIT state depends on the ones before it: read differences of a few percent as noise.
// BatchRunner.run's finds are merged into the shared coverage map after each batch, as the
// coordinator merges them (until 2026-12-04 they were not, and every program was a find).
//   npm run build && node bench/in-thread-ablation.mjs [BATCHES=32] [REPS=7]
import { BatchRunner, KeyCache } from '../dist/src/engine/batch.js';
import { SharedCorpusWriter } from '../dist/src/engine/shared-corpus.js';
import { SharedCoverage, Coverage } from '../dist/src/machine/coverage.js';
import { WATCH_BYTES } from '../dist/src/engine/protocol.js';
import { programAt } from '../dist/src/engine/program-source.js';
import { Machine } from '../dist/src/machine/machine.js';
import { DEFAULT_CONFIG } from '../dist/src/machine/config.js';
import { runProgram, opIndexes } from '../dist/src/exec/executor.js';
import { BUILTIN_POLICIES } from '../dist/src/policy/registry.js';
import { DEFAULTS } from '../dist/src/engine/coordinator.js';

const BATCHES = Number(process.argv[2] ?? 32);
const REPS = Number(process.argv[3] ?? 7);
const SIZE = DEFAULTS.batchSize;
const opts = { mode: 'all', machine: [], maxIntents: DEFAULTS.maxIntents, longIntents: DEFAULTS.longIntents };
const corpus = new SharedCorpusWriter();
const shared = new SharedCoverage();
const watch = new SharedArrayBuffer(WATCH_BYTES);
const runner = new BatchRunner();
const coordsOf = (b, i) => ({ runSeed: 1, epoch: Math.floor(b / DEFAULTS.batchesPerEpoch), batch: b % DEFAULTS.batchesPerEpoch, index: i });

async function batches(histograms) {
  let statements = 0;
  const t0 = performance.now();
  for (let b = 0; b < BATCHES; b++) {
    const { epoch, batch } = coordsOf(b, 0);
    const r = await runner.run({
      kind: 'fuzz', taskId: b + 1, runSeed: 1, epoch, batch, count: SIZE, mode: opts.mode, policies: BUILTIN_POLICIES.map((p) => p.name),
      machine: [], maxIntents: opts.maxIntents, longIntents: opts.longIntents, corpus: corpus.snapshot(), coverage: shared.buffer, watch,
      stepBudget: DEFAULTS.stepBudget, histograms,
    });
    statements += r.statements;
    // the coordinator's merge, coverage only (the corpus stays empty, so that the programs stay the
    // bare loop's): finds become as rare as in a real run once the first round has filled the map
    for (const f of r.finds) shared.add(f.bits);
  }
  return (statements / (performance.now() - t0)) * 1000;
}

const programs = [];
for (let b = 0; b < BATCHES; b++) for (let i = 0; i < SIZE; i++) programs.push(programAt(coordsOf(b, i), [], opts).program);
const machine = new Machine(DEFAULT_CONFIG);

function bare({ coverage = false, generate = false, histograms = false }) {
  const keys = BUILTIN_POLICIES.map((p) => new KeyCache(p.name));
  const cov = new Coverage();
  let statements = 0;
  const t0 = performance.now();
  for (let n = 0; n < programs.length; n++) {
    const p = generate ? programAt(coordsOf(Math.floor(n / SIZE), n % SIZE), [], opts).program : programs[n];
    const ops = opIndexes(p.statements);
    for (let pi = 0; pi < BUILTIN_POLICIES.length; pi++) {
      if (coverage) {
        cov.reset();
        cov.hitName(BUILTIN_POLICIES[pi].name);
      }
      const kc = keys[pi];
      statements += runProgram(p, machine, BUILTIN_POLICIES[pi], {
        stepBudget: DEFAULTS.stepBudget, coverage: coverage ? cov : undefined, opIndexes: ops, sampleEvery: 64, sampleOffset: (n * 7 + pi) % 64,
        onStatement: histograms ? kc.onStatement : undefined,
      }).steps;
    }
  }
  return (statements / (performance.now() - t0)) * 1000;
}

const variants = {
  'bare loop': () => bare({}),
  '+ coverage': () => bare({ coverage: true }),
  '+ generation': () => bare({ generate: true }),
  '+ histograms': () => bare({ histograms: true }),
  '+ all three': () => bare({ coverage: true, generate: true, histograms: true }),
  'BatchRunner.run': () => batches(true),
};
const rates = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
for (const k of Object.keys(variants)) await variants[k]();
for (let r = 0; r < REPS; r++) for (const k of Object.keys(variants)) rates[k].push(await variants[k]());
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const base = rates['bare loop'];
for (const k of Object.keys(variants)) {
  console.log(`${k.padEnd(16)} ${(median(rates[k]) / 1000).toFixed(0).padStart(5)}k statements/s   / bare loop ${median(rates[k].map((x, i) => x / base[i])).toFixed(3)}`);
}

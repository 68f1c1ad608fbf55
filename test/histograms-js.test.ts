/**
 * The workers' histograms must stay off WebAssembly: growing a WebAssembly
 * memory detaches an ArrayBuffer, and V8 then throws away every optimized
 * function that reads a typed array (the whole model) and recompiles it.
 * That happened 10 s into every fuzz worker's run (BENCHMARKS.md, "The
 * engine, second pass"). This test runs the worker's recording and
 * shipping path and fails if anything in it touches WebAssembly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';

const calls: string[] = [];
for (const name of ['instantiate', 'compile', 'instantiateStreaming', 'compileStreaming'] as const) {
  const original = (WebAssembly as unknown as Record<string, (...a: unknown[]) => unknown>)[name];
  if (!original) continue;
  (WebAssembly as unknown as Record<string, unknown>)[name] = (...a: unknown[]) => {
    calls.push(name);
    return original.apply(WebAssembly, a);
  };
}
const OriginalModule = WebAssembly.Module;
(WebAssembly as unknown as Record<string, unknown>).Module = function (...a: ConstructorParameters<typeof WebAssembly.Module>) {
  calls.push('Module');
  return new OriginalModule(...a);
};

test('recording and shipping histogram counts, as a worker does, never touches WebAssembly', async () => {
  const { HistogramRecorder } = await import('../src/report/histogram-counts.js');
  const { HistogramSet } = await import('../src/report/histograms.js');
  const { KeyCache } = await import('../src/engine/batch.js');
  const rec = new HistogramRecorder();
  const keys = new KeyCache('iommu');
  for (let i = 0; i < 5000; i++) {
    keys.modelled(4 * 9 + 3, 250 + (i % 40) * 10);
    keys.measured(9, 800 + (i % 300));
  }
  keys.drain(rec);
  const deltas = rec.takeDeltas();
  assert.ok(deltas.length >= 2);
  // and the coordinator's side reads them back
  const set = new HistogramSet();
  for (const d of deltas) set.addDelta(d);
  const total = [...set.hists.values()].reduce((n, h) => n + h.totalCount, 0);
  assert.equal(total, 10000);
  assert.deepEqual(calls, [], `WebAssembly was used: ${calls.join(', ')}`);
});

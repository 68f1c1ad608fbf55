/**
 * Workers count each value as the lowest value of its histogram bucket
 * (src/report/histogram-counts.ts). That is only right if the cut matches
 * the histograms' own buckets: the histogram recorded from the counts must
 * be the one recorded from the raw values.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as hdr from 'hdr-histogram-js';
import { countValue, HistogramRecorder } from '../src/report/histogram-counts.js';
import { HistogramSet, encode } from '../src/report/histograms.js';

const SETTINGS = { lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: 3 as const };

test('a counted value is the lowest value of its histogram bucket', () => {
  // the JS build's class (what hdr.build returns by default) exposes the bucket arithmetic
  const h = hdr.build(SETTINGS) as unknown as { lowestEquivalentValue(v: number): number };
  fc.assert(
    fc.property(fc.double({ min: 0, max: 5e9, noNaN: true }), (ns) => {
      const counts = new Map<number, number>();
      countValue(counts, ns);
      const [v] = [...counts.keys()];
      const rounded = ns < 1 ? 1 : Math.round(ns);
      assert.equal(v, h.lowestEquivalentValue(rounded), `${ns}`);
    }),
    { numRuns: 2000 },
  );
  for (const edge of [2047, 2048, 2049, 4095, 4096, 2 ** 30 + 12345, 2 ** 31 - 1]) {
    const counts = new Map<number, number>();
    countValue(counts, edge);
    assert.equal([...counts.keys()][0], h.lowestEquivalentValue(edge), `${edge}`);
  }
});

test('histograms recorded from shipped counts equal histograms of the raw values', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 3_000_000 }), { minLength: 1, maxLength: 400 }), (values) => {
      const rec = new HistogramRecorder();
      const raw = hdr.build(SETTINGS);
      for (const v of values) {
        rec.record('k', v);
        raw.recordValue(Math.max(1, v));
      }
      const set = new HistogramSet();
      for (const d of rec.takeDeltas()) set.addDelta(d);
      const merged = set.hists.get('k')!;
      assert.equal(merged.totalCount, values.length);
      // the same buckets: the encoded forms of both, decoded, print the same distribution
      assert.equal(hdr.decodeFromCompressedBase64(encode(merged)).outputPercentileDistribution(), hdr.decodeFromCompressedBase64(encode(raw)).outputPercentileDistribution());
    }),
    { numRuns: 200 },
  );
});

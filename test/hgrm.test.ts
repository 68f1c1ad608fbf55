/**
 * dmafuzz's own `.hgrm` printer (src/report/hgrm.ts) must print exactly what
 * hdr-histogram-js's `outputPercentileDistribution(5, 1)` prints, since the
 * report's `.hgrm` files are read by HdrHistogram tools that expect that
 * text: random histograms of the report's settings (latencies from 1 ns to a
 * minute, as a fuzz run records them, and as they read back from their
 * `.hdr` files), compared byte for byte.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as hdr from 'hdr-histogram-js';
import { meanOf, percentileDistribution, type CountsHistogram } from '../src/report/hgrm.js';
import { decode, encode, toHgrm } from '../src/report/histograms.js';

const SETTINGS = { lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: 3 as const };

// values spread over the magnitudes a run sees: a mantissa and a power of ten, with counts from 1 to large
const recorded = fc.array(fc.tuple(fc.integer({ min: 1, max: 9999 }), fc.integer({ min: 0, max: 6 }), fc.integer({ min: 1, max: 100_000 })), { maxLength: 60 });

function build(values: ReadonlyArray<readonly [number, number, number]>): hdr.Histogram {
  const h = hdr.build(SETTINGS);
  for (const [m, e, n] of values) h.recordValueWithCount(m * 10 ** e, n);
  return h;
}

test('the .hgrm text is the library\'s, byte for byte, on random histograms', () => {
  fc.assert(
    fc.property(recorded, fc.boolean(), (values, roundTrip) => {
      const h = roundTrip ? decode(encode(build(values))) : build(values);
      assert.equal(percentileDistribution(h as unknown as CountsHistogram), h.outputPercentileDistribution(5, 1));
      assert.equal(meanOf(h as unknown as CountsHistogram), h.mean);
    }),
    { numRuns: 300 },
  );
});

test('the .hgrm text of edge cases: empty, one value, one value many times, the top of the range', () => {
  for (const values of [[], [[1, 0, 1]], [[5, 2, 1_000_000]], [[6, 10, 1]], [[1, 0, 1], [6, 10, 1]]] as Array<Array<[number, number, number]>>) {
    const h = build(values);
    assert.equal(toHgrm(h), h.outputPercentileDistribution(5, 1), JSON.stringify(values));
  }
});

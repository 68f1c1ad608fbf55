/**
 * The `.hgrm` text of a histogram (HdrHistogram's percentile distribution
 * with 5 ticks per half distance and values unscaled), byte for byte what
 * hdr-histogram-js's `outputPercentileDistribution(5, 1)` prints, at a
 * fraction of its cost. The library's iterators visit all ~27,000 counts
 * of a histogram, computing two bucket values at each, and build five
 * `Intl.NumberFormat`s per call; a fuzz report writes ~300 of these, which
 * took about 1.2 s of a 10-s run's tail. Here only the recorded (non-zero)
 * counts are visited, with the library's own value functions and the same
 * arithmetic in the same order, and the formatters are built once. The
 * report's mean (`meanOf`) is summed the same way, instead of by the
 * library's `mean`, which walks every count too. test/hgrm.test.ts checks
 * both against the library on random histograms.
 */

/** The parts of a hdr-histogram-js JsHistogram this uses (all public on the class). */
export interface CountsHistogram {
  readonly totalCount: number;
  readonly maxValue: number;
  readonly countsArrayLength: number;
  readonly bucketCount: number;
  readonly subBucketCount: number;
  readonly numberOfSignificantValueDigits: number;
  getCountAtIndex(index: number): number;
  valueFromIndex(index: number): number;
  highestEquivalentValue(value: number): number;
  medianEquivalentValue(value: number): number;
}

const TICKS_PER_HALF_DISTANCE = 5;

/** The library's fixed-width number formats: `Intl.NumberFormat` (en-US, no grouping), left-padded. */
function floatFormat(size: number, fractionDigits: number): (x: number) => string {
  const f = new Intl.NumberFormat('en-US', { maximumFractionDigits: fractionDigits, minimumFractionDigits: fractionDigits, useGrouping: false });
  return (x) => f.format(x).padStart(size);
}
const intFormat = (size: number) => (n: number) => String(n).padStart(size);

const valueFormats = new Map<number, (x: number) => string>();
function valueFormat(digits: number): (x: number) => string {
  let f = valueFormats.get(digits);
  if (!f) valueFormats.set(digits, (f = floatFormat(12, digits)));
  return f;
}
const percentileFormat = floatFormat(2, 12);
const countFormat = intFormat(10);
const inverseFormat = floatFormat(14, 2);
const footerIntFormat = intFormat(12);

interface RecordedCounts {
  /** the indexes of the non-zero counts, in order */
  indexes: number[];
  counts: number[];
  /** each one's median equivalent value, which the mean and deviation are summed over */
  medians: number[];
}

/** The recorded counts, in index order (none is left once they add up to the total). */
function recordedCounts(h: CountsHistogram): RecordedCounts {
  const total = h.totalCount;
  const indexes: number[] = [];
  const counts: number[] = [];
  for (let i = 0, seen = 0; i < h.countsArrayLength && seen < total; i++) {
    const c = h.getCountAtIndex(i);
    if (c !== 0) {
      indexes.push(i);
      counts.push(c);
      seen += c;
    }
  }
  const medians = indexes.map((i) => h.medianEquivalentValue(h.highestEquivalentValue(h.valueFromIndex(i))));
  return { indexes, counts, medians };
}

/** The histogram's mean, as the library's `mean` sums it (over its recorded-values iterator). */
export function meanOf(h: CountsHistogram, rc: RecordedCounts = recordedCounts(h)): number {
  if (h.totalCount === 0) return 0;
  let sum = 0;
  for (let j = 0; j < rc.medians.length; j++) sum += rc.medians[j]! * rc.counts[j]!;
  return sum / h.totalCount;
}

/** Its standard deviation, as the library's `getStdDeviation(mean)` sums it. */
function stdDeviationOf(h: CountsHistogram, rc: RecordedCounts, mean: number): number {
  if (h.totalCount === 0) return 0;
  let squares = 0;
  for (let j = 0; j < rc.medians.length; j++) {
    const d = rc.medians[j]! - mean;
    squares += d * d * rc.counts[j]!;
  }
  return Math.sqrt(squares / h.totalCount);
}

export function percentileDistribution(h: CountsHistogram): string {
  const value = valueFormat(h.numberOfSignificantValueDigits);
  const rc = recordedCounts(h);
  const { indexes, counts } = rc;
  const total = h.totalCount;
  let out = '       Value     Percentile TotalCount 1/(1-Percentile)\n\n';

  // The library's percentile iterator as a state machine over the recorded counts (a zero count
  // never reaches an iteration level, and adds nothing). `k` is the current count, `fresh` whether
  // it is not yet added to the running total.
  let k = 0;
  let fresh = true;
  let cumulative = 0;
  let level = 0;
  let reachedLast = false;
  const hasNext = (): boolean => {
    if (cumulative < total) return true;
    if (!reachedLast && total > 0) {
      level = 100;
      reachedLast = true;
      return true;
    }
    return false;
  };
  while (hasNext()) {
    for (;;) {
      if (k >= indexes.length) throw new Error('hgrm: ran past the recorded counts');
      if (fresh) {
        cumulative += counts[k]!;
        fresh = false;
      }
      if ((100 * cumulative) / total >= level) break;
      k++;
      fresh = true;
    }
    const v = h.highestEquivalentValue(h.valueFromIndex(indexes[k]!));
    const p = level / 100;
    if (level < 100) out += `${value(v)} ${percentileFormat(p)} ${countFormat(cumulative)} ${inverseFormat(1 / (1 - p))}\n`;
    else out += `${value(v)} ${percentileFormat(p)} ${countFormat(cumulative)}\n`;
    const ticks = TICKS_PER_HALF_DISTANCE * Math.pow(2, Math.floor(Math.log2(100 / (100 - level))) + 1);
    level += 100 / ticks;
  }

  const mean = meanOf(h, rc);
  const std = stdDeviationOf(h, rc, mean);
  out += `#[Mean    = ${value(mean)}, StdDeviation   = ${value(std)}]
#[Max     = ${value(h.maxValue)}, Total count    = ${footerIntFormat(total)}]
#[Buckets = ${footerIntFormat(h.bucketCount)}, SubBuckets     = ${footerIntFormat(h.subBucketCount)}]
`;
  return out;
}

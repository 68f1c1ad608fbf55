/**
 * The workers' half of the latency histograms: values counted per key in
 * plain maps, shipped to the coordinator as (value, count) pairs. Nothing
 * here imports hdr-histogram-js: a worker builds no histogram (histograms.ts
 * says why), and does not pay for loading the library either.
 */

/** What a worker ships for one key: each distinct value once, with how often it was seen. */
export interface CountDelta {
  key: string;
  values: Float64Array;
  counts: Float64Array;
  /** the sum of counts */
  count: number;
}

/**
 * The worker side: values counted per key in plain maps (modelled costs
 * take few distinct values, and a map increment is far cheaper than a
 * histogram record), shipped as count deltas and started over.
 */
export class HistogramRecorder {
  private readonly pending = new Map<string, Map<number, number>>();

  record(key: string, value: number): void {
    let counts = this.pending.get(key);
    if (counts === undefined) this.pending.set(key, (counts = new Map()));
    countValue(counts, value);
  }

  /** Adds already-counted values (value -> count) under a key. */
  addCounts(key: string, counts: ReadonlyMap<number, number>): void {
    let mine = this.pending.get(key);
    if (mine === undefined) this.pending.set(key, (mine = new Map()));
    for (const [v, n] of counts) mine.set(v, (mine.get(v) ?? 0) + n);
  }

  /** Every key's counts since the last call, as typed arrays (cheap to clone across threads); the counts start over. */
  takeDeltas(): CountDelta[] {
    const out: CountDelta[] = [];
    for (const [key, counts] of this.pending) {
      const values = new Float64Array(counts.size);
      const ns = new Float64Array(counts.size);
      let i = 0;
      let total = 0;
      for (const [v, n] of counts) {
        values[i] = v;
        ns[i++] = n;
        total += n;
      }
      out.push({ key, values, counts: ns, count: total });
    }
    this.pending.clear();
    return out;
  }
}

/**
 * Counts one value (ns) as the histograms will hold it: rounded, at least 1,
 * and cut to the lowest value of its histogram bucket. The histograms keep 3
 * significant digits (2,048 sub-buckets: values below 2,048 exactly, then
 * steps of 2, 4, 8, ... per doubling), so counting the bucket's lowest value
 * instead of the value itself records the same histogram, and a wall-clock
 * map holds a few hundred keys instead of thousands.
 */
export function countValue(counts: Map<number, number>, ns: number): void {
  let v = ns < 1 ? 1 : Math.round(ns);
  if (v >= 2048) {
    if (v < 2 ** 31) {
      const shift = 21 - Math.clz32(v);
      v = (v >>> shift) << shift;
    } else {
      const step = 2 ** (Math.floor(Math.log2(v)) - 10);
      v = Math.floor(v / step) * step;
    }
  }
  counts.set(v, (counts.get(v) ?? 0) + 1);
}

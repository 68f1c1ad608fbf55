/**
 * Latency histograms (HdrHistogram, via hdr-histogram-js). Two kinds, kept
 * apart: `modelled` is the cost model's simulated ns per policy x statement
 * kind x path (what the IOMMU costs against bypass); `measured` is the
 * simulator's own wall-clock ns per policy x statement kind (the engine's
 * speed). Workers count values in plain maps, pour them into histograms
 * when they ship compressed deltas (every few seconds), and the coordinator
 * decodes and adds them.
 *
 * The histograms are hdr-histogram-js's JavaScript build, in the workers
 * too. Its WebAssembly build records faster, but its memory grows when
 * histograms are created, and growing a WebAssembly memory detaches the
 * old ArrayBuffer: V8 then throws away every optimized function that reads
 * a typed array (the whole machine model) and compiles it again with
 * detach checks. In a fuzz worker that happened at the first shipment,
 * 10 s into the run, and cost the worker about a fifth of its speed
 * afterwards (BENCHMARKS.md). With values counted in maps first, a
 * histogram sees one call per distinct value, so the JS build's slower
 * recording does not show.
 */
import * as hdr from 'hdr-histogram-js';

export type HistKind = 'modelled' | 'measured';

export interface HistKey {
  policy: string;
  op: string;
  /** direct, bounce, iommu; '-' for measured histograms */
  path: string;
  kind: HistKind;
}

export function keyOf(k: HistKey): string {
  return `${k.policy}|${k.op}|${k.path}|${k.kind}`;
}

export function parseKey(key: string): HistKey {
  const [policy, op, path, kind] = key.split('|');
  return { policy: policy!, op: op!, path: path!, kind: kind as HistKind };
}

/** A file-name-safe form of a key: policy__op__path__kind. */
export function fileStem(key: string): string {
  return key.split('|').map((p) => p.replace(/[^A-Za-z0-9._-]/g, '_')).join('__');
}

const SETTINGS = { lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: 3 as const };

export interface EncodedDelta {
  key: string;
  count: number;
  data: string;
}

/**
 * The worker side: histograms by key, shipped as deltas and reset. Values
 * are first counted in plain maps (modelled costs take few distinct values,
 * and a map increment is cheaper than a histogram record per statement),
 * and poured into the histograms with their counts when a
 * delta is taken.
 */
export class HistogramRecorder {
  private readonly hists = new Map<string, hdr.Histogram>();
  private readonly pending = new Map<string, Map<number, number>>();

  record(key: string, value: number): void {
    let counts = this.pending.get(key);
    if (counts === undefined) this.pending.set(key, (counts = new Map()));
    const v = value < 1 ? 1 : Math.round(value);
    counts.set(v, (counts.get(v) ?? 0) + 1);
  }

  /** Adds already-counted values (value -> count) under a key. */
  addCounts(key: string, counts: ReadonlyMap<number, number>): void {
    let mine = this.pending.get(key);
    if (mine === undefined) this.pending.set(key, (mine = new Map()));
    for (const [v, n] of counts) mine.set(v, (mine.get(v) ?? 0) + n);
  }

  /** Compressed copies of every histogram recorded since the last call; the histograms start over. */
  takeDeltas(): EncodedDelta[] {
    const out: EncodedDelta[] = [];
    for (const [key, counts] of this.pending) {
      let h = this.hists.get(key);
      if (!h) this.hists.set(key, (h = hdr.build(SETTINGS)));
      for (const [v, n] of counts) h.recordValueWithCount(v, n);
      out.push({ key, count: h.totalCount, data: hdr.encodeIntoCompressedBase64(h) });
      h.reset();
    }
    this.pending.clear();
    return out;
  }
}

/**
 * The coordinator side: plain JS histograms, merged with `add`. Deltas are
 * only queued when they arrive and decoded when the histograms are first
 * read (the report): decoding and adding a worker's ~300 deltas takes tens
 * of ms, and while the coordinator's thread is busy no worker gets its next
 * batch.
 */
export class HistogramSet {
  private readonly merged = new Map<string, hdr.Histogram>();
  private readonly queued: EncodedDelta[] = [];
  /** what the workers said they recorded, to check the merge */
  shippedCount = 0;

  addDelta(d: EncodedDelta): void {
    this.queued.push(d);
    this.shippedCount += d.count;
  }

  /** Every histogram by key, with all deltas received so far merged in. */
  get hists(): ReadonlyMap<string, hdr.Histogram> {
    for (const d of this.queued.splice(0)) this.addHistogram(d.key, hdr.decodeFromCompressedBase64(d.data));
    return this.merged;
  }

  addHistogram(key: string, other: hdr.Histogram): void {
    let h = this.merged.get(key);
    if (!h) {
      h = hdr.build(SETTINGS);
      this.merged.set(key, h);
    }
    h.add(other);
  }

  totalCount(): number {
    let n = 0;
    for (const h of this.hists.values()) n += h.totalCount;
    return n;
  }
}

/** The standard HdrHistogram percentile-distribution text (.hgrm). */
export function toHgrm(h: hdr.Histogram): string {
  return h.outputPercentileDistribution(5, 1);
}

export function encode(h: hdr.Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

export function decode(data: string): hdr.Histogram {
  return hdr.decodeFromCompressedBase64(data);
}

export interface HistStats {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

export function statsOf(h: hdr.Histogram): HistStats {
  return {
    count: h.totalCount,
    min: h.minNonZeroValue,
    mean: h.mean,
    p50: h.getValueAtPercentile(50),
    p90: h.getValueAtPercentile(90),
    p99: h.getValueAtPercentile(99),
    p999: h.getValueAtPercentile(99.9),
    max: h.maxValue,
  };
}

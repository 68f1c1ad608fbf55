/**
 * Latency histograms (HdrHistogram, via hdr-histogram-js). Two kinds, kept
 * apart: `modelled` is the cost model's simulated ns per policy x statement
 * kind x path (what the IOMMU costs against bypass); `measured` is the
 * simulator's own wall-clock ns per policy x statement kind (the engine's
 * speed). Workers count values in plain maps and ship the counts (value,
 * count pairs in typed arrays) every few seconds; the coordinator pours
 * them into histograms when the report first reads them.
 *
 * Workers build no histograms at all. Pouring counts into a histogram and
 * compressing it was 2% of a worker's time, spent again in the coordinator
 * to decode it; the coordinator's thread is mostly idle, and it records
 * each distinct value once. (Workers also must not touch hdr-histogram-js's
 * WebAssembly build: growing a WebAssembly memory detaches an ArrayBuffer,
 * and V8 then throws away every optimized function that reads a typed
 * array, the whole machine model, and compiles it again with detach
 * checks. That cost a worker about a fifth of its speed 10 s into every
 * run; BENCHMARKS.md.) The coordinator uses the JS build as well.
 */
import * as hdr from 'hdr-histogram-js';
import type { CountDelta } from './histogram-counts.js';
import { meanOf, percentileDistribution, type CountsHistogram } from './hgrm.js';

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

/**
 * The coordinator side: plain JS histograms. Deltas are only queued when
 * they arrive and recorded when the histograms are first read (the
 * report): while the coordinator's thread is busy, no worker gets its next
 * batch.
 */
export class HistogramSet {
  private readonly merged = new Map<string, hdr.Histogram>();
  private readonly queued: CountDelta[] = [];
  /** what the workers said they recorded, to check the merge */
  shippedCount = 0;

  addDelta(d: CountDelta): void {
    this.queued.push(d);
    this.shippedCount += d.count;
  }

  /** Every histogram by key, with all deltas received so far recorded. */
  get hists(): ReadonlyMap<string, hdr.Histogram> {
    if (this.queued.length === 0) return this.merged;
    const touched = new Set<string>();
    for (const d of this.queued.splice(0)) {
      const h = this.histogram(d.key);
      for (let i = 0; i < d.values.length; i++) h.recordValueWithCount(d.values[i]!, d.counts[i]!);
      touched.add(d.key);
    }
    // each histogram as its .hdr file will read back (a decoded max sits at the top of its bucket), so
    // the page a fuzz run draws and the one `dmafuzz report` draws from those files are the same
    for (const key of touched) this.merged.set(key, decode(encode(this.merged.get(key)!)));
    return this.merged;
  }

  private histogram(key: string): hdr.Histogram {
    let h = this.merged.get(key);
    if (!h) {
      h = hdr.build(SETTINGS);
      this.merged.set(key, h);
    }
    return h;
  }

  totalCount(): number {
    let n = 0;
    for (const h of this.hists.values()) n += h.totalCount;
    return n;
  }
}

/** The standard HdrHistogram percentile-distribution text (.hgrm), as the library prints it (see hgrm.ts). */
export function toHgrm(h: hdr.Histogram): string {
  return percentileDistribution(h as unknown as CountsHistogram);
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
    mean: meanOf(h as unknown as CountsHistogram),
    p50: h.getValueAtPercentile(50),
    p90: h.getValueAtPercentile(90),
    p99: h.getValueAtPercentile(99),
    p999: h.getValueAtPercentile(99.9),
    max: h.maxValue,
  };
}

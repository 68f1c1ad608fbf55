/**
 * A small timing harness: warm-up, then several timed repetitions of a batch
 * whose size is calibrated so one repetition takes roughly `targetMs`; the
 * figure is the median rate, the spread is half the min-max range over the
 * median. One thread, no workers: the figures are per core.
 */
import { performance } from 'node:perf_hooks';

export interface BenchOptions {
  /** timed repetitions */
  reps: number;
  /** warm-up time before calibration, ms */
  warmupMs: number;
  /** wanted duration of one repetition, ms */
  targetMs: number;
}

export interface BenchResult {
  group: string;
  name: string;
  unit: string;
  /** units per second: median, min and max over the repetitions */
  median: number;
  min: number;
  max: number;
  reps: number;
  /** the rate of each repetition, in the order they ran (round-robin with the suite's other cases) */
  rates: number[];
  /** units per repetition */
  batch: number;
  /** free-text remark (verdict, path mix, ...) */
  note?: string;
}

/** One measured thing. */
export interface BenchCase {
  group: string;
  name: string;
  unit: string;
  note?: string;
  /**
   * Does n units of work and returns how many units it really did (a program
   * run may stop early), or, for work that needs untimed set-up before each
   * call, the units and the milliseconds of the timed parts.
   */
  run: (n: number) => number | { units: number; ms: number };
  /** a fixed batch instead of calibrating one to `targetMs` */
  batch?: number;
  /** warm-up time for this case, ms (default: the suite's) */
  warmupMs?: number;
}

function timeBatch(c: BenchCase, n: number): { units: number; ms: number } {
  const t0 = performance.now();
  const r = c.run(n);
  const ms = performance.now() - t0;
  return typeof r === 'number' ? { units: r, ms } : r;
}

/**
 * Measures a list of cases together: each is warmed up (until its batch
 * time settles, and for at least its warm-up time) and calibrated, then the
 * timed repetitions go round-robin over the cases, so that a burst of load
 * from another process on the machine hits every case alike instead of
 * skewing one of them.
 */
export function benchSuite(cases: readonly BenchCase[], opts: BenchOptions): BenchResult[] {
  const batches: number[] = [];
  for (const c of cases) {
    let n = c.batch ?? 16;
    const warmEnd = performance.now() + (c.warmupMs ?? opts.warmupMs);
    let last = timeBatch(c, n);
    while (performance.now() < warmEnd) {
      if (c.batch === undefined && last.ms < opts.targetMs / 4) n *= 2;
      last = timeBatch(c, n);
    }
    if (c.batch === undefined) {
      const t = timeBatch(c, n);
      n = Math.max(1, Math.round((n * opts.targetMs) / Math.max(t.ms, 0.01)));
    }
    batches.push(n);
  }
  const rates: number[][] = cases.map(() => []);
  const units: number[] = cases.map(() => 0);
  for (let r = 0; r < opts.reps; r++) {
    cases.forEach((c, i) => {
      const t = timeBatch(c, batches[i]!);
      units[i] = t.units;
      rates[i]!.push(t.units / (t.ms / 1000));
    });
  }
  return cases.map((c, i) => {
    const sorted = [...rates[i]!].sort((a, b) => a - b);
    return {
      group: c.group,
      name: c.name,
      unit: c.unit,
      note: c.note,
      median: median(sorted),
      min: sorted[0]!,
      max: sorted[sorted.length - 1]!,
      reps: opts.reps,
      rates: rates[i]!,
      batch: units[i]!,
    };
  });
}

function median(sorted: number[]): number {
  const m = sorted.length >> 1;
  return sorted.length % 2 ? sorted[m]! : (sorted[m - 1]! + sorted[m]!) / 2;
}

/** 1234567 -> "1.23 M", 45678 -> "45.7 k". */
export function fmtRate(x: number): string {
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)} M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)} k`;
  return x.toFixed(1);
}

export function spreadPct(r: BenchResult): string {
  return `±${(((r.max - r.min) / 2 / r.median) * 100).toFixed(1)}%`;
}

/** The compact table: one row per result, grouped. */
export function table(results: readonly BenchResult[]): string {
  const rows: string[][] = [['group', 'benchmark', 'median /s', 'spread', 'min – max /s', 'unit', 'note']];
  for (const r of results) {
    rows.push([r.group, r.name, fmtRate(r.median), spreadPct(r), `${fmtRate(r.min)} – ${fmtRate(r.max)}`, r.unit, r.note ?? '']);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  const line = (row: string[]) =>
    row
      .map((cell, c) => (c === 2 || c === 3 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  const out = [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  ')];
  let group = '';
  for (const row of rows.slice(1)) {
    if (group && row[0] !== group) out.push('');
    group = row[0]!;
    out.push(line(row));
  }
  return out.join('\n');
}

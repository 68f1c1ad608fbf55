/**
 * A small timing harness: warm-up, then several timed repetitions of a batch
 * whose size is calibrated so one repetition takes roughly `targetMs`; the
 * figure is the median rate, the spread is (max - min) / median over the
 * repetitions. One thread, no workers: the figures are per core.
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
  /** units per repetition */
  batch: number;
  /** free-text remark (verdict, path mix, ...) */
  note?: string;
}

/**
 * `run(n)` does n units of work and returns how many units it really did
 * (a program run may stop early); `calibrate` = false keeps n fixed at
 * `fixedBatch` (for work that comes in indivisible lumps, like one program).
 */
export function bench(
  group: string,
  name: string,
  unit: string,
  run: (n: number) => number,
  opts: BenchOptions,
  fixedBatch?: number,
): BenchResult {
  // warm-up: let the JIT settle on this code path
  let n = fixedBatch ?? 64;
  const warmEnd = performance.now() + opts.warmupMs;
  while (performance.now() < warmEnd) {
    const t0 = performance.now();
    run(n);
    const dt = performance.now() - t0;
    if (fixedBatch === undefined && dt < opts.targetMs / 8) n *= 2;
  }
  if (fixedBatch === undefined) {
    // calibrate the batch to about targetMs
    const t0 = performance.now();
    run(n);
    const dt = Math.max(performance.now() - t0, 0.01);
    n = Math.max(1, Math.round((n * opts.targetMs) / dt));
  }
  const rates: number[] = [];
  let batch = 0;
  for (let r = 0; r < opts.reps; r++) {
    const t0 = performance.now();
    const done = run(n);
    const dt = performance.now() - t0;
    batch = done;
    rates.push(done / (dt / 1000));
  }
  rates.sort((a, b) => a - b);
  return { group, name, unit, median: median(rates), min: rates[0]!, max: rates[rates.length - 1]!, reps: opts.reps, batch };
}

/**
 * Like `bench`, for a per-call time measured inside `run` (work that needs
 * untimed set-up before each call, such as a reset after a program): `run(n)`
 * returns the summed milliseconds of the timed parts of n calls.
 */
export function benchTimed(group: string, name: string, unit: string, run: (n: number) => number, n: number, opts: BenchOptions): BenchResult {
  const warmEnd = performance.now() + opts.warmupMs;
  while (performance.now() < warmEnd) run(n);
  const rates: number[] = [];
  for (let r = 0; r < opts.reps; r++) rates.push(n / (run(n) / 1000));
  rates.sort((a, b) => a - b);
  return { group, name, unit, median: median(rates), min: rates[0]!, max: rates[rates.length - 1]!, reps: opts.reps, batch: n };
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

/**
 * The end of a run: `reports/<run-id>/summary.json` and the plain summary
 * printed to the terminal.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Coordinator } from './coordinator.js';
import { writeHistogramFiles } from '../report/histogram-files.js';
import { writeReportHtml, type ReportSummary } from '../report/html.js';
import { makeDirs } from '../util/make-dirs.js';

export interface SummaryContext {
  seed: number;
  workers: number;
  policies: string[];
  mode: string;
  corpusDir: string;
  /** the run directory's name (nightly runs use a dated one); default: time + seed */
  runName?: string;
}

export function runId(startedMs: number, seed: number): string {
  return `${new Date(startedMs).toISOString().replace(/[:.]/g, '-').replace('Z', '')}-${seed.toString(16)}`;
}

export function writeSummary(outDir: string, c: Coordinator, ctx: SummaryContext): { json: Record<string, unknown>; text: string; dir: string } {
  const s = c.state;
  const elapsed = (Date.now() - s.startedMs) / 1000;
  const dir = path.join(outDir, ctx.runName ?? runId(s.startedMs, ctx.seed));
  makeDirs(dir);
  const crashes = [...s.crashes.values()].map((e) => ({
    signature: e.crash.signature,
    kind: e.crash.kind,
    blame: e.crash.blame,
    policy: e.crash.policy,
    new: e.isNew,
    file: path.relative(process.cwd(), e.file),
    firstSeenSeconds: e.firstSeenMs / 1000,
    statements: e.crash.statements,
    storedStatements: e.storedStatements,
    minimized: e.minimized,
    message: e.crash.message,
    repro: e.text,
  }));
  const security = Object.entries(s.security).map(([key, r]) => {
    const [policy, inval] = key.split(' ');
    return { policy, inval, ...r, containedShare: r.rogue ? r.contained / r.rogue : null };
  });
  const histograms = writeHistogramFiles(dir, c.histograms.hists);
  const json = {
    runId: path.basename(dir),
    config: { seed: ctx.seed, workers: ctx.workers, policies: ctx.policies, mode: ctx.mode, machine: c.cfg.machine, seconds: c.cfg.seconds ?? null, runs: c.cfg.runs ?? null },
    versions: { node: process.version, dmafuzz: '0.1.0' },
    elapsedSeconds: elapsed,
    stopReason: s.stopReason,
    programs: s.programs,
    runs: s.runs,
    statements: s.statements,
    programsPerSecond: s.programs / Math.max(elapsed, 1e-9),
    statementsPerSecond: s.statements / Math.max(elapsed, 1e-9),
    coverageBits: s.coverageBits,
    corpusSize: s.corpusSize,
    timeline: s.timeline,
    crashes,
    security,
    histogramCounts: { merged: c.histograms.totalCount(), shippedByWorkers: c.histograms.shippedCount },
    histograms,
  };
  const tmp = path.join(dir, `summary.json.tmp-${process.pid}`);
  fs.writeFileSync(tmp, JSON.stringify(json, null, 2) + '\n');
  fs.renameSync(tmp, path.join(dir, 'summary.json'));
  // the page is a view of what is already on disk: a failure to render it must not lose the run's results
  let page: string;
  try {
    page = `report: ${path.relative(process.cwd(), writeReportHtml(dir, json as unknown as ReportSummary, c.histograms.hists))}`;
  } catch (e) {
    page = `report: index.html not written: ${(e as Error).message}`;
    process.stderr.write(`dmafuzz: warning: ${page}\n`);
  }
  const lines = [
    '',
    `dmafuzz: ${s.programs} programs (${s.runs} runs, ${s.statements} statements) in ${elapsed.toFixed(1)} s: ${(s.programs / Math.max(elapsed, 1e-9)).toFixed(0)} programs/s, ${(s.statements / Math.max(elapsed, 1e-9) / 1000).toFixed(0)}k statements/s`,
    `coverage ${s.coverageBits} bits, corpus ${s.corpusSize} programs; stopped by ${s.stopReason}`,
    `unique crash signatures: ${crashes.length} (${crashes.filter((c) => c.new).length} new)`,
    ...crashSummary(crashes, ctx.policies),
    `security (rogue device accesses contained by the IOMMU):`,
    ...security.map((r) => `  ${String(r.policy).padEnd(16)} ${String(r.inval).padEnd(7)} ${r.rogue ? `${r.contained}/${r.rogue} contained, ${r.escaped} escaped` : 'no rogue accesses'}`),
    `summary: ${path.relative(process.cwd(), path.join(dir, 'summary.json'))}`,
    page,
    '',
  ];
  return { json, text: lines.join('\n'), dir };
}

/**
 * The part of the summary a kernel developer reads first: the layer's own
 * bugs per policy (each with its corpus file), then only a count of the
 * driver bugs the programs committed on purpose (they are in the report).
 */
function crashSummary(crashes: ReadonlyArray<{ signature: string; blame: string; policy: string; new: boolean; file: string }>, policies: readonly string[]): string[] {
  const lines = ['layer bugs (a legal driver program broke the DMA contract) by policy:'];
  for (const p of policies) {
    const mine = crashes.filter((c) => c.policy === p && c.blame === 'layer');
    lines.push(`  ${p.padEnd(16)} ${mine.length === 0 ? 'none' : `${mine.length} signature(s)`}`);
    for (const c of mine) lines.push(`      ${c.new ? 'NEW  ' : 'known'} ${c.signature.padEnd(60)} ${c.file}`);
  }
  const driver = crashes.filter((c) => c.blame === 'driver');
  const model = crashes.filter((c) => c.blame === 'model');
  lines.push(`driver bugs caught (DMA API misuse the generator put in on purpose): ${driver.length} signature(s), ${driver.filter((c) => c.new).length} new; see the report`);
  if (model.length) lines.push(`model problems (hang / model-panic): ${model.length}: ${model.map((c) => c.signature).join(', ')}`);
  return lines;
}

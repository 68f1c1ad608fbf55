/**
 * A report for replayed programs (`replay --report DIR`): the same
 * summary.json, histogram files and index.html as a fuzz run, from the
 * statements of the replays, so a kernel developer can look at what one
 * program costs and risks under each policy.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as hdr from 'hdr-histogram-js';
import type { RunResult } from '../exec/executor.js';
import type { MachineConfig } from '../machine/config.js';
import { writeHistogramFiles } from './histogram-files.js';
import { writeReportHtml, type ReportSummary } from './html.js';
import type { SecurityRecord } from '../oracle/verdict.js';
import { printProgram } from '../program/print.js';
import type { Program } from '../program/ast.js';
import { makeDirs } from '../util/make-dirs.js';

export interface ReplayRecord {
  file: string;
  policy: string;
  config: MachineConfig;
  program: Program;
  result: RunResult;
}

/** Collects modelled and measured ns per statement during replays (plain JS histograms, one thread). */
export class ReplayHistograms {
  readonly hists = new Map<string, hdr.Histogram>();

  recorder(policy: string): (op: string, path: string, costNs: number, wallNs: number) => void {
    return (op, p, costNs, wallNs) => {
      if (p) this.add(`${policy}|${op}|${p}|modelled`, costNs);
      this.add(`${policy}|${op}|-|measured`, wallNs);
    };
  }

  private add(key: string, value: number): void {
    let h = this.hists.get(key);
    if (!h) this.hists.set(key, (h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: 3 })));
    h.recordValue(Math.max(1, Math.round(value)));
  }
}

export function writeReplayReport(dir: string, records: readonly ReplayRecord[], hists: ReplayHistograms): string {
  makeDirs(dir);
  const security = new Map<string, SecurityRecord>();
  for (const r of records) {
    const key = `${r.policy} ${r.config.inval}`;
    const s = security.get(key) ?? { rogue: 0, contained: 0, escaped: 0 };
    s.rogue += r.result.verdict.security.rogue;
    s.contained += r.result.verdict.security.contained;
    s.escaped += r.result.verdict.security.escaped;
    security.set(key, s);
  }
  const statements = records.reduce((n, r) => n + r.result.steps, 0);
  const summary: ReportSummary & Record<string, unknown> = {
    runId: `replay-${path.basename(dir)}`,
    config: { seed: 0, workers: 1, policies: [...new Set(records.map((r) => r.policy))], mode: 'replay', machine: null },
    versions: { node: process.version, dmafuzz: '0.1.0' },
    programs: new Set(records.map((r) => r.file)).size,
    runs: records.length,
    statements,
    timeline: [],
    replays: records.map((r) => ({ file: r.file, policy: r.policy, verdict: r.result.verdict.verdict, kind: r.result.verdict.kind ?? null, line: r.result.verdict.line ?? null })),
    crashes: records
      .filter((r) => r.result.verdict.verdict === 'crash')
      .map((r) => ({
        signature: r.result.verdict.signature!,
        kind: r.result.verdict.kind!,
        blame: r.result.verdict.blame!,
        policy: r.policy,
        file: r.file,
        statements: r.program.statements.length,
        message: r.result.verdict.message,
        repro: printProgram({ ...r.program, header: [] }),
      })),
    security: [...security].map(([key, s]) => {
      const [policy, inval] = key.split(' ');
      return { policy: policy!, inval: inval!, ...s, containedShare: s.rogue ? s.contained / s.rogue : null };
    }),
    histograms: writeHistogramFiles(dir, hists.hists),
  };
  fs.writeFileSync(path.join(dir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  return writeReportHtml(dir, summary, hists.hists);
}

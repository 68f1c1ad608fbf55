/**
 * `dmafuzz report DIR`: re-renders DIR/index.html from DIR/summary.json and
 * the encoded histograms under DIR/hist/. Everything is read and rendered
 * before the page is replaced (atomically), so a missing or corrupt input is
 * a one-line error naming the file (exit 2) and leaves the old page alone.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Argv } from 'yargs';
import { readHistogramFiles } from '../report/histogram-files.js';
import { writeReportHtml, type ReportSummary } from '../report/html.js';
import { UserError } from '../util/errors.js';
import { readJsonFile } from '../util/json-file.js';
import { wrongField, type FieldKind } from '../util/json-shape.js';

interface ReportArgs {
  dir: string;
}

export const reportCommand = {
  command: 'report <dir>',
  describe: "re-render a run's index.html from its summary.json and histogram files",
  builder: (y: Argv) => y.positional('dir', { type: 'string', describe: 'a report directory (reports/<run-id>)' }),
  handler: async (argv: ReportArgs) => {
    process.exitCode = reportCli(argv);
  },
};

export function reportCli(argv: ReportArgs): number {
  const dir = argv.dir;
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch {
    throw new UserError('no such report directory', dir);
  }
  if (!st.isDirectory()) throw new UserError('not a directory; expected a report directory (reports/<run-id>)', dir);
  const summary = readSummary(path.join(dir, 'summary.json'));
  const histograms = readHistogramFiles(dir, summary.histograms);
  const file = writeReportHtml(dir, summary, histograms);
  process.stderr.write(`dmafuzz: wrote ${file}\n`);
  return 0;
}

/** summary.json, checked for the fields the page can't do without. */
export function readSummary(file: string): ReportSummary {
  const json = readJsonFile(file, 'summary').value;
  const bad = (why: string): never => {
    throw new UserError(`not a dmafuzz summary: ${why}`, file);
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json)) bad('expected a JSON object');
  const s = json as Record<string, unknown>;
  if (typeof s.runId !== 'string') bad('no runId');
  const config = s.config as Record<string, unknown> | undefined;
  if (typeof config !== 'object' || config === null || !Array.isArray(config.policies)) bad('no config.policies');
  if (!Array.isArray(s.histograms)) bad('no histograms index');
  for (const [i, e] of (s.histograms as unknown[]).entries()) {
    const h = e as Record<string, unknown> | null;
    if (typeof h !== 'object' || h === null || typeof h.key !== 'string' || typeof h.encoded !== 'string' || typeof h.count !== 'number' || typeof h.policy !== 'string' || typeof h.op !== 'string' || typeof h.path !== 'string' || (h.kind !== 'modelled' && h.kind !== 'measured')) {
      bad(`histograms[${i}] lacks key, policy, op, path, kind, count or encoded`);
    }
  }
  for (const [k, fields] of Object.entries(LIST_FIELDS)) {
    const list = s[k];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list)) bad(`${k} is not a list`);
    (list as unknown[]).forEach((e, i) => {
      const wrong = wrongField(e, fields);
      if (wrong !== undefined) bad(`${k}[${i}]${wrong}`);
    });
  }
  if (s.histogramCounts !== undefined && s.histogramCounts !== null) {
    const wrong = wrongField(s.histogramCounts, { merged: 'number', shippedByWorkers: 'number' });
    if (wrong !== undefined) bad(`histogramCounts${wrong}`);
  }
  for (const [k, kind] of Object.entries(TOP_FIELDS)) {
    if (s[k] !== undefined && s[k] !== null && typeof s[k] !== kind) bad(`${k} is not a ${kind}`);
  }
  return s as unknown as ReportSummary;
}

/** What the page reads of each element of the summary's lists (ReportSummary). */
const LIST_FIELDS: Record<string, Record<string, FieldKind>> = {
  timeline: { t: 'number', programs: 'number', statements: 'number', coverage: 'number', crashes: 'number' },
  crashes: {
    signature: 'string', kind: 'string', blame: 'string', policy: 'string', new: 'boolean?', file: 'string?', firstSeenSeconds: 'number?',
    statements: 'number?', storedStatements: 'number?', minimized: 'boolean?', message: 'string?', repro: 'string?',
  },
  security: { policy: 'string', inval: 'string', rogue: 'number', contained: 'number', escaped: 'number', containedShare: 'number?' },
};

const TOP_FIELDS: Record<string, 'number' | 'string'> = {
  elapsedSeconds: 'number', stopReason: 'string', programs: 'number', runs: 'number', statements: 'number', programsPerSecond: 'number',
  statementsPerSecond: 'number', coverageBits: 'number', corpusSize: 'number',
};

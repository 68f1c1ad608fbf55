/**
 * Nightly runs: a dated run directory, a comparison with the previous
 * nightly in the same reports folder (signatures that appeared or vanished,
 * latency percentiles that moved beyond a threshold), and a JUnit XML file
 * with one test case per policy that fails when the policy has new crashes,
 * for CI systems that read JUnit.
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeAtomically } from '../engine/corpus-store.js';
import { UserError } from '../util/errors.js';
import { readJsonFile } from '../util/json-file.js';
import { wrongField, type FieldKind } from '../util/json-shape.js';

export const NIGHTLY_PREFIX = 'nightly-';

/** `nightly-YYYY-MM-DD`, with `-2`, `-3`, ... when that day already has one. */
export function nightlyRunName(outDir: string, now = new Date()): string {
  const base = `${NIGHTLY_PREFIX}${now.toISOString().slice(0, 10)}`;
  if (!fs.existsSync(path.join(outDir, base))) return base;
  for (let i = 2; ; i++) if (!fs.existsSync(path.join(outDir, `${base}-${i}`))) return `${base}-${i}`;
}

interface SummaryLike {
  runId: string;
  crashes: Array<{ signature: string; policy: string; new: boolean; kind: string; blame: string; file: string }>;
  histograms: Array<{ policy: string; op: string; path: string; kind: string; p50: number; p99: number; p999: number; count: number }>;
  config: { policies: string[] };
}

/** The earlier nightlies with a summary, the most recent first. */
export function earlierNightlies(outDir: string, current: string): string[] {
  return fs
    .readdirSync(outDir)
    .filter((d) => d.startsWith(NIGHTLY_PREFIX) && d !== current && fs.existsSync(path.join(outDir, d, 'summary.json')))
    .sort((a, b) => fs.statSync(path.join(outDir, b, 'summary.json')).mtimeMs - fs.statSync(path.join(outDir, a, 'summary.json')).mtimeMs);
}

export interface LatencyChange {
  policy: string;
  op: string;
  path: string;
  percentile: 'p50' | 'p99' | 'p999';
  before: number;
  after: number;
  /** after / before - 1 */
  change: number;
}

export interface Comparison {
  previous: string | null;
  newSignatures: string[];
  vanishedSignatures: string[];
  latencyChanges: LatencyChange[];
  threshold: number;
  /** newer nightlies passed over because their summary could not be read (file:line: reason) */
  skipped: string[];
}

/** Compares modelled latency per policy x statement kind x path and the signature sets. */
export function compare(prev: SummaryLike | undefined, cur: SummaryLike, threshold: number): Comparison {
  const out: Comparison = { previous: prev?.runId ?? null, newSignatures: [], vanishedSignatures: [], latencyChanges: [], threshold, skipped: [] };
  if (!prev) {
    out.newSignatures = cur.crashes.map((c) => c.signature).sort();
    return out;
  }
  const before = new Set(prev.crashes.map((c) => c.signature));
  const after = new Set(cur.crashes.map((c) => c.signature));
  out.newSignatures = [...after].filter((s) => !before.has(s)).sort();
  out.vanishedSignatures = [...before].filter((s) => !after.has(s)).sort();
  const prevHist = new Map(prev.histograms.filter((h) => h.kind === 'modelled').map((h) => [`${h.policy}|${h.op}|${h.path}`, h]));
  for (const h of cur.histograms) {
    if (h.kind !== 'modelled') continue;
    const p = prevHist.get(`${h.policy}|${h.op}|${h.path}`);
    if (!p) continue;
    for (const pct of ['p50', 'p99', 'p999'] as const) {
      if (p[pct] <= 0) continue;
      const change = h[pct] / p[pct] - 1;
      if (Math.abs(change) > threshold) out.latencyChanges.push({ policy: h.policy, op: h.op, path: h.path, percentile: pct, before: p[pct], after: h[pct], change });
    }
  }
  return out;
}

/** One test case per policy; a policy with crashes new to the corpus fails. */
export function junitXml(cur: SummaryLike, elapsedSeconds: number): string {
  const esc = (s: string) => s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
  const cases = cur.config.policies.map((policy) => {
    const fresh = cur.crashes.filter((c) => c.policy === policy && c.new);
    const body = fresh.length
      ? `\n      <failure message="${esc(`${fresh.length} new crash signature(s)`)}" type="new-crash">${esc(fresh.map((c) => `${c.signature} (${c.blame}) ${c.file}`).join('\n'))}</failure>\n    `
      : '';
    return `    <testcase classname="dmafuzz.nightly" name="${esc(policy)}" time="${(elapsedSeconds / Math.max(1, cur.config.policies.length)).toFixed(3)}">${body}</testcase>`;
  });
  const failures = cur.config.policies.filter((p) => cur.crashes.some((c) => c.policy === p && c.new)).length;
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="dmafuzz" tests="${cases.length}" failures="${failures}">
  <testsuite name="dmafuzz ${esc(cur.runId)}" tests="${cases.length}" failures="${failures}" time="${elapsedSeconds.toFixed(3)}">
${cases.join('\n')}
  </testsuite>
</testsuites>
`;
}

const COMPARED_CRASH: Record<string, FieldKind> = { signature: 'string', policy: 'string', kind: 'string', blame: 'string', new: 'boolean' };
const COMPARED_HISTOGRAM: Record<string, FieldKind> = { policy: 'string', op: 'string', path: 'string', kind: 'string', p50: 'number', p99: 'number', p999: 'number', count: 'number' };

/** A run's summary.json with the fields the comparison reads; a UserError naming the file otherwise. */
export function readSummary(file: string): SummaryLike {
  const s = readJsonFile(file, 'summary').value as Partial<SummaryLike> | null;
  const bad = (why: string): never => {
    throw new UserError(`not a dmafuzz summary: ${why}`, file);
  };
  if (typeof s !== 'object' || s === null || typeof s.runId !== 'string' || !Array.isArray(s.crashes) || !Array.isArray(s.histograms) || !Array.isArray(s.config?.policies)) {
    bad('expected runId, config.policies, crashes and histograms');
  }
  // what compare and junitXml read of each element
  s!.crashes!.forEach((c: unknown, i) => {
    if (wrongField(c, COMPARED_CRASH) !== undefined) bad(`crashes[${i}] lacks signature, policy, kind, blame or new`);
  });
  s!.histograms!.forEach((h: unknown, i) => {
    if (wrongField(h, COMPARED_HISTOGRAM) !== undefined) bad(`histograms[${i}] lacks policy, op, path, kind, p50, p99, p999 or count`);
  });
  return s as SummaryLike;
}

/**
 * Writes comparison.json and junit.xml into a finished nightly run directory; returns the comparison.
 * An earlier nightly whose summary cannot be read (a disk that filled, a hand edit) is passed over
 * for the one before it, and named in the comparison: the run's own results, its junit.xml and its
 * exit code do not depend on an old file.
 */
export function finishNightly(outDir: string, runDir: string, threshold: number): Comparison {
  const cur = readSummary(path.join(runDir, 'summary.json')) as SummaryLike & { elapsedSeconds: number };
  const skipped: string[] = [];
  let prev: SummaryLike | undefined;
  for (const name of earlierNightlies(outDir, path.basename(runDir))) {
    try {
      prev = readSummary(path.join(outDir, name, 'summary.json'));
      break;
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      skipped.push(e.format());
    }
  }
  const cmp = { ...compare(prev, cur, threshold), skipped };
  writeAtomically(path.join(runDir, 'comparison.json'), JSON.stringify(cmp, null, 2) + '\n');
  writeAtomically(path.join(runDir, 'junit.xml'), junitXml(cur, cur.elapsedSeconds));
  return cmp;
}

export function comparisonText(c: Comparison): string {
  const lines = [`nightly comparison with ${c.previous ?? '(no previous nightly)'}:`];
  for (const why of c.skipped) lines.push(`  passed over an earlier nightly: ${why}`);
  lines.push(`  new signatures: ${c.newSignatures.length}${c.newSignatures.length ? '\n' + c.newSignatures.map((s) => `    + ${s}`).join('\n') : ''}`);
  lines.push(`  vanished signatures: ${c.vanishedSignatures.length}${c.vanishedSignatures.length ? '\n' + c.vanishedSignatures.map((s) => `    - ${s}`).join('\n') : ''}`);
  lines.push(`  latency changes beyond ${(c.threshold * 100).toFixed(0)}%: ${c.latencyChanges.length}`);
  for (const l of c.latencyChanges.slice(0, 20)) lines.push(`    ${l.policy} ${l.op} ${l.path} ${l.percentile}: ${l.before} -> ${l.after} ns (${(l.change * 100).toFixed(0)}%)`);
  return lines.join('\n') + '\n';
}

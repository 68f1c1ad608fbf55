/**
 * The `#` header of a corpus entry (SPEC section 8): `key: value` comment
 * lines before the program, including one `expect POLICY: VERDICT` line per
 * policy the entry was recorded under. Regression replay compares against
 * these. Only this module knows the header's spelling.
 */
import type { Verdict } from '../oracle/verdict.js';

export interface Expectation {
  policy: string;
  verdict: 'ok' | 'crash';
  kind?: string;
  blame?: string;
  /** 1-based line in the entry file */
  line?: number;
}

export interface CorpusHeader {
  fields: Map<string, string>;
  expectations: Expectation[];
  /** lines that start like an expectation (`expect POLICY:`) but do not read as one */
  badExpectations: string[];
}

/** What an expectation line must look like, for messages. */
export const EXPECT_FORMS = "'expect POLICY: ok' or 'expect POLICY: crash KIND BLAME line N'";

const EXPECT_RE = /^expect\s+([^:\s]+):\s+(ok|crash\s+(\S+)\s+(driver|layer|model)\s+line\s+(\d+))\s*$/;

/** Reads the header from a parsed program's header lines (without '#'). */
export function parseHeader(lines: readonly string[]): CorpusHeader {
  const fields = new Map<string, string>();
  const expectations: Expectation[] = [];
  const badExpectations: string[] = [];
  for (const raw of lines) {
    const line = raw.trim();
    const m = EXPECT_RE.exec(line);
    if (m) {
      expectations.push(m[2] === 'ok' ? { policy: m[1]!, verdict: 'ok' } : { policy: m[1]!, verdict: 'crash', kind: m[3]!, blame: m[4]!, line: Number(m[5]) });
      continue;
    }
    // an expectation that does not parse would otherwise be dropped, and regress would judge the entry without it
    if (/^expect\s+[^:\s]+:/.test(line)) {
      badExpectations.push(line);
      continue;
    }
    const kv = /^([a-z][a-z0-9-]*):\s*(.*)$/.exec(line);
    if (kv && !line.startsWith('expect')) fields.set(kv[1]!, kv[2]!);
  }
  return { fields, expectations, badExpectations };
}

export function formatExpectation(e: Expectation): string {
  return e.verdict === 'ok' ? `expect ${e.policy}: ok` : `expect ${e.policy}: crash ${e.kind} ${e.blame} line ${e.line}`;
}

export function expectationOf(policy: string, v: Verdict): Expectation {
  return v.verdict === 'ok' ? { policy, verdict: 'ok' } : { policy, verdict: 'crash', kind: v.kind, blame: v.blame, line: v.line };
}

/** Does a run's verdict match what the entry recorded? */
export function matches(e: Expectation, v: Verdict): boolean {
  if (e.verdict !== v.verdict) return false;
  return e.verdict === 'ok' || (e.kind === v.kind && e.blame === v.blame && e.line === v.line);
}

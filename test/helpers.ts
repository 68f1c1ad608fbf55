/** Shared test helpers: run program text under a policy on a fresh (cached) machine. */
import { loadProgramText } from '../src/exec/load.js';
import { Machine } from '../src/machine/machine.js';
import { builtinPolicy, BUILTIN_POLICY_NAMES } from '../src/policy/registry.js';
import { runProgram, type RunResult } from '../src/exec/executor.js';
import { configWords } from '../src/machine/config.js';

const machines = new Map<string, Machine>();

/** Parses, validates and runs `text` (a v1 program; `# dmafuzz v1` optional) under a built-in policy. */
export function runText(text: string, policy: string, opts: { trace?: boolean } = {}): RunResult {
  const lp = loadProgramText(text, 'test.dmafuzz');
  const key = configWords({ ...lp.config, policy: '' });
  let m = machines.get(key);
  if (!m) machines.set(key, (m = new Machine(lp.config)));
  const p = builtinPolicy(policy);
  if (!p) throw new Error(`no policy ${policy}`);
  return runProgram(lp.program, m, p, { trace: opts.trace ?? true });
}

/** Verdict summary `kind@line` or `ok`, for compact assertions. */
export function brief(r: RunResult): string {
  const v = r.verdict;
  return v.verdict === 'ok' ? 'ok' : `${v.kind}/${v.blame}@${v.line}`;
}

export const ALL_POLICIES = BUILTIN_POLICY_NAMES;

/** Builds program text from lines (adds the v1 marker). */
export function prog(...lines: string[]): string {
  return ['# dmafuzz v1', ...lines].join('\n') + '\n';
}

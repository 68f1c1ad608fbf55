/**
 * The package's programmatic entry (`import { replayText } from 'dmafuzz'`):
 * what an exported regression test needs to replay a program and check its
 * verdict.
 */
import { loadProgramText } from './exec/load.js';
import { Machine } from './machine/machine.js';
import { resolvePolicy } from './policy/registry.js';
import { runProgram } from './exec/executor.js';
import type { Verdict } from './oracle/verdict.js';

export type { Verdict } from './oracle/verdict.js';

/** Runs program text under a policy (default: its machine line's) and returns the verdict. */
export async function replayText(text: string, policy?: string, file = 'program.dmafuzz'): Promise<Verdict> {
  const lp = loadProgramText(text, file);
  const p = await resolvePolicy(policy ?? lp.config.policy);
  return runProgram(lp.program, new Machine(lp.config), p).verdict;
}

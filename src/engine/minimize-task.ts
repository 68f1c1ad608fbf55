/** A minimize task as a worker runs it: parse, resolve the policy, minimize, print. */
import { loadProgramText } from '../exec/load.js';
import { resolvePolicy } from '../policy/registry.js';
import { printProgram } from '../program/print.js';
import { minimizeCrash } from './reproduce.js';
import type { MinimizeOutcome, MinimizeTask } from './protocol.js';

export async function minimizeTask(task: MinimizeTask): Promise<MinimizeOutcome> {
  const lp = loadProgramText(task.text, 'crash.dmafuzz', task.machine);
  const policy = await resolvePolicy(task.policy);
  const r = minimizeCrash(lp.program, lp.config, policy, task.maxEvaluations, task.maxMs);
  // the minimized program keeps only its machine line and statements
  const text = printProgram({ ...r.program, header: [] });
  return { text, signature: r.signature, statements: r.program.statements.length, failingIndex: r.failingIndex, evaluations: r.evaluations, elapsedMs: r.elapsedMs };
}

/**
 * Reproducing a crash: the predicate "does this program still crash with
 * this signature?", and minimizing a crashing program with it. Used by
 * `dmafuzz minimize`, by the engine's minimize tasks, and by regress.
 */
import type { Program } from '../program/ast.js';
import type { MachineConfig } from '../machine/config.js';
import { Machine } from '../machine/machine.js';
import type { BypassPolicy } from '../policy/policy.js';
import { runProgram } from '../exec/executor.js';
import { validateProgram } from '../program/validate.js';
import { minimize, type MinimizeResult } from '../program/minimize.js';

export function signaturePredicate(machine: Machine, policy: BypassPolicy, signature: string, stepBudget = 200_000): (p: Program) => number {
  return (p) => {
    try {
      validateProgram(p);
    } catch {
      return -1;
    }
    const v = runProgram(p, machine, policy, { stepBudget }).verdict;
    return v.verdict === 'crash' && v.signature === signature ? v.statementIndex! : -1;
  };
}

export interface CrashMinimization extends MinimizeResult {
  signature: string;
  originalStatements: number;
}

/** Minimizes `program`, which must crash under `policy`; throws if it does not. */
export function minimizeCrash(program: Program, config: MachineConfig, policy: BypassPolicy, maxEvaluations?: number, maxMs?: number): CrashMinimization {
  const machine = new Machine(config);
  const first = runProgram(program, machine, policy).verdict;
  if (first.verdict !== 'crash') throw new Error(`the program does not crash under ${policy.name}`);
  const result = minimize(program, { failingIndex: first.statementIndex!, predicate: signaturePredicate(machine, policy, first.signature!), maxEvaluations, maxMs });
  return { ...result, signature: first.signature!, originalStatements: program.statements.length };
}

/**
 * Reading a program file the way every command does: parse, validate names,
 * apply its `machine` line over the defaults and then the CLI's overrides,
 * and resolve its policy. Every failure is a UserError naming the file.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Program, MachineWord } from '../program/ast.js';
import { parseProgram } from '../program/parse.js';
import { validateProgram } from '../program/validate.js';
import { applyMachineWords, DEFAULT_CONFIG, deriveFacts, flagText, type MachineConfig } from '../machine/config.js';
import { UserError } from '../util/errors.js';

export interface LoadedProgram {
  file: string;
  program: Program;
  config: MachineConfig;
}

export function readProgramFile(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, expected a program file' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new UserError(`cannot read program: ${why}`, file);
  }
}

/** Parses and checks program text; `overrides` are CLI machine flags (they win over the machine line). */
export function loadProgramText(text: string, file: string, overrides: readonly MachineWord[] = []): LoadedProgram {
  const program = parseProgram(text, file);
  validateProgram(program, file);
  let config = applyMachineWords(DEFAULT_CONFIG, program.machine, { file, line: program.machineLine });
  config = applyMachineWords(config, overrides);
  // the words are each fine; whether they fit together (a swiotlb pool in the RAM) is checked here, before a
  // command makes directories or prints a first program's trace, and blamed on the line or the flags
  try {
    deriveFacts(config);
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    const from = overrides.length ? ` (with ${flagText(overrides)})` : '';
    throw new UserError(`${program.machineLine ? 'machine line' : 'default machine'}${from}: ${e.message}`, file, program.machineLine || undefined);
  }
  // a relative policy path on the machine line is relative to the program file
  const linePolicy = program.machine.find((w) => w.key === 'policy');
  if (linePolicy && config.policy === linePolicy.value && (linePolicy.value.startsWith('./') || linePolicy.value.startsWith('../'))) {
    config = { ...config, policy: path.resolve(path.dirname(file), linePolicy.value) };
  }
  return { file, program, config };
}

export function loadProgramFile(file: string, overrides: readonly MachineWord[] = []): LoadedProgram {
  return loadProgramText(readProgramFile(file), file, overrides);
}

/** Where a program's own policy comes from, for messages: its machine line (file:line) when that names one. */
export function policySource(lp: LoadedProgram): string {
  return lp.program.machine.some((w) => w.key === 'policy') ? `${lp.file}:${lp.program.machineLine}` : lp.file;
}

/**
 * `dmafuzz minimize FILE [-o OUT] [--policy P]`: the smallest program that
 * crashes with the same signature, written as a corpus entry (to OUT
 * atomically, or to stdout).
 */
import type { Argv } from 'yargs';
import { loadProgramFile, policySource } from '../exec/load.js';
import { resolvePolicy } from '../policy/registry.js';
import { minimizeCrash } from '../engine/reproduce.js';
import { printProgram } from '../program/print.js';
import { formatEntry, writeAtomically } from '../engine/corpus-store.js';
import { Machine } from '../machine/machine.js';
import { runProgram } from '../exec/executor.js';
import { UserError } from '../util/errors.js';
import { machineOverrides, withMachineFlags } from './machine-flags.js';

interface MinimizeArgs {
  file: string;
  o?: string;
  policy?: string;
  [flag: string]: unknown;
}

export const minimizeCommand = {
  command: 'minimize <file>',
  describe: 'minimize a crashing program, keeping its signature',
  builder: (y: Argv) =>
    withMachineFlags(
      y
        .positional('file', { type: 'string', describe: 'a crashing program (v1 text format)' })
        .option('o', { alias: 'output', type: 'string', describe: 'write the result here (atomically) instead of stdout' })
        .option('policy', { type: 'string', describe: "the policy it crashes under (default: the program's machine line)" }),
    ),
  handler: async (argv: MinimizeArgs) => {
    process.exitCode = await minimizeCli(argv);
  },
};

export async function minimizeCli(argv: MinimizeArgs): Promise<number> {
  const lp = loadProgramFile(argv.file, machineOverrides(argv));
  const policy = await resolvePolicy(argv.policy ?? lp.config.policy, process.cwd(), argv.policy ? '--policy' : policySource(lp));
  const first = runProgram(lp.program, new Machine(lp.config), policy).verdict;
  if (first.verdict !== 'crash') throw new UserError(`the program does not crash under ${policy.name}: nothing to minimize`, argv.file);
  const r = minimizeCrash(lp.program, lp.config, policy);
  const machine = lp.program.machine.some((w) => w.key === 'policy') || argv.policy === undefined ? lp.program.machine : [...lp.program.machine, { key: 'policy', value: policy.name, column: 0 }];
  const text = formatEntry({
    signature: r.signature,
    kind: first.kind!,
    blame: first.blame!,
    policy: policy.name,
    firstSeen: new Date().toISOString(),
    originalStatements: r.originalStatements,
    minimizedStatements: r.program.statements.length,
    text: printProgram({ ...r.program, header: [], machine }),
    statement: r.failingIndex + 1,
    message: first.message ?? '',
  });
  if (argv.o) writeAtomically(argv.o, text);
  else process.stdout.write(text);
  process.stderr.write(
    `dmafuzz: minimized ${r.originalStatements} -> ${r.program.statements.length} statements keeping ${r.signature} (${r.evaluations} evaluations, ${r.elapsedMs.toFixed(0)} ms)${argv.o ? `; wrote ${argv.o}` : ''}\n`,
  );
  return 0;
}

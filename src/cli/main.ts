#!/usr/bin/env node
/**
 * The `dmafuzz` command line. Each command lives in its own file; this one
 * only wires them to yargs and maps errors to exit codes: 0 success, 1 a
 * (new) crash or a regression, 2 bad usage or bad input (one line, no stack).
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { UserError } from '../util/errors.js';
import { replayCommand } from './replay.js';
import { fuzzCommand } from './fuzz.js';
import { minimizeCommand } from './minimize.js';
import { regressCommand } from './regress.js';
import { exportCommand } from './export.js';
import { reportCommand } from './report.js';

/** yargs' own complaints (unknown flag, missing argument): thrown so that no handler runs after them. */
class UsageError extends Error {}

export async function main(args: string[]): Promise<number> {
  const parser = yargs(args)
    .scriptName('dmafuzz')
    .usage('$0 <command> [options]\n\nStress and fuzz the Linux DMA-mapping layer and its IOMMU bypass decision.')
    .command(fuzzCommand as never)
    .command(replayCommand as never)
    .command(minimizeCommand as never)
    .command(regressCommand as never)
    .command(exportCommand as never)
    .command(reportCommand as never)
    .demandCommand(1, 'name a command (see --help)')
    .strict()
    .recommendCommands()
    .help()
    .version(false)
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((msg, err) => {
      throw err ?? new UsageError(msg);
    });
  try {
    await parser.parseAsync();
  } catch (e) {
    if (e instanceof UserError) {
      process.stderr.write(`dmafuzz: ${e.format()}\n`);
      return 2;
    }
    if (e instanceof UsageError) {
      process.stderr.write(`dmafuzz: ${e.message}\nRun 'dmafuzz --help' for usage.\n`);
      return 2;
    }
    throw e;
  }
  return typeof process.exitCode === 'number' ? process.exitCode : 0;
}

/** Exits once stdout and stderr have drained (a pipe would otherwise lose the tail of a long --json). */
function exitAfterFlush(code: number): void {
  let pending = 2;
  const done = () => {
    if (--pending === 0) process.exit(code);
  };
  process.stdout.write('', done);
  process.stderr.write('', done);
}

main(hideBin(process.argv)).then(
  (code) => exitAfterFlush(code),
  (e) => {
    process.stderr.write(`dmafuzz: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(70);
  },
);

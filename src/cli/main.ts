#!/usr/bin/env node
/**
 * The `dmafuzz` command line. Each command lives in its own file; this one
 * only wires them to yargs and maps errors to exit codes: 0 success, 1 a
 * (new) crash or a regression, 2 bad usage or bad input (one line, no stack).
 */
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { UserError } from '../util/errors.js';
import { unsettledPolicyModules } from '../policy/registry.js';
import { replayCommand } from './replay.js';
import { fuzzCommand } from './fuzz.js';
import { minimizeCommand } from './minimize.js';
import { regressCommand } from './regress.js';
import { exportCommand } from './export.js';
import { reportCommand } from './report.js';

/** yargs' own complaints (unknown flag, missing argument): thrown so that no handler runs after them. */
class UsageError extends Error {}

/** What yargs knows of the current command's options, for the checks below. */
interface OptionKinds {
  array: string[];
  boolean: string[];
  alias: Record<string, string[]>;
}

/**
 * A flag that takes one value, given more than once: yargs would hand an array to code that expects
 * one value, or add numbers up (`--workers 1 --workers 1` ran two workers). The last one winning
 * would be a silent guess, so it is a usage error. Counted on the raw words, aliases together.
 */
function rejectRepeatedFlags(args: readonly string[], options: OptionKinds): void {
  const canonical = new Map<string, string>();
  for (const [key, aliases] of Object.entries(options.alias)) for (const a of aliases) canonical.set(a, key);
  const repeatable = new Set([...options.array, ...options.boolean].map((k) => canonical.get(k) ?? k));
  const seen = new Map<string, string>();
  for (const word of args) {
    if (word === '--') break;
    const m = /^--?([a-zA-Z][\w-]*)(=.*)?$/.exec(word);
    if (!m) continue;
    const key = canonical.get(m[1]!) ?? m[1]!;
    if (repeatable.has(key) || key.startsWith('no-')) continue;
    const first = seen.get(key);
    if (first !== undefined) throw new UsageError(`${first} was given more than once; give it once`);
    seen.set(key, word.replace(/=.*$/, ''));
  }
}

/**
 * An empty value (`--corpus ''`, `--seed=`) is a usage error, not "the current directory" or 0, which
 * is what yargs would make of it. Checked on the raw words, before yargs turns '' into something else.
 */
function rejectEmptyValues(args: readonly string[]): void {
  for (let i = 0; i < args.length; i++) {
    const inline = /^(--?[\w-]+)=$/.exec(args[i]!);
    const flag = inline ? inline[1] : args[i] === '' && i > 0 && args[i - 1]!.startsWith('-') ? args[i - 1] : undefined;
    if (flag) throw new UsageError(`${flag}: expected a value, got an empty string`);
    if (args[i] === '') throw new UsageError('expected an argument, got an empty string');
  }
}

export async function main(args: string[]): Promise<number> {
  const parser: Argv = yargs(args)
    .scriptName('dmafuzz')
    .usage('$0 <command> [options]\n\nStress and fuzz the Linux DMA-mapping layer and its IOMMU bypass decision.')
    .command(fuzzCommand as never)
    .command(replayCommand as never)
    .command(minimizeCommand as never)
    .command(regressCommand as never)
    .command(exportCommand as never)
    .command(reportCommand as never)
    // the command's options, as its builder declared them (yargs keeps them on this instance while it parses)
    .middleware(() => rejectRepeatedFlags(args, (parser as unknown as { getOptions(): OptionKinds }).getOptions()), true)
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
    rejectEmptyValues(args);
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

// the event loop ran dry while the command was still waiting: something it awaited can never settle
process.once('beforeExit', () => {
  const modules = unsettledPolicyModules();
  if (modules.length) process.stderr.write(`dmafuzz: ${modules[0]}: cannot load policy module: its top-level await never settles\n`);
  else process.stderr.write('dmafuzz: internal error: the command stopped before it finished (a promise that never settles)\n');
  process.exit(modules.length ? 2 : 70);
});

main(hideBin(process.argv)).then(
  (code) => exitAfterFlush(code),
  (e) => {
    process.stderr.write(`dmafuzz: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(70);
  },
);

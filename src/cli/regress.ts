/**
 * `dmafuzz regress [DIR]`: replays every corpus entry under each policy its
 * header records and compares with the recorded verdict. Prints a table;
 * exits 1 on any difference or malformed entry, naming them.
 */
import path from 'node:path';
import type { Argv } from 'yargs';
import { loadCorpus, prepareDirExists } from '../engine/corpus-store.js';
import { Machine } from '../machine/machine.js';
import { resolvePolicy } from '../policy/registry.js';
import { UserError } from '../util/errors.js';
import { runProgram } from '../exec/executor.js';
import { expectationOf, formatExpectation, matches } from '../corpus/header.js';
import { configWords } from '../machine/config.js';

interface RegressArgs {
  dir: string;
  json?: boolean;
}

export const regressCommand = {
  command: 'regress [dir]',
  describe: 'replay the corpus: every entry must still give its recorded verdicts',
  builder: (y: Argv) =>
    y
      .positional('dir', { type: 'string', default: 'corpus', describe: 'corpus directory' })
      .option('json', { type: 'boolean', default: false, describe: 'one JSON object per entry x policy' }),
  handler: async (argv: RegressArgs) => {
    process.exitCode = await regress(argv);
  },
};

interface Row {
  file: string;
  policy: string;
  expected: string;
  got: string;
  ok: boolean;
}

export async function regress(argv: RegressArgs): Promise<number> {
  prepareDirExists(argv.dir, 'corpus directory');
  const corpus = loadCorpus(argv.dir);
  const rows: Row[] = [];
  const machines = new Map<string, Machine>();
  for (const e of corpus.entries) {
    const rel = path.relative(process.cwd(), e.file);
    if (e.header.fields.get('replayable')?.startsWith('no')) {
      rows.push({ file: rel, policy: e.header.fields.get('policy') ?? '-', expected: `not replayable: ${e.header.fields.get('replayable')}`, got: 'skipped', ok: true });
      continue;
    }
    if (e.header.expectations.length === 0) {
      rows.push({ file: rel, policy: '-', expected: 'an "# expect POLICY: ..." line', got: 'none recorded', ok: false });
      continue;
    }
    const key = configWords({ ...e.loaded.config, policy: '' });
    let m = machines.get(key);
    if (!m) machines.set(key, (m = new Machine(e.loaded.config)));
    for (const x of e.header.expectations) {
      let policy;
      try {
        policy = await resolvePolicy(x.policy, path.dirname(e.file), e.file);
      } catch (err) {
        // one entry naming a policy this dmafuzz cannot load fails on its own row; the rest are still judged
        if (!(err instanceof UserError)) throw err;
        rows.push({ file: rel, policy: x.policy, expected: verdictText(formatExpectation(x)), got: `no verdict: ${err.message}`, ok: false });
        continue;
      }
      const v = runProgram(e.loaded.program, m, policy).verdict;
      const got = expectationOf(x.policy, v);
      rows.push({ file: rel, policy: x.policy, expected: verdictText(formatExpectation(x)), got: verdictText(formatExpectation(got)), ok: matches(x, v) });
    }
  }
  const failed = rows.filter((r) => !r.ok);
  if (argv.json) {
    for (const r of rows) process.stdout.write(JSON.stringify(r) + '\n');
    for (const b of corpus.malformed) process.stdout.write(JSON.stringify({ file: path.relative(process.cwd(), b.file), malformed: b.error }) + '\n');
  } else {
    const w = Math.max(4, ...rows.map((r) => r.file.length));
    const pw = Math.max(6, ...rows.map((r) => r.policy.length));
    process.stdout.write(`${'entry'.padEnd(w)}  ${'policy'.padEnd(pw)}  result\n`);
    for (const r of rows) process.stdout.write(`${r.file.padEnd(w)}  ${r.policy.padEnd(pw)}  ${r.ok ? `ok (${r.expected})` : `DIFFERS`}\n`);
    for (const r of failed) {
      process.stdout.write(`\n${r.file} under ${r.policy}:\n  - expected: ${r.expected}\n  + got:      ${r.got}\n`);
    }
    for (const b of corpus.malformed) process.stdout.write(`\nmalformed entry, skipped: ${b.error}\n`);
    process.stdout.write(`\nregress: ${rows.length - failed.length} of ${rows.length} verdicts as recorded, ${failed.length} differ, ${corpus.malformed.length} malformed entries\n`);
  }
  return failed.length > 0 || corpus.malformed.length > 0 ? 1 : 0;
}

function verdictText(expectLine: string): string {
  return expectLine.replace(/^expect [^:]+: /, '');
}

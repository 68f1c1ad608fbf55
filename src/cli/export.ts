/**
 * `dmafuzz export ID|FILE --format text|json|c|test [-o OUT]`: a repro for a
 * bug report or a patch discussion. ID is a corpus entry's signature id (the
 * hex part of its file name, or a prefix of it) or its signature.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Argv } from 'yargs';
import { loadProgramFile, loadProgramText, type LoadedProgram } from '../exec/load.js';
import { ENTRY_SUFFIX, loadCorpus, prepareDirExists, writeFilesAtomically } from '../engine/corpus-store.js';
import { resolvePolicy } from '../policy/registry.js';
import { Machine } from '../machine/machine.js';
import { runProgram } from '../exec/executor.js';
import { printProgram } from '../program/print.js';
import { signatureId } from '../oracle/signature.js';
import { UserError } from '../util/errors.js';
import type { Verdict } from '../oracle/verdict.js';
import { C_HEADER, C_HEADER_NAME, programToC } from '../corpus/export-c.js';
import { parseHeader } from '../corpus/header.js';

const FORMATS = ['text', 'json', 'c', 'test'] as const;
type Format = (typeof FORMATS)[number];

interface ExportArgs {
  target: string;
  format: string;
  o?: string;
  corpus: string;
  policy?: string;
}

export const exportCommand = {
  command: 'export <target>',
  describe: 'export a repro (corpus entry id or file) as text, JSON, a C fragment or a node:test file',
  builder: (y: Argv) =>
    y
      .positional('target', { type: 'string', describe: 'a program file, or a corpus entry id / signature' })
      .option('format', { type: 'string', default: 'text', describe: `one of ${FORMATS.join(', ')}` })
      .option('o', { alias: 'output', type: 'string', describe: 'write here (for c, the header goes beside it); default stdout' })
      .option('corpus', { type: 'string', default: 'corpus', describe: 'corpus directory to look ids up in' })
      .option('policy', { type: 'string', describe: "policy to judge under (default: the entry's)" }),
  handler: async (argv: ExportArgs) => {
    process.exitCode = await exportCli(argv);
  },
};

export async function exportCli(argv: ExportArgs): Promise<number> {
  if (!(FORMATS as readonly string[]).includes(argv.format)) throw new UserError(`--format: expected one of ${FORMATS.join(', ')}, got '${argv.format}'`);
  const found = resolveTarget(argv.target, argv.corpus);
  const header = parseHeader(found.program.header);
  // judge the program as exported (without the corpus header), so that line numbers match what is printed
  const lp = loadProgramText(printProgram({ ...found.program, header: [] }), found.file);
  const policyName = argv.policy ?? header.fields.get('policy') ?? lp.config.policy;
  const policy = await resolvePolicy(policyName, path.dirname(found.file), found.file);
  const verdict = runProgram(lp.program, new Machine(lp.config), policy).verdict;
  const text = render(argv.format as Format, lp, policy.name, verdict);
  if (argv.o) {
    const out = argv.o;
    const headerFile = path.join(path.dirname(out), C_HEADER_NAME);
    if (path.resolve(out) === path.resolve(found.file)) throw new UserError(`-o names the program being exported; give the ${argv.format} output another name`, out);
    if (argv.format === 'c' && path.resolve(out) === path.resolve(headerFile)) throw new UserError(`-o names ${C_HEADER_NAME}, the header written beside a C fragment; give the fragment another name`, out);
    writeFilesAtomically(argv.format === 'c' ? [[out, text], [headerFile, C_HEADER]] : [[out, text]]);
    process.stderr.write(`dmafuzz: wrote ${out}${argv.format === 'c' ? ` and ${headerFile}` : ''}\n`);
  } else {
    process.stdout.write(text);
  }
  return 0;
}

/** A file path, or an entry of the corpus named by id, id prefix or signature. */
function resolveTarget(target: string, corpusDir: string): LoadedProgram {
  // something there, or a path (a slash, or a program's suffix), is read as a file: a missing one is named as
  // missing, not as a missing corpus directory
  if (fs.existsSync(target) || target.includes(path.sep) || target.includes('/') || target.endsWith(ENTRY_SUFFIX)) return loadProgramFile(target);
  prepareDirExists(corpusDir, 'corpus directory');
  const corpus = loadCorpus(corpusDir);
  const hits = corpus.entries.filter((e) => {
    const sig = e.header.fields.get('signature');
    const base = path.basename(e.file, '.dmafuzz');
    return sig === target || (sig !== undefined && signatureId(sig).startsWith(target)) || base === target || base.endsWith(`-${target}`);
  });
  if (hits.length === 0) throw new UserError(`'${target}' is neither a file nor a corpus entry id or signature in ${corpusDir}`);
  if (hits.length > 1) throw new UserError(`'${target}' matches ${hits.length} corpus entries (${hits.map((h) => path.basename(h.file)).join(', ')}); give more of the id`);
  return hits[0]!.loaded;
}

function verdictLines(policy: string, v: Verdict): string[] {
  if (v.verdict === 'ok') return [`verdict under ${policy}: ok`];
  return [`verdict under ${policy}: crash ${v.kind} (blame: ${v.blame}) at line ${v.line}`, ...(v.message ?? '').split('\n'), `signature: ${v.signature}`];
}

function render(format: Format, lp: LoadedProgram, policy: string, v: Verdict): string {
  const program = { ...lp.program, header: [] };
  switch (format) {
    case 'text':
      return printProgram(program).replace(/\n$/, '') + '\n' + verdictLines(policy, v).map((l) => `# ${l}`).join('\n') + '\n';
    case 'json':
      return (
        JSON.stringify(
          {
            machine: { ...lp.config, policy },
            statements: lp.program.statements.map((s) => ({ line: s.line, op: s.op, bind: s.bind ?? null, args: s.args })),
            verdict: { ...v, policy },
          },
          (_k, value) => (typeof value === 'bigint' ? `0x${value.toString(16)}` : value),
          2,
        ) + '\n'
      );
    case 'c':
      return programToC(program, verdictLines(policy, v));
    case 'test':
      return testFile(printProgram(program), policy, v);
  }
}

/** A ready node:test file: replays the program and asserts the verdict. */
function testFile(programText: string, policy: string, v: Verdict): string {
  const expect = v.verdict === 'ok' ? `assert.equal(v.verdict, 'ok', v.message);` : [`assert.equal(v.verdict, 'crash');`, `assert.equal(v.kind, ${JSON.stringify(v.kind)});`, `assert.equal(v.blame, ${JSON.stringify(v.blame)});`, `assert.equal(v.signature, ${JSON.stringify(v.signature)});`].join('\n  ');
  return `// dmafuzz repro as a test: run with  node --test THIS_FILE  (needs the dmafuzz package built and importable)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { replayText } from 'dmafuzz';

const PROGRAM = ${JSON.stringify(programText)};

test(${JSON.stringify(`${policy}: ${v.verdict === 'ok' ? 'ok' : v.signature}`)}, async () => {
  const v = await replayText(PROGRAM, ${JSON.stringify(policy)});
  ${expect}
});
`;
}

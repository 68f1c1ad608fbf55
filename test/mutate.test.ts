/** Mutation keeps programs valid: intents (generated programs) and statements (corpus files). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadProgramFile } from '../src/exec/load.js';
import { mutateStatements } from '../src/program/mutate-statements.js';
import { mutateIntents, randomIntent } from '../src/program/mutate.js';
import { buildProgram } from '../src/program/generate.js';
import { validateProgram } from '../src/program/validate.js';
import { printProgram } from '../src/program/print.js';
import { Rng } from '../src/engine/seeds.js';
import { programAt } from '../src/engine/program-source.js';
import { dmafuzz, ROOT } from './cli.js';

const maskGames = loadProgramFile(path.join(ROOT, 'corpus/thread-mask-games.dmafuzz')).program;
const sataNv = loadProgramFile(path.join(ROOT, 'corpus/thread-sata-nv.dmafuzz')).program;

test('statement-level mutants of corpus programs are valid programs, and differ from their parent', () => {
  let made = 0;
  const seen = new Set<string>();
  for (let seed = 1; seed <= 300; seed++) {
    const m = mutateStatements(maskGames, sataNv, new Rng(seed));
    if (!m) continue;
    made++;
    validateProgram(m); // throws if a handle or device is out of scope
    seen.add(printProgram(m));
  }
  assert.ok(made >= 250, `${made} of 300 mutations gave a valid program`);
  assert.ok(seen.size >= 100, `${seen.size} distinct mutants`);
  assert.ok(!seen.has(printProgram({ ...maskGames, header: [] })), 'a mutant is never the parent itself');
});

test('intent-level mutants interpret to valid (legal) programs', () => {
  const rng = new Rng(7);
  let base = Array.from({ length: 30 }, () => randomIntent(rng));
  for (let i = 0; i < 200; i++) {
    base = mutateIntents(base, Array.from({ length: 10 }, () => randomIntent(rng)), rng, 200);
    validateProgram(buildProgram(base, { mode: 'legal' }));
  }
});

test('misuse mode draws some programs from the corpus files, legal mode never does', () => {
  const files = [maskGames, sataNv];
  const opts = { machine: [], maxIntents: 60, longIntents: 400 };
  const fromFiles = (mode: 'legal' | 'misuse') =>
    Array.from({ length: 200 }, (_, i) => programAt({ runSeed: 1, epoch: 0, batch: 0, index: i }, [], { ...opts, mode }, files)).filter((p) => p.intents.length === 0).length;
  assert.ok(fromFiles('misuse') > 20, 'corpus-file mutants in misuse mode');
  assert.equal(fromFiles('legal'), 0);
});

test('fuzz over the shipped corpus in misuse mode runs and stays deterministic', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmafuzz-mutate-'));
  const corpus = path.join(dir, 'corpus');
  fs.cpSync(path.join(ROOT, 'corpus'), corpus, { recursive: true });
  const run = () => {
    const r = dmafuzz(['fuzz', '--json', '--runs', '256', '--seed', '8', '--mode', 'misuse', '--workers', '2', '--no-minimize', '--corpus', corpus, '--out', path.join(dir, 'r')]);
    assert.ok(r.code === 0 || r.code === 1, r.stderr);
    return JSON.parse(r.stdout).crashes.map((c: { signature: string }) => c.signature).sort();
  };
  const a = run();
  fs.rmSync(corpus, { recursive: true });
  fs.cpSync(path.join(ROOT, 'corpus'), corpus, { recursive: true });
  assert.deepEqual(run(), a);
  fs.rmSync(dir, { recursive: true, force: true });
});

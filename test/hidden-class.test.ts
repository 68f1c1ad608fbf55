/**
 * Intents keep one hidden class with small-integer fields, whatever made
 * them (fast-check, the mutator, the shared corpus log). When a field ever
 * received a boxed number, V8 turned that field into a boxed double for
 * every intent from then on, deoptimized the interpreter and the batch loop
 * that read them, and ran the generator's `%` arithmetic in floating point:
 * a worker ran about 15% slower (BENCHMARKS.md, eighth pass). Only V8's own
 * introspection can see a hidden class, so the check runs in a child
 * process started with `--allow-natives-syntax`, over the compiled `dist/`
 * (`npm test` builds it first).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dist = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'src');
const mod = (p: string) => JSON.stringify(pathToFileURL(path.join(dist, p)).href);

/** Runs `body` (ES module code, natives allowed) after importing the generator's modules; returns its stdout. */
function withNatives(body: string): string {
  const src = `
    import fc from 'fast-check';
    import { intent } from ${mod('program/generate.js')};
    import { intentsArb } from ${mod('program/arbitrary.js')};
    import { mutateIntents } from ${mod('program/mutate.js')};
    import { Rng } from ${mod('engine/seeds.js')};
    import { SharedCorpusWriter, SharedCorpusReader } from ${mod('engine/shared-corpus.js')};
    ${body}`;
  return execFileSync(process.execPath, ['--allow-natives-syntax', '--input-type=module', '-e', src], { encoding: 'utf8', cwd: path.join(dist, '..', '..') });
}

test('intents from every source share the hidden class of the first intent built', () => {
  const out = withNatives(`
    // built before any other intent: if a later one generalizes a field, this one's map is left behind
    const first = intent(1, 2, 3, 4, 5);
    const all = [];
    for (let seed = 0; seed < 300; seed++) all.push(...fc.sample(intentsArb({ mode: 'legal', maxIntents: 60 }), { seed, numRuns: 1 })[0]);
    const rng = new Rng(99);
    const base = all.slice(0, 40);
    // every mutation kind, reparameterization (which replaces an intent) among them
    for (let i = 0; i < 3000; i++) all.push(...mutateIntents(base, all.slice(40, 80), rng, 600));
    const w = new SharedCorpusWriter();
    w.append(all.slice(0, 500));
    all.push(...new SharedCorpusReader().entries(w.snapshot())[0]);
    const fresh = intent(6, 7, 8, 9, 10);
    const other = all.filter((it) => !%HaveSameMap(it, first)).length;
    console.log(JSON.stringify({ count: all.length, other, freshSame: %HaveSameMap(fresh, first) }));
  `);
  const r = JSON.parse(out) as { count: number; other: number; freshSame: boolean };
  assert.ok(r.count > 10_000, `too few intents checked: ${r.count}`);
  assert.equal(r.other, 0, `${r.other} of ${r.count} intents have another hidden class than the first one built`);
  assert.equal(r.freshSame, true, 'an intent built after all the others has another hidden class than the first: a field was generalized');
});

test('Rng.below hands on small integers: an object that stores them keeps its hidden class', () => {
  const out = withNatives(`
    const make = (n) => ({ devices: n });
    const first = make(1);
    const rng = new Rng(12345);
    let other = 0;
    // next() is above 2^31 half the time: unboxed, its remainder would arrive as a heap number
    for (let i = 0; i < 5000; i++) if (!%HaveSameMap(make(rng.below(3)), first)) other++;
    console.log(JSON.stringify({ other, freshSame: %HaveSameMap(make(2), first) }));
  `);
  const r = JSON.parse(out) as { other: number; freshSame: boolean };
  assert.equal(r.other, 0);
  assert.equal(r.freshSame, true);
});

/**
 * `dmafuzz fuzz` end to end through the real binary: it finds the thread's
 * mask-games crash, stays quiet on the safe policies in legal mode, keeps its
 * corpus whole under SIGKILL, survives hanging and throwing programs, finds
 * the same signatures whatever the worker count, and rejects bad flags.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { BIN, dmafuzz, jsonLines, ROOT } from './cli.js';
import { loadCorpus } from '../src/engine/corpus-store.js';

const scratchDirs: string[] = [];
after(() => {
  for (const d of scratchDirs) fs.rmSync(d, { recursive: true, force: true });
});

function scratch(name: string): { corpus: string; out: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `dmafuzz-${name}-`));
  scratchDirs.push(dir);
  return { corpus: path.join(dir, 'corpus'), out: path.join(dir, 'reports') };
}

interface Summary {
  programs: number;
  crashes: Array<{ signature: string; kind: string; blame: string; policy: string; new: boolean; file: string }>;
  security: Array<{ policy: string; rogue: number; contained: number; escaped: number }>;
  coverageBits: number;
  histograms: Array<{ key: string; kind: string; count: number; p99: number }>;
}

function fuzzJson(args: string[], dirs: { corpus: string; out: string }, timeoutMs = 120_000): { code: number; summary: Summary; stderr: string } {
  const r = dmafuzz(['fuzz', '--json', '--corpus', dirs.corpus, '--out', dirs.out, ...args], { timeoutMs });
  assert.ok(r.stdout.trim(), `no JSON summary; stderr: ${r.stderr}`);
  return { code: r.code, summary: JSON.parse(r.stdout) as Summary, stderr: r.stderr };
}

const MASK_GAMES = [
  'intel-2019/iommu-fault/dev_write/direct>iommu*',
  'bypass-flag/layer-error/free_coherent/direct>iommu',
  'default-domain/iommu-fault/dev_write/direct>iommu*',
];

test('legal mode finds the mask-games crash under the three racy designs, nothing under the safe ones', () => {
  const dirs = scratch('legal');
  const { code, summary } = fuzzJson(['--runs', '1024', '--seed', '1', '--mode', 'legal', '--workers', '2'], dirs);
  assert.equal(code, 1, 'new crashes: exit 1');
  const sigs = new Set(summary.crashes.map((c) => c.signature));
  for (const s of MASK_GAMES) assert.ok(sigs.has(s), `missing ${s}`);
  for (const c of summary.crashes) {
    assert.equal(c.blame, 'layer', `legal programs only ever show layer bugs: ${c.signature}`);
    assert.ok(!['direct', 'iommu', 'commit-on-map'].includes(c.policy), `safe policy crashed: ${c.signature}`);
  }
  // every stored entry replays on its own to its signature
  const entries = loadCorpus(dirs.corpus);
  assert.equal(entries.malformed.length, 0);
  assert.equal(entries.entries.length, summary.crashes.length);
  const mg = summary.crashes.filter((c) => MASK_GAMES.includes(c.signature)).map((c) => path.resolve(ROOT, c.file));
  const replay = dmafuzz(['replay', '--json', ...mg]);
  const rows = jsonLines(replay.stdout);
  assert.deepEqual(rows.map((r) => r.signature).sort(), [...MASK_GAMES].sort());
  // a second run over the same corpus knows them all: nothing new, exit 0
  const again = fuzzJson(['--runs', '1024', '--seed', '1', '--mode', 'legal', '--workers', '2'], dirs);
  assert.equal(again.code, 0);
  assert.ok(again.summary.crashes.every((c) => !c.new));
});

/** A corpus directory's files, each without its first-seen line (a timestamp): what a run stored. */
function corpusFiles(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of fs.readdirSync(dir).sort()) out.set(f, fs.readFileSync(path.join(dir, f), 'utf8').replace(/^# first-seen: .*\n/m, ''));
  return out;
}

test('the same seed and program count give the same signatures, and the same corpus files, with 1 and 2 workers', () => {
  const dirs1 = scratch('det1');
  const dirs2 = scratch('det2');
  const one = fuzzJson(['--runs', '512', '--seed', '3', '--mode', 'all', '--workers', '1'], dirs1);
  const two = fuzzJson(['--runs', '512', '--seed', '3', '--mode', 'all', '--workers', '2'], dirs2);
  const sigs = (s: Summary) => s.crashes.map((c) => c.signature).sort();
  assert.equal(one.summary.programs, 512);
  assert.equal(two.summary.programs, 512);
  assert.ok(sigs(one.summary).length > 10);
  assert.deepEqual(sigs(one.summary), sigs(two.summary));
  assert.equal(one.summary.coverageBits, two.summary.coverageBits);
  // each signature's file is made from the same program (its shortest, earliest report) and minimized the same way
  assert.deepEqual(corpusFiles(dirs2.corpus), corpusFiles(dirs1.corpus));
  // the modelled histograms sample the same statements whoever runs them: every worker's counts reached the report
  const modelled = (s: Summary) => s.histograms.filter((h) => h.kind === 'modelled').map((h) => `${h.key} ${h.count} ${h.p99}`);
  assert.ok(modelled(one.summary).length > 20);
  assert.deepEqual(modelled(two.summary), modelled(one.summary));
});

test('every crash stored as found replays to its verdict: the coordinator rebuilds each program from its coordinates', () => {
  // no minimization, so each file is the program the coordinator rebuilt and printed (workers send no text);
  // the second run mutates the first run's files, the third kind of program a worker runs
  const dirs = scratch('rebuilt');
  const first = fuzzJson(['--runs', '384', '--seed', '21', '--mode', 'all', '--workers', '2', '--no-minimize'], dirs);
  const second = fuzzJson(['--runs', '384', '--seed', '22', '--mode', 'misuse', '--workers', '2', '--no-minimize'], dirs);
  assert.ok(first.summary.crashes.filter((c) => c.new).length > 10, 'the first run stores crashes');
  assert.ok(second.summary.crashes.some((c) => c.new), 'the second run stores crashes of its own');
  const reg = dmafuzz(['regress', dirs.corpus]);
  assert.equal(reg.code, 0, reg.stdout + reg.stderr);
  assert.doesNotMatch(reg.stdout, /DIFFERS/);
});

test('a hanging and a throwing program are recorded, the worker replaced, and the run goes on', () => {
  const dirs = scratch('inject');
  const { summary, stderr } = fuzzJson(['--runs', '1024', '--seed', '5', '--workers', '2', '--stuck-ms', '1500', '--inject', 'hang:0.2.3,throw:1.4.7'], dirs);
  const kinds = summary.crashes.map((c) => c.kind);
  assert.ok(kinds.includes('hang'), `no hang in ${kinds.join(', ')}\n${stderr}`);
  assert.ok(kinds.includes('model-panic'), 'no model-panic');
  // the two sabotaged batches are lost; every other program ran
  assert.equal(summary.programs, 1024 - 2 * 32);
  const hang = summary.crashes.find((c) => c.kind === 'hang')!;
  const text = fs.readFileSync(path.resolve(ROOT, hang.file), 'utf8');
  assert.match(text, /^# kind: hang$/m);
  assert.match(text, /^machine policy=/m, 'the hanging program is stored');
  assert.match(text, /^# replayable: no \(recorded by the worker watchdog/m);
  // regress does not count a watchdog entry as a difference
  const reg = dmafuzz(['regress', dirs.corpus]);
  assert.match(reg.stdout, /not replayable/);
  assert.doesNotMatch(reg.stdout, /DIFFERS/);
});

test('SIGKILL mid-run leaves only whole, parseable corpus entries', async () => {
  const dirs = scratch('kill');
  const child = spawn(process.execPath, [BIN, 'fuzz', '--seconds', '60', '--seed', '9', '--corpus', dirs.corpus, '--out', dirs.out], { stdio: 'ignore' });
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    const n = fs.existsSync(dirs.corpus) ? fs.readdirSync(dirs.corpus).filter((f) => f.endsWith('.dmafuzz')).length : 0;
    if (n >= 5) break;
  }
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  const loaded = loadCorpus(dirs.corpus);
  assert.ok(loaded.entries.length >= 5, `only ${loaded.entries.length} entries before the kill`);
  assert.deepEqual(loaded.malformed, []);
  for (const e of loaded.entries) assert.ok(e.header.fields.get('signature'), `${e.file} has its header`);
});

test('SIGTERM stops cleanly with a summary', async () => {
  const dirs = scratch('term');
  const child = spawn(process.execPath, [BIN, 'fuzz', '--seconds', '60', '--seed', '11', '--json', '--corpus', dirs.corpus, '--out', dirs.out], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (d) => (stdout += d));
  await new Promise((r) => setTimeout(r, 2500));
  child.kill('SIGTERM');
  const code = await new Promise<number>((r) => child.once('exit', (c) => r(c ?? -1)));
  const summary = JSON.parse(stdout) as Summary & { stopReason: string };
  assert.equal(summary.stopReason, 'SIGTERM');
  assert.ok(summary.programs > 0);
  assert.equal(code, summary.crashes.some((c) => c.new) ? 1 : 0);
  assert.ok(fs.readdirSync(dirs.out).length === 1, 'summary written');
});

test('bad flags and an unwritable corpus directory are usage errors (exit 2)', () => {
  const dirs = scratch('bad');
  const cases: Array<[string[], RegExp]> = [
    [['--seconds', '-1'], /--seconds: expected a positive number/],
    [['--workers', '0'], /--workers: expected a whole number from 1/],
    [['--mode', 'sloppy'], /--mode: expected legal, misuse or all/],
    [['--policy', 'nonesuch'], /unknown policy 'nonesuch'/],
    [['--seed', '1.5'], /--seed: expected a whole number/],
    [['--inval', 'maybe'], /--inval: expected 'strict' or 'lazy'/],
  ];
  for (const [args, pattern] of cases) {
    const r = dmafuzz(['fuzz', '--runs', '10', '--corpus', dirs.corpus, '--out', dirs.out, ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
  }
  const file = path.join(os.tmpdir(), `dmafuzz-not-a-dir-${process.pid}`);
  fs.writeFileSync(file, 'x');
  scratchDirs.push(file);
  const r = dmafuzz(['fuzz', '--runs', '10', '--corpus', file, '--out', dirs.out]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /corpus directory .* is not a writable directory/);
  // a run refused for its --out leaves no corpus directory behind (it used to leave an empty one)
  const fresh = path.join(path.dirname(dirs.corpus), 'fresh');
  const refused = dmafuzz(['fuzz', '--runs', '10', '--corpus', path.join(fresh, 'deep', 'corpus'), '--out', file]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /reports directory .* is not a writable directory \(EEXIST\)/);
  assert.equal(fs.existsSync(fresh), false, 'the corpus directory made before --out failed is taken away');
  // a directory that refuses new entries with ENOENT: Node's recursive mkdir spun on it forever
  if (fs.existsSync('/proc/self')) {
    for (const [flags, pattern] of [
      [['--corpus', '/proc/dmafuzz-nope/c', '--out', dirs.out], /corpus directory '\/proc\/dmafuzz-nope\/c' is not a writable directory/],
      [['--corpus', dirs.corpus, '--out', '/proc/dmafuzz-nope'], /reports directory '\/proc\/dmafuzz-nope' is not a writable directory/],
    ] as Array<[string[], RegExp]>) {
      const p = dmafuzz(['fuzz', '--runs', '10', ...flags]);
      assert.equal(p.code, 2, `${flags.join(' ')}: ${p.stderr}`);
      assert.match(p.stderr, pattern);
    }
  }
});

test('a corpus entry that cannot be written loses no crash: the run goes on, names the file, and the summary keeps the program', () => {
  const dirs = scratch('blocked-entry');
  const args = ['fuzz', '--runs', '32', '--seed', '1', '--workers', '1', '--no-minimize', '--json', '--out', dirs.out];
  const free = dmafuzz([...args, '--corpus', dirs.corpus]);
  const expected = (JSON.parse(free.stdout).crashes as Array<{ signature: string; file: string }>).map((c) => c.signature).sort();
  const victim = (JSON.parse(free.stdout).crashes as Array<{ file: string }>)[0]!.file;
  // the same run again, on a fresh corpus with a directory where the first entry's file goes
  const blocked = path.join(path.dirname(dirs.corpus), 'blocked');
  fs.mkdirSync(path.join(blocked, path.basename(victim)), { recursive: true });
  const r = dmafuzz([...args, '--corpus', blocked]);
  assert.equal(r.code, 1, r.stderr);
  const summary = JSON.parse(r.stdout) as { crashes: Array<{ signature: string; file: string; repro: string }> };
  assert.deepEqual(summary.crashes.map((c) => c.signature).sort(), expected, 'every signature of the unblocked run (the worker used to die here)');
  const lost = summary.crashes.find((c) => c.file.startsWith('(not written'));
  assert.ok(lost, 'the blocked entry is marked');
  assert.match(lost.repro, /^# dmafuzz v1/m, 'and keeps its program');
  assert.match(r.stderr, new RegExp(`a corpus entry could not be written: .*${path.basename(victim).replace(/\./g, '\\.')}: cannot write: a directory is in the way`));
});

test('a policy module is named by its name: a hang under it is filed as such, and it may not share a name with another policy', () => {
  const dirs = scratch('module-names');
  const mod = path.join(path.dirname(dirs.corpus), 'mine.mjs');
  const source = (name: string) => `export default { name: '${name}', probe: () => ({ attach: 'fresh-translated' }), route: () => ({ path: 'iommu' }) };\n`;
  fs.writeFileSync(mod, source('mine'));
  const r = dmafuzz(['fuzz', '--runs', '64', '--seed', '5', '--workers', '1', '--no-minimize', '--stuck-ms', '1000', '--inject', 'hang:0.0.3', '--policy', mod, '--corpus', dirs.corpus, '--out', dirs.out]);
  assert.equal(r.code, 1, r.stderr);
  const files = fs.readdirSync(dirs.corpus);
  // the hang's entry was '.-<id>.dmafuzz', named after the module's path
  assert.ok(files.some((f) => f.startsWith('mine-')), files.join(' '));
  assert.deepEqual(files.filter((f) => f.startsWith('.')), []);
  const hang = loadCorpus(dirs.corpus).entries.find((e) => e.header.fields.get('signature')?.includes('/hang/'));
  assert.equal(hang?.header.fields.get('signature'), 'mine/hang/worker/stuck');
  // a module named like a built-in would file its crashes as the built-in's
  fs.writeFileSync(mod, source('direct'));
  const clash = dmafuzz(['fuzz', '--runs', '4', '--policy', 'direct', '--policy', mod, '--corpus', dirs.corpus, '--out', dirs.out]);
  assert.equal(clash.code, 2, clash.stderr);
  assert.match(clash.stderr, /--policy: two policies are named 'direct'/);
});

/**
 * minimize, regress and export through the real binary (issue: minimize
 * crashes into the regression corpus).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync, spawn } from 'node:child_process';
import { BIN, dmafuzz, jsonLines, ROOT } from './cli.js';
import { loadProgramFile, loadProgramText } from '../src/exec/load.js';
import { parseHeader } from '../src/corpus/header.js';
import { Machine } from '../src/machine/machine.js';
import { builtinPolicy } from '../src/policy/registry.js';
import { runProgram } from '../src/exec/executor.js';
import { validateProgram } from '../src/program/validate.js';
import { loadCorpus, writeEntry } from '../src/engine/corpus-store.js';
import { MASK_GAMES, paddedMaskGames } from './fixtures/padded-mask-games.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmafuzz-tools-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('minimize: 1,000 unrelated statements around the mask games shrink back, same signature, 1-minimal', () => {
  const input = path.join(dir, 'padded.dmafuzz');
  const text = paddedMaskGames();
  fs.writeFileSync(input, text);
  const lp = loadProgramText(text, input);
  assert.ok(lp.program.statements.length >= 1000, `padded to ${lp.program.statements.length} statements`);
  const policy = builtinPolicy('intel-2019')!;
  const before = runProgram(lp.program, new Machine(lp.config), policy).verdict;
  assert.equal(before.signature, 'intel-2019/iommu-fault/dev_write/direct>iommu*');

  const out = path.join(dir, 'min.dmafuzz');
  const r = dmafuzz(['minimize', input, '-o', out, '--policy', 'intel-2019']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /minimized \d+ -> \d+ statements keeping intel-2019\/iommu-fault/);
  const min = loadProgramFile(out);
  const header = parseHeader(min.program.header);
  assert.equal(header.fields.get('signature'), before.signature);
  assert.ok(min.program.statements.length <= 12, `${min.program.statements.length} statements, the original has 12`);
  const machine = new Machine(min.config);
  const v = runProgram(min.program, machine, policy).verdict;
  assert.equal(v.signature, before.signature);
  assert.equal(v.line, header.expectations[0]!.line, 'the recorded line is the failing line in the file');
  // 1-minimal: removing any single statement loses the signature
  for (let i = 0; i < min.program.statements.length; i++) {
    const without = { ...min.program, statements: min.program.statements.filter((_, j) => j !== i) };
    let kept = false;
    try {
      validateProgram(without);
      kept = runProgram(without, machine, policy).verdict.signature === before.signature;
    } catch {
      kept = false;
    }
    assert.equal(kept, false, `statement ${i + 1} could be removed`);
  }
  // canonical names
  assert.deepEqual(min.program.statements.filter((s) => s.bind).map((s) => s.bind), ['d0', 'c0', 'c1']);
});

test('minimize refuses a program that does not crash, and a bad file', () => {
  const ok = dmafuzz(['minimize', 'test/fixtures/mask-games.dmafuzz', '--policy', 'iommu']);
  assert.equal(ok.code, 2);
  assert.match(ok.stderr, /mask-games\.dmafuzz: the program does not crash under iommu/);
  const missing = dmafuzz(['minimize', path.join(dir, 'nope.dmafuzz')]);
  assert.equal(missing.code, 2);
});

test('minimize killed mid-way leaves no half-written output', async () => {
  const input = path.join(dir, 'padded-kill.dmafuzz');
  fs.writeFileSync(input, paddedMaskGames());
  const out = path.join(dir, 'killed.dmafuzz');
  const child = spawn(process.execPath, [BIN, 'minimize', input, '-o', out, '--policy', 'intel-2019'], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 150));
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  if (fs.existsSync(out)) assert.ok(loadProgramFile(out).program.statements.length > 0);
  const leftovers = fs.readdirSync(dir).filter((f) => f.startsWith('killed.dmafuzz') && f !== 'killed.dmafuzz');
  for (const f of leftovers) assert.match(f, /\.tmp-/, 'only a temp file can be left, never a partial entry');
});

test('regress passes on the shipped corpus and names a malformed entry', () => {
  const r = dmafuzz(['regress', 'corpus']);
  assert.equal(r.code, 0, r.stdout);
  assert.match(r.stdout, /regress: 12 of 12 verdicts as recorded, 0 differ, 0 malformed/);

  const scratch = path.join(dir, 'corpus-bad');
  fs.mkdirSync(scratch);
  fs.copyFileSync(path.join(ROOT, 'corpus/thread-mask-games.dmafuzz'), path.join(scratch, 'thread-mask-games.dmafuzz'));
  fs.writeFileSync(path.join(scratch, 'broken.dmafuzz'), '# dmafuzz v1\n# expect iommu: ok\ndev d0 width=64\nmapp d0\n');
  const bad = dmafuzz(['regress', scratch]);
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, /malformed entry, skipped: .*broken\.dmafuzz:4:1: unknown statement 'mapp'/);
  // fuzz skips it too, naming it, and carries on
  const f = dmafuzz(['fuzz', '--runs', '32', '--seed', '1', '--corpus', scratch, '--out', path.join(dir, 'reports')]);
  assert.ok(f.code === 0 || f.code === 1, f.stderr);
  assert.match(f.stderr, /skipping malformed corpus entry .*broken\.dmafuzz:4:1/);
});

test('regress judges the other entries when one expects a policy it cannot load (it used to stop at it, exit 2)', () => {
  const scratch = path.join(dir, 'corpus-unknown-policy');
  fs.mkdirSync(scratch);
  for (const f of fs.readdirSync(path.join(ROOT, 'corpus'))) fs.copyFileSync(path.join(ROOT, 'corpus', f), path.join(scratch, f));
  const file = path.join(scratch, 'thread-mask-games.dmafuzz');
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(/^# expect direct:/m, '# expect gone-policy:'));
  const r = dmafuzz(['regress', scratch]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /thread-mask-games\.dmafuzz under gone-policy:\n  - expected: ok\n  \+ got:      no verdict: .*unknown policy 'gone-policy'/);
  assert.match(r.stdout, /regress: 11 of 12 verdicts as recorded, 1 differ/);
});

test('an expectation line that does not parse makes the entry malformed, with its line (it was dropped unseen)', () => {
  const scratch = path.join(dir, 'corpus-bad-expect');
  fs.mkdirSync(scratch);
  const file = path.join(scratch, 'thread-mask-games.dmafuzz');
  fs.writeFileSync(file, fs.readFileSync(path.join(ROOT, 'corpus/thread-mask-games.dmafuzz'), 'utf8').replace(/^# expect direct: ok$/m, '# expect direct: maybe'));
  const line = fs.readFileSync(file, 'utf8').split('\n').indexOf('# expect direct: maybe') + 1;
  const r = dmafuzz(['regress', scratch]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, new RegExp(`malformed entry, skipped: .*thread-mask-games\\.dmafuzz:${line}: expected 'expect POLICY: ok' or 'expect POLICY: crash KIND BLAME line N', got 'expect direct: maybe'`));
});

test('regress fails with a readable diff when a policy rule changes', () => {
  const scratch = path.join(dir, 'corpus-policy');
  fs.mkdirSync(scratch);
  const policyFile = path.join(scratch, 'my-policy.mjs');
  const rule = (threshold: string) => `export default { name: 'my-policy', probe: () => ({ attach: 'identity' }), maskChanged: () => ({}),
  route: (call, dev, facts) => (Math.min(dev.maskBits, dev.coherentBits) ${threshold} facts.requiredMaskBits ? { path: 'direct' } : { path: 'iommu', attach: 'fresh-translated' }) };\n`;
  fs.writeFileSync(policyFile, rule('>='));
  const entry = MASK_GAMES.replace('# dmafuzz v1\n', '# dmafuzz v1\n# expect ./my-policy.mjs: crash iommu-fault layer line 9\n');
  fs.writeFileSync(path.join(scratch, 'mask-games.dmafuzz'), entry);
  const pass = dmafuzz(['regress', scratch]);
  assert.equal(pass.code, 0, pass.stdout);
  // the "fix": this design never leaves the identity domain, so the games stop crashing
  fs.writeFileSync(policyFile, rule('>= 0 ||'));
  const fail = dmafuzz(['regress', scratch]);
  assert.equal(fail.code, 1);
  assert.match(fail.stdout, /mask-games\.dmafuzz +\.\/my-policy\.mjs +DIFFERS/);
  assert.match(fail.stdout, /- expected: crash iommu-fault layer line 9\n {2}\+ got: {6}ok/);
});

test('export: text, json, a C fragment that gcc accepts, and a runnable test', () => {
  const entry = 'corpus/thread-mask-games.dmafuzz';
  const text = dmafuzz(['export', entry, '--format', 'text', '--policy', 'bypass-flag']);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^# dmafuzz v1\nmachine ram=0-2G,4G-6G\ndev d0 width=64\n/);
  assert.match(text.stdout, /# verdict under bypass-flag: crash layer-error \(blame: layer\) at line 12\n/);

  const json = JSON.parse(dmafuzz(['export', entry, '--format', 'json', '--policy', 'intel-2019']).stdout);
  assert.equal(json.statements.length, 12);
  assert.equal(json.verdict.kind, 'iommu-fault');
  assert.equal(json.verdict.line, 8);
  assert.equal(json.machine.policy, 'intel-2019');

  const cFile = path.join(dir, 'c', 'repro.c');
  const c = dmafuzz(['export', entry, '--format', 'c', '--policy', 'intel-2019', '-o', cFile]);
  assert.equal(c.code, 0, c.stderr);
  const src = fs.readFileSync(cFile, 'utf8');
  assert.match(src, /dma_set_mask_and_coherent\(v_d0, DMA_BIT_MASK\(64\)\);/);
  assert.match(src, /v_hi = dma_alloc_coherent\(v_d0, 65536, &v_hi_dma, GFP_KERNEL\);/);
  assert.match(src, /\/\* DEVICE: writes 64 \(seed=1\) at bus address v_hi_dma \+ 0 \*\//);
  assert.match(src, /dma_free_coherent\(v_d0, 65536, v_hi, v_hi_dma\);/);
  assert.ok(fs.existsSync(path.join(dir, 'c', 'dmafuzz_repro.h')));
  const gcc = spawnSync('gcc', ['-fsyntax-only', '-Wall', '-Werror', cFile], { encoding: 'utf8' });
  if (gcc.error) {
    assert.fail(`gcc is needed for this test: ${gcc.error.message}`);
  }
  assert.equal(gcc.status, 0, gcc.stderr);

  // a sg program exports too
  const sgProg = path.join(dir, 'sg.dmafuzz');
  fs.writeFileSync(sgProg, '# dmafuzz v1\nmachine policy=iommu\ndev d0 width=64\nb0 = kmalloc 4K\nb1 = kmalloc 4K\ns0 = map_sg d0 [b0 b1] to_device\nsync_for_device d0 s0\ndev_read d0 s0[0] 0 64\nunmap_sg d0 s0\ncpu_write b0 0 8 seed=3\nsync_for_cpu d0 s0 \nkfree b0\nkfree b1\nunbind d0\n');
  const sgC = path.join(dir, 'c2', 'sg.c');
  assert.equal(dmafuzz(['export', sgProg, '--format', 'c', '-o', sgC]).code, 0);
  assert.equal(spawnSync('gcc', ['-fsyntax-only', '-Wall', '-Werror', sgC], { encoding: 'utf8' }).status, 0);

  // the test export runs as a node:test file inside the package
  fs.mkdirSync(path.join(ROOT, 'tmp'), { recursive: true });
  const testFile = path.join(ROOT, 'tmp', `exported-${process.pid}.test.mjs`);
  assert.equal(dmafuzz(['export', entry, '--format', 'test', '--policy', 'default-domain', '-o', testFile]).code, 0);
  // a clean environment: inside a test run, NODE_TEST_CONTEXT would make the child report to us instead of printing
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const run = spawnSync(process.execPath, ['--test', testFile], { encoding: 'utf8', cwd: ROOT, env });
  fs.rmSync(testFile);
  assert.equal(run.status, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /# pass 1/);
});

test('export finds corpus entries by id and rejects unknown ones', () => {
  const scratch = path.join(dir, 'corpus-ids');
  const f = dmafuzz(['fuzz', '--runs', '256', '--seed', '1', '--mode', 'legal', '--policy', 'intel-2019', '--corpus', scratch, '--out', path.join(dir, 'r2')]);
  assert.equal(f.code, 1, f.stderr);
  const entries = loadCorpus(scratch).entries;
  assert.ok(entries.length > 0);
  const file = path.basename(entries[0]!.file, '.dmafuzz');
  const id = file.slice(file.lastIndexOf('-') + 1);
  const r = dmafuzz(['export', id.slice(0, 6), '--corpus', scratch, '--format', 'json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).verdict.signature, entries[0]!.header.fields.get('signature'));
  const bad = dmafuzz(['export', 'ffffffffffff', '--corpus', scratch]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /is neither a file nor a corpus entry/);
  const badFormat = dmafuzz(['export', id, '--corpus', scratch, '--format', 'pdf']);
  assert.equal(badFormat.code, 2);
  assert.match(badFormat.stderr, /--format: expected one of text, json, c, test/);
  void jsonLines;
});

test('fuzz replaces a stored entry when it finds a smaller repro of the same signature', () => {
  const scratch = path.join(dir, 'corpus-smaller');
  fs.mkdirSync(scratch);
  // store the padded mask games (1,000+ statements) as the entry for its intel-2019 signature
  const text = paddedMaskGames().replace('machine ram=0-2G,4G-6G', 'machine ram=0-2G,4G-6G policy=intel-2019');
  const lp = loadProgramText(text, 'padded');
  const v = runProgram(lp.program, new Machine(lp.config), builtinPolicy('intel-2019')!).verdict;
  const file = writeEntry(scratch, {
    signature: v.signature!, kind: v.kind!, blame: v.blame!, policy: 'intel-2019', firstSeen: '2026-01-01T00:00:00Z',
    originalStatements: lp.program.statements.length, minimizedStatements: lp.program.statements.length,
    text, statement: v.statementIndex! + 1, message: v.message!,
  });
  const before = loadProgramFile(file).program.statements.length;
  const r = dmafuzz(['fuzz', '--runs', '1024', '--seed', '1', '--mode', 'legal', '--policy', 'intel-2019', '--corpus', scratch, '--out', path.join(dir, 'r-smaller')]);
  assert.ok(r.code === 0 || r.code === 1, r.stderr);
  const after = loadProgramFile(file);
  assert.equal(parseHeader(after.program.header).fields.get('signature'), v.signature);
  assert.ok(after.program.statements.length < before, `${after.program.statements.length} statements, was ${before}`);
  assert.match(fs.readFileSync(file, 'utf8'), /^# first-seen: 2026-01-01T00:00:00Z$/m, 'the entry keeps when it was first seen');
  // and it still reproduces its signature
  assert.equal(dmafuzz(['regress', scratch]).code, 0);
});

/**
 * Bad input through the real binary: one clear line naming file:line:column
 * and what was expected, exit code 2, no stack trace.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dmafuzz } from './cli.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmafuzz-errors-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

function expectUsageError(args: string[], pattern: RegExp): void {
  const r = dmafuzz(args);
  assert.equal(r.code, 2, `exit code for ${args.join(' ')}: ${r.stderr}`);
  assert.equal(r.stdout, '', 'nothing on stdout');
  assert.match(r.stderr, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  assert.equal(r.stderr.trim().split('\n').length <= 2, true, `short message: ${r.stderr}`);
}

const header = '# dmafuzz v1\n';

const CASES: Array<[string, string, RegExp]> = [
  ['unknown statement', 'dev d0 width=64\nmapp_single d0 b0 0 4K to_device\n', /unknown\.dmafuzz:3:1: unknown statement 'mapp_single'.*did you mean 'map_single'/],
  ['bad size', 'dev d0 width=64\nb0 = kmalloc 4Q\n', /bad-size\.dmafuzz:3:\d+: expected a size .*'4Q'/],
  ['unknown handle', 'dev d0 width=64\nunmap_single d0 m9\n', /unknown-handle\.dmafuzz:3:\d+: .*'m9'/],
  ['unknown device', 'b0 = kmalloc 4K\nm0 = map_single nv1 b0 0 4K to_device\n', /unknown-device\.dmafuzz:3:\d+: .*device 'nv1'/],
  ['wrong number of arguments', 'dev d0 width=64\nb0 = kmalloc 4K\nm0 = map_single d0 b0 0\n', /wrong-args\.dmafuzz:4:\d+: map_single takes 5 arguments/],
  ['unknown machine key', 'machine ram=0-2G colour=blue\ndev d0 width=64\n', /machine-key\.dmafuzz:2:\d+: unknown machine key 'colour'/],
  ['bad machine value', 'machine inval=sometimes\ndev d0 width=64\n', /machine-value\.dmafuzz:2:\d+: expected 'strict' or 'lazy' for inval, got 'sometimes'/],
  ['repeated machine key', 'machine ram=0-2G page=4K ram=0-1G\ndev d0 width=64\n', /machine-twice\.dmafuzz:2:\d+: ram is given twice/],
  ['unknown policy on the machine line', 'machine policy=bogus\ndev d0 width=64\n', /machine-policy\.dmafuzz:2: unknown policy 'bogus'/],
  ['bad direction', 'dev d0 width=64\nb0 = kmalloc 4K\nm0 = map_single d0 b0 0 4K to_dev\n', /bad-dir\.dmafuzz:4:\d+: expected a direction/],
  ['missing seed', 'b0 = kmalloc 4K\ncpu_write b0 0 4K\n', /missing-seed\.dmafuzz:3:\d+: .*seed=/],
  ['unknown policy on the machine line', 'machine policy=intel-2020\ndev d0 width=64\n', /unknown policy 'intel-2020' \(expected one of: direct, iommu, intel-2019/],
];

const FILES = ['unknown', 'bad-size', 'unknown-handle', 'unknown-device', 'wrong-args', 'machine-key', 'machine-value', 'machine-twice', 'machine-policy', 'bad-dir', 'missing-seed', 'policy-name'];

CASES.forEach(([name, body, pattern], i) => {
  test(`replay rejects a program with a ${name}`, () => {
    const file = write(`${FILES[i]}.dmafuzz`, header + body);
    expectUsageError(['replay', file], pattern);
  });
});

test('replay of an unreadable file names it', () => {
  expectUsageError(['replay', path.join(dir, 'missing.dmafuzz')], /missing\.dmafuzz: cannot read program: no such file/);
  expectUsageError(['replay', dir], /is a directory/);
});

test('replay --report into a directory that cannot be made is a usage error, before anything runs', () => {
  // a file where the directory should be: this was an internal error with a stack trace
  expectUsageError(['replay', 'test/fixtures/mask-games.dmafuzz', '--report', write('not-a-dir', 'x')], /report directory '.*not-a-dir' is not a writable directory \(EEXIST\)/);
  // a parent that refuses new entries: Node's recursive mkdir spun on it forever
  if (fs.existsSync('/proc/self')) expectUsageError(['replay', 'test/fixtures/mask-games.dmafuzz', '--report', '/proc/dmafuzz-nope'], /report directory '\/proc\/dmafuzz-nope' is not a writable directory \(ENOENT\)/);
});

test('a policy module that does not implement the interface', () => {
  const mod = write('bad-policy.mjs', 'export default { name: "half", probe() { return {}; } };\n');
  const file = write('uses-bad-policy.dmafuzz', header + 'dev d0 width=64\n');
  expectUsageError(['replay', file, '--policy', mod], /bad-policy\.mjs: the policy module does not implement the interface: missing route/);
  const notObject = write('not-object.mjs', 'export default 42;\n');
  expectUsageError(['replay', file, '--policy', notObject], /not-object\.mjs: a policy module must export default an object/);
});

test('a user policy module from the README works end to end', () => {
  const mod = write(
    'always-iommu.mjs',
    `export default {
  name: 'always-iommu',
  description: 'every device translated, every call through the IOMMU',
  probe: () => ({ attach: 'fresh-translated' }),
  maskChanged: () => ({}),
  route: () => ({ path: 'iommu' }),
};
`,
  );
  const r = dmafuzz(['replay', 'test/fixtures/mask-games.dmafuzz', '--policy', mod, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const row = JSON.parse(r.stdout.trim());
  assert.equal(row.policy, 'always-iommu');
  assert.equal(row.verdict, 'ok');
});

test('bad flags are usage errors', () => {
  expectUsageError(['replay', 'test/fixtures/mask-games.dmafuzz', '--inval', 'sometimes'], /--inval: expected 'strict' or 'lazy'/);
  expectUsageError(['replay', 'test/fixtures/mask-games.dmafuzz', '--ram', '4G-2G'], /--ram: RAM range '4G-2G' is empty/);
  expectUsageError(['replay', 'test/fixtures/mask-games.dmafuzz', '--policy', 'nonesuch'], /unknown policy 'nonesuch'/);
  expectUsageError(['replay'], /Not enough non-option arguments|files/);
  expectUsageError(['frobnicate'], /Unknown argument|Unknown command|frobnicate/);
  expectUsageError(['replay', 'test/fixtures/mask-games.dmafuzz', '--no-such-flag'], /Unknown argument/);
});

test('--help works on the replay command', () => {
  const r = dmafuzz(['replay', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /--policy/);
  assert.match(r.stdout, /--json/);
});

test('a one-value flag given twice, and an empty value, are usage errors (not an array, a sum or the current directory)', () => {
  const fixture = 'test/fixtures/mask-games.dmafuzz';
  const scratch = path.join(dir, 'repeat');
  // each of these was a stack trace (exit 70) or, for --workers, ran two workers
  expectUsageError(['fuzz', '--runs', '4', '--corpus', path.join(scratch, 'a'), '--corpus', path.join(scratch, 'b')], /--corpus was given more than once; give it once/);
  expectUsageError(['fuzz', '--runs', '4', '--workers', '1', '--workers=1', '--corpus', scratch], /--workers was given more than once/);
  expectUsageError(['minimize', fixture, '--policy', 'intel-2019', '--policy', 'direct'], /--policy was given more than once/);
  expectUsageError(['export', fixture, '-o', path.join(scratch, 'x'), '--output', path.join(scratch, 'y')], /-o was given more than once/);
  expectUsageError(['fuzz', '--runs', '4', '--corpus', ''], /--corpus: expected a value, got an empty string/);
  expectUsageError(['fuzz', '--runs', '4', '--seed='], /--seed: expected a value, got an empty string/);
  expectUsageError(['replay', ''], /expected an argument, got an empty string/);
  assert.equal(fs.existsSync(scratch), false, 'nothing made');
  // lists still repeat: fuzz and replay take several policies
  const r = dmafuzz(['replay', fixture, '--policy', 'intel-2019', '--policy', 'direct']);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stdout.match(/verdict/g)?.length, 2);
});

test('an output that cannot be written is a usage error, and a C export writes its two files or neither', () => {
  const fixture = 'test/fixtures/mask-games.dmafuzz';
  const scratch = fs.mkdtempSync(path.join(dir, 'out-'));
  const afile = path.join(scratch, 'afile');
  fs.writeFileSync(afile, 'x');
  // these were internal errors (exit 70): the temp file's clean-up failed on the same ENOTDIR
  expectUsageError(['minimize', fixture, '-o', path.join(afile, 'x')], /afile\/x: cannot write: a file is in the way of its directory/);
  expectUsageError(['export', fixture, '--format', 'json', '-o', path.join(afile, 'x')], /cannot write: a file is in the way/);
  // the header's place is taken by a directory: the fragment used to be written anyway
  const t2 = path.join(scratch, 't2');
  fs.mkdirSync(path.join(t2, 'dmafuzz_repro.h'), { recursive: true });
  expectUsageError(['export', fixture, '--format', 'c', '-o', path.join(t2, 'x.c')], /dmafuzz_repro\.h: cannot write: a directory is in the way/);
  assert.deepEqual(fs.readdirSync(t2), ['dmafuzz_repro.h'], 'no fragment, no temp file');
  // -o naming the header overwrote the fragment with it; -o naming the input replaced the program with C
  expectUsageError(['export', fixture, '--format', 'c', '-o', path.join(scratch, 'dmafuzz_repro.h')], /-o names dmafuzz_repro\.h/);
  const copy = path.join(scratch, 'mg.dmafuzz');
  fs.copyFileSync(fixture, copy);
  expectUsageError(['export', copy, '--format', 'c', '-o', copy], /-o names the program being exported/);
  assert.equal(fs.readFileSync(copy, 'utf8'), fs.readFileSync(fixture, 'utf8'));
  assert.deepEqual(fs.readdirSync(scratch).sort(), ['afile', 'mg.dmafuzz', 't2']);
});

test('replay of a very long program prints its report (a 150,000-statement spread overflowed the stack)', () => {
  const file = write('long.dmafuzz', `${header}dev d0 width=64\n${'tick\n'.repeat(150_000)}`);
  const r = dmafuzz(['replay', file]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /verdict: ok/);
});

test('a machine whose swiotlb pool does not fit its RAM is refused before anything is made or printed, naming the flags or the line', () => {
  const scratch = path.join(dir, 'nofit');
  expectUsageError(['fuzz', '--runs', '4', '--ram', '0-4K', '--corpus', path.join(scratch, 'c'), '--out', path.join(scratch, 'o')], /--ram 0-4K: no RAM range below 4G is large enough for a 4M swiotlb pool/);
  expectUsageError(['replay', 'test/fixtures/mask-games.dmafuzz', '--ram', '0-4K', '--report', path.join(scratch, 'r')], /--ram 0-4K: no RAM range/);
  const tiny = write('tiny-ram.dmafuzz', `${header}machine ram=0-4K\ndev d0 width=64\n`);
  // the first file's trace used to print before the second one failed
  expectUsageError(['replay', 'test/fixtures/mask-games.dmafuzz', tiny, '--report', path.join(scratch, 'r')], /tiny-ram\.dmafuzz:2: machine line: no RAM range/);
  assert.equal(fs.existsSync(scratch), false, 'no directory left behind');
});

test('a policy module whose top-level await never settles is named, exit 2 (it was exit 0 with no output)', () => {
  const tla = write('tla.mjs', 'await new Promise(() => {});\nexport default {};\n');
  expectUsageError(['replay', 'test/fixtures/mask-games.dmafuzz', '--policy', tla], /tla\.mjs: cannot load policy module: its top-level await never settles/);
  expectUsageError(['fuzz', '--runs', '4', '--policy', tla, '--corpus', path.join(dir, 'tla-c'), '--out', path.join(dir, 'tla-o')], /its top-level await never settles/);
});

test('export of a path that is not there says the file is missing (it said the corpus directory was)', () => {
  expectUsageError(['export', path.join(dir, 'nosuch.dmafuzz'), '--corpus', path.join(dir, 'no-corpus')], /nosuch\.dmafuzz: cannot read program: no such file/);
  expectUsageError(['export', 'nosuch.dmafuzz', '--corpus', path.join(dir, 'no-corpus')], /nosuch\.dmafuzz: cannot read program: no such file/);
});

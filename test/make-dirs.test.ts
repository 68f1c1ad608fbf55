/** makeDirs: `mkdir -p` that fails, rather than spins, where a directory cannot be made. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeDirs, removeMadeDirs } from '../src/util/make-dirs.js';

test('makes every missing level, and is a no-op on a directory that exists', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'dmafuzz-mkdirs-'));
  try {
    const deep = path.join(root, 'a', 'b', 'c');
    makeDirs(deep);
    assert.ok(fs.statSync(deep).isDirectory());
    makeDirs(deep);
    makeDirs(root);
    assert.deepEqual(fs.readdirSync(path.join(root, 'a')), ['b']);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('a file in the way is an error', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'dmafuzz-mkdirs-'));
  try {
    fs.writeFileSync(path.join(root, 'f'), 'x');
    assert.throws(() => makeDirs(path.join(root, 'f', 'sub')), { code: 'ENOTDIR' });
    assert.throws(() => makeDirs(path.join(root, 'f')), { code: 'EEXIST' });
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('a parent that refuses new entries (procfs) is an error at once', { skip: !fs.existsSync('/proc/self') && 'no /proc here' }, () => {
  // Node's own recursive mkdir never returns here (the CLI test in fuzz-cli.test.ts bounds the same case by its
  // spawn timeout); this one throws on the first refusal
  assert.throws(() => makeDirs('/proc/dmafuzz-nope/deeper'), { code: 'ENOENT' });
});

test('says which levels it made, and takes them away again when a deeper one fails', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'dmafuzz-mkdirs-'));
  try {
    assert.deepEqual(makeDirs(path.join(root, 'a', 'b')), [path.join(root, 'a'), path.join(root, 'a', 'b')]);
    assert.deepEqual(makeDirs(path.join(root, 'a', 'b')), []);
    // only the level that was missing is reported
    assert.deepEqual(makeDirs(path.join(root, 'a', 'c')), [path.join(root, 'a', 'c')]);
    // x is made, then the level under it is refused (a name longer than any file system takes): x goes again
    assert.throws(() => makeDirs(path.join(root, 'a', 'c', 'x', 'n'.repeat(300))), { code: 'ENAMETOOLONG' });
    assert.deepEqual(fs.readdirSync(path.join(root, 'a', 'c')), []);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('removeMadeDirs takes away only what is still empty', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'dmafuzz-mkdirs-'));
  try {
    const made = makeDirs(path.join(root, 'p', 'q'));
    const kept = makeDirs(path.join(root, 'k', 'l'));
    fs.writeFileSync(path.join(root, 'k', 'l', 'entry'), 'x');
    removeMadeDirs(made);
    removeMadeDirs(kept);
    assert.deepEqual(fs.readdirSync(root), ['k']);
    assert.deepEqual(fs.readdirSync(path.join(root, 'k', 'l')), ['entry']);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

/**
 * The program text format v1 (SPEC section 3): parsing, printing, validation
 * errors with their positions, and the seed= byte pattern.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { parseProgram } from '../src/program/parse.js';
import { printProgram, printStatement } from '../src/program/print.js';
import { fillFromSeed, seedByte, seedWord } from '../src/program/seed-fill.js';
import { validateProgram } from '../src/program/validate.js';
import { UserError } from '../src/util/errors.js';

const SECTION_3 = `# dmafuzz v1
machine ram=0-2G,4G-6G policy=bypass-flag inval=strict
dev nv0 width=64                 # a device that really drives 64 address bits
set_mask_and_coherent nv0 32     # -> ok | -EIO
c0 = alloc_coherent nv0 8K       # -> dma handle, or NULL
set_mask_and_coherent nv0 64
b0 = kmalloc 4K                  # kernel buffer; optional zone=dma|dma32|normal
m0 = map_single nv0 b0 0 4K to_device
mapping_error nv0 m0             # the driver checks the handle
cpu_write b0 0 4K seed=7         # deterministic pattern from the seed
sync_for_device nv0 m0
dev_read nv0 m0 0 4K             # device reads through its bus address
dev_write nv0 c0 0 64 seed=3
unmap_single nv0 m0
free_coherent nv0 c0
kfree b0
unbind nv0                       # driver removal: leak checks run here
`;

const MASK_GAMES = `# dmafuzz v1
machine ram=0-2G,4G-6G
dev d0 width=64
set_mask_and_coherent d0 64
hi = alloc_coherent d0 64K
set_mask_and_coherent d0 32
lo = alloc_coherent d0 64K
dev_write d0 hi 0 64 seed=1
dev_write d0 lo 0 64 seed=2
cpu_read hi 0 64
cpu_read lo 0 64
free_coherent d0 hi
free_coherent d0 lo
unbind d0
`;

const SATA_NV = `# dmafuzz v1
machine ram=0-2G,4G-6G
dev nv width=64
set_mask_and_coherent nv 32
set_mask_and_coherent nv 32
prd0 = alloc_coherent nv 2K
set_mask_and_coherent nv 64
cpb0 = alloc_coherent nv 32K
set_mask_and_coherent nv 32
prd1 = alloc_coherent nv 2K
set_mask_and_coherent nv 64
cpb1 = alloc_coherent nv 32K
set_mask nv 64
cpu_write cpb0 0 128 seed=10
buf0 = kmalloc 4K
m0 = map_single nv buf0 0 4K from_device
mapping_error nv m0
dev_read nv cpb0 0 128
dev_write nv m0 0 4K seed=11
unmap_single nv m0
cpu_read buf0 0 4K
set_mask nv 32
cpu_write prd1 0 8 seed=12
buf1 = kmalloc 2K
m1 = map_single nv buf1 0 2K from_device
mapping_error nv m1
dev_read nv prd1 0 8
dev_write nv m1 0 2K seed=13
unmap_single nv m1
cpu_read buf1 0 2K
kfree buf0
kfree buf1
free_coherent nv prd0
free_coherent nv cpb0
free_coherent nv prd1
free_coherent nv cpb1
unbind nv
`;

/** Runs `fn`, expects a UserError at line:column whose message matches. */
function expectUserError(fn: () => unknown, line: number, column: number, message: RegExp): UserError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof UserError, `expected a UserError, got ${String(caught)}`);
  assert.match(caught.message, message);
  assert.equal(caught.line, line, `line of: ${caught.message}`);
  assert.equal(caught.column, column, `column of: ${caught.message}`);
  return caught;
}

const parseError = (text: string, line: number, column: number, message: RegExp): UserError =>
  expectUserError(() => parseProgram(text, 'p.dma'), line, column, message);

const validateError = (text: string, line: number, column: number, message: RegExp): UserError =>
  expectUserError(() => validateProgram(parseProgram(text), 'p.dma'), line, column, message);

describe('SPEC examples', () => {
  it('section 3 example parses, validates and prints back byte for byte', () => {
    const p = parseProgram(SECTION_3);
    assert.equal(p.statements.length, 15);
    assert.deepEqual(p.header, []);
    assert.equal(p.machineLine, 2);
    assert.deepEqual(
      p.machine.map((w) => [w.key, w.value, w.column]),
      [
        ['ram', '0-2G,4G-6G', 9],
        ['policy', 'bypass-flag', 24],
        ['inval', 'strict', 43],
      ],
    );
    validateProgram(p);
    assert.equal(printProgram(p), SECTION_3);

    const dev = p.statements[0]!;
    assert.equal(dev.op, 'dev');
    assert.equal(dev.bind, 'nv0');
    assert.deepEqual(dev.args, { width: 64 });
    assert.equal(dev.comment, 'a device that really drives 64 address bits');
    assert.equal(dev.line, 3);
    assert.equal(dev.column, 1);

    const map = p.statements[5]!;
    assert.equal(map.op, 'map_single');
    assert.equal(map.bind, 'm0');
    assert.deepEqual(map.args, { dev: 'nv0', buf: 'b0', off: 0, len: 4096, dir: 'to_device' });
    assert.equal(map.argColumns?.dir, 29);

    const write = p.statements[7]!;
    assert.deepEqual(write.args, { buf: 'b0', off: 0, len: 4096, seed: 7 });
  });

  it('9.1 mask games: 12 statements in a 14-line file', () => {
    const p = parseProgram(MASK_GAMES);
    assert.equal(p.statements.length, 12);
    assert.equal(p.statements.at(-1)!.line, 14);
    // Verdict lines in the SPEC table are file lines: line 8 is the first dev_write.
    assert.equal(p.statements.find((s) => s.line === 8)!.op, 'dev_write');
    assert.equal(p.statements.find((s) => s.line === 12)!.op, 'free_coherent');
    validateProgram(p);
    assert.equal(printProgram(p), MASK_GAMES);
  });

  it('9.2 sata_nv: 35 statements in a 37-line file', () => {
    const p = parseProgram(SATA_NV);
    assert.equal(p.statements.length, 35);
    assert.equal(p.statements.at(-1)!.line, 37);
    const at = (line: number): string => printStatement(p.statements.find((s) => s.line === line)!);
    assert.equal(at(22), 'set_mask nv 32');
    assert.equal(at(27), 'dev_read nv prd1 0 8');
    assert.equal(at(33), 'free_coherent nv prd0');
    validateProgram(p);
    assert.equal(printProgram(p), SATA_NV);
  });
});

describe('parsing', () => {
  it('keeps header comments, drops the format marker, and never prints it twice', () => {
    const text = '# dmafuzz v1\n# signature: abc\n#kind: ok\n\n#\nmachine policy=iommu   # not kept\n# still header\ntick\n# between statements: not kept\ntick # trailing\n';
    const p = parseProgram(text);
    assert.deepEqual(p.header, ['signature: abc', 'kind: ok', '', 'still header']);
    assert.equal(p.statements[1]!.comment, 'trailing');
    const printed = printProgram(p);
    assert.equal(printed, '# dmafuzz v1\n# signature: abc\n#kind: ok\n#\n# still header\nmachine policy=iommu\ntick\ntick                             # trailing\n'.replace('#kind', '# kind'));
    assert.equal(printProgram(parseProgram(printed)), printed);
    assert.equal(printProgram({ header: ['dmafuzz v1', 'x'], machine: [], machineLine: 0, statements: [] }), '# dmafuzz v1\n# x\n');
  });

  it('accepts a program without marker or machine line, CRLF and tabs', () => {
    const p = parseProgram('b0 = kmalloc 4K zone=dma32\r\n\tkfree b0\r\n');
    assert.deepEqual(p.header, []);
    assert.equal(p.machineLine, 0);
    assert.deepEqual(p.statements[0]!.args, { size: 4096, zone: 'dma32' });
    assert.equal(p.statements[1]!.column, 2);
  });

  it('binds with or without spaces around =', () => {
    for (const text of ['b0=kmalloc 8', 'b0 =kmalloc 8', 'b0= kmalloc 8', '  b0   =   kmalloc 8']) {
      const s = parseProgram(text).statements[0]!;
      assert.equal(s.bind, 'b0', text);
      assert.equal(printStatement(s), 'b0 = kmalloc 8');
    }
  });

  it('reads scatter lists with attached or spaced brackets, and segments', () => {
    for (const list of ['[b0 b1 b2]', '[ b0 b1 b2 ]', '[b0 b1 b2 ]', '[ b0 b1 b2]']) {
      const s = parseProgram(`s = map_sg d ${list} bidirectional`).statements[0]!;
      assert.deepEqual(s.args.bufs, ['b0', 'b1', 'b2']);
      assert.equal(s.args.dir, 'bidirectional');
      assert.equal(printStatement(s), 's = map_sg d [b0 b1 b2] bidirectional');
    }
    const one = parseProgram('s = map_sg d [b0] to_device').statements[0]!;
    assert.deepEqual(one.args.bufs, ['b0']);
    assert.equal(one.argColumns?.['bufs[0]'], 15);
    const seg = parseProgram('dev_read d s[12] 0 64').statements[0]!;
    assert.deepEqual(seg.args.handle, { name: 's', index: 12 });
    assert.equal(printStatement(seg), 'dev_read d s[12] 0 64');
  });

  it('recognises optional unmap and sync parameters by their shape', () => {
    const args = (line: string) => parseProgram(line).statements[0]!.args;
    assert.deepEqual(args('unmap_single d m'), { dev: 'd', map: 'm' });
    assert.deepEqual(args('unmap_single d m 2K'), { dev: 'd', map: 'm', len: 2048 });
    assert.deepEqual(args('unmap_single d m from_device'), { dev: 'd', map: 'm', dir: 'from_device' });
    assert.deepEqual(args('unmap_page d m 0x800 to_device'), { dev: 'd', map: 'm', len: 2048, dir: 'to_device' });
    assert.deepEqual(args('sync_for_cpu d m'), { dev: 'd', map: 'm' });
    assert.deepEqual(args('sync_for_cpu d m 16 32'), { dev: 'd', map: 'm', off: 16, len: 32 });
    assert.deepEqual(args('sync_for_device d m 16 32 bidirectional'), { dev: 'd', map: 'm', off: 16, len: 32, dir: 'bidirectional' });
    assert.deepEqual(args('sync_for_device d s to_device'), { dev: 'd', map: 's', dir: 'to_device' });
    assert.deepEqual(args('unmap_sg d s'), { dev: 'd', sg: 's' });
    assert.deepEqual(args('unmap_sg d s from_device'), { dev: 'd', sg: 's', dir: 'from_device' });
  });

  it('reads every number spelling and prints sizes and addresses canonically', () => {
    const s = parseProgram('dev_write_raw d 0xFEE00000 0x1800 seed=0xff').statements[0]!;
    assert.deepEqual(s.args, { dev: 'd', addr: 0xfee00000n, len: 6144, seed: 255 });
    assert.equal(printStatement(s), 'dev_write_raw d 0xfee00000 6K seed=255');
    const big = parseProgram('dev_read_raw d 0xffffffffffffffff 1').statements[0]!;
    assert.equal(big.args.addr, (1n << 64n) - 1n);
    assert.equal(printStatement(parseProgram('cpu_read b 1 0x1001').statements[0]!), 'cpu_read b 1 0x1001');
    assert.equal(printStatement(parseProgram('dev d width=40 nomask').statements[0]!), 'dev d width=40 nomask');
  });
});

describe('parse errors name the line, the column and what was expected', () => {
  it('unknown statement, with a suggestion', () => {
    const e = parseError('dev d width=64\nm0 = mapp_single d b 0 4K to_device', 2, 6, /^unknown statement 'mapp_single' \(expected one of: dev, set_mask, .*unbind\); did you mean 'map_single'\?$/);
    assert.equal(e.format().split(':').slice(0, 3).join(':'), 'p.dma:2:6');
    parseError('frobnicate d', 1, 1, /^unknown statement 'frobnicate' \(expected one of: [^;]*\)$/);
    parseError('m0 map_single d b 0 4K to_device', 1, 1, /write 'm0 = map_single \.\.\.'/);
  });

  it('bad size', () => {
    parseError('tick\n  cpu_read b0 0 abc', 2, 17, /^expected a size \(like 4K, 0x1000, 512\) for 'len', got 'abc'$/);
    parseError('b = kmalloc 4Q', 1, 13, /for 'size', got '4Q'/);
    parseError('b = kmalloc 0x20000000000000', 1, 13, /too large/);
  });

  it('wrong argument count', () => {
    parseError('m0 = map_single d b 0', 1, 6, /^map_single takes 5 arguments \(D B OFF LEN DIR\), got 3$/);
    parseError('kfree b0 b1', 1, 10, /^kfree takes 1 argument \(B\), got 2$/);
    parseError('tick now', 1, 6, /^tick takes no arguments, got 1$/);
    parseError('unmap_single d m 4K to_device x', 1, 31, /^unmap_single takes 2 to 4 arguments \(D M \[LEN\] \[DIR\]\), got 5$/);
    parseError('cpu_write b 0 4K 7', 1, 18, /^cpu_write takes 3 arguments \(B OFF LEN\), got 4; did you mean 'seed=7'\?$/);
    parseError('dev d 64', 1, 7, /^dev takes only a name and keywords \(dev NAME width=W \[nomask\]\), got '64'$/);
  });

  it('optional parameters in the wrong shape or order', () => {
    parseError('sync_for_cpu d m 16', 1, 18, /^sync_for_cpu takes OFF and LEN together \(D M \[OFF LEN\] \[DIR\]\), got only OFF$/);
    parseError('unmap_single d m to_device 4K', 1, 28, /must come before the direction/);
    parseError('unmap_single d m 4K 8K', 1, 21, /^expected a direction \(to_device, from_device, bidirectional\), got '8K'$/);
    parseError('unmap_single d m to_device from_device', 1, 28, /^unexpected 'from_device': unmap_single takes D M \[LEN\] \[DIR\]$/);
    parseError('unmap_single d m to_devise', 1, 18, /^expected a size .* for 'len' or a direction \(to_device, from_device, bidirectional\), got 'to_devise'; did you mean 'to_device'\?$/);
    parseError('unmap_sg d s 4K', 1, 14, /^expected a direction \(to_device, from_device, bidirectional\), got '4K'$/);
  });

  it('bad direction', () => {
    parseError('m = map_single d b 0 4K to_dev', 1, 25, /^expected a direction \(to_device, from_device, bidirectional\), got 'to_dev'$/);
  });

  it('bad bits, address, name, list', () => {
    parseError('set_mask d 65', 1, 12, /^expected a mask width in bits \(1\.\.64\) for 'bits', got '65'$/);
    parseError('set_mask d 0x20', 1, 12, /for 'bits'/);
    parseError('dev_read_raw d 0x10000000000000000 4', 1, 16, /wider than 64 bits/);
    parseError('kfree B0', 1, 7, /^expected a kmalloc buffer name for 'buf', got 'B0'$/);
    parseError('B0 = kmalloc 4K', 1, 1, /^'B0' is not a valid name/);
    parseError('tick = kmalloc 4K', 1, 1, /reserved word/);
    parseError('dev to_device width=64', 1, 5, /reserved word/);
    parseError('s = map_sg d [] to_device', 1, 14, /list for 'bufs' is empty/);
    parseError('s = map_sg d [b0 b1 to_device', 1, 14, /missing '\]'/);
    parseError('s = map_sg d b0 to_device', 1, 14, /^expected a list of kmalloc buffers like \[b0 b1\] for 'bufs', got 'b0'$/);
    parseError('s = map_sg d [b0 4K] to_device', 1, 18, /in the list, got '4K'/);
    parseError('kfree [b0]', 1, 7, /got '\[b0\]'/);
  });

  it('binding mistakes', () => {
    parseError('m0 = kfree b0', 1, 1, /^'m0 = ' needs a statement that returns a value; kfree returns nothing$/);
    parseError('  kmalloc 4K', 1, 3, /^kmalloc returns a value: write 'NAME = kmalloc \.\.\.'$/);
    parseError('d = dev width=64', 1, 1, /cannot declare a device: write 'dev d width=W'/);
    parseError('dev width=64', 1, 5, /^dev needs a name: write 'dev NAME width=W \[nomask\]'$/);
    parseError(' = kmalloc 4K', 1, 2, /expected a name before '='/);
  });

  it('keywords: missing seed, unknown, duplicate, bad values', () => {
    parseError('tick\ncpu_write b0 0 4K', 2, 1, /^cpu_write needs seed=N/);
    parseError('dev_write d h 0 4 seed', 1, 19, /^'seed' needs a value: write seed=N$/);
    parseError('dev d', 1, 1, /^dev needs width=W/);
    parseError('b = kmalloc 4K zome=dma', 1, 16, /^unknown keyword 'zome=' for kmalloc \(expected zone=\)$/);
    parseError('kfree b seed=1', 1, 9, /^unknown keyword 'seed=' for kfree \(kfree takes no keywords\)$/);
    parseError('b = kmalloc 4K nomask', 1, 16, /^unknown keyword 'nomask' for kmalloc/);
    parseError('b = kmalloc 4K zone=high', 1, 21, /^expected a zone \(dma, dma32, normal\) for zone=, got 'high'$/);
    parseError('cpu_write b 0 4 seed=4294967296', 1, 22, /^expected a seed \(an integer 0\.\.4294967295\) for seed=/);
    parseError('cpu_write b 0 4 seed=1 seed=2', 1, 24, /seed is given twice/);
    parseError('dev d width=0', 1, 13, /^expected a device width in bits \(1\.\.64\) for width=, got '0'$/);
    parseError('dev d width=64 nomask=1', 1, 16, /nomask is a flag/);
  });

  it('machine line: only one, only before statements, key=value words', () => {
    parseError('dev d width=64\nmachine policy=iommu', 2, 1, /^the machine line must come before the first statement \(line 1\)$/);
    parseError('machine policy=iommu\n\nmachine inval=lazy', 3, 1, /^only one machine line is allowed \(the first is at line 1\)$/);
    parseError('machine policy=iommu lazy', 1, 22, /^expected key=value on the machine line, got 'lazy'$/);
    parseError('machine x=', 1, 9, /key=value/);
    parseError('machine = x', 1, 1, /reserved word/);
    // Keys and values are the machine config's business, not the parser's.
    assert.deepEqual(parseProgram('machine bogus=??').machine, [{ key: 'bogus', value: '??', column: 9 }]);
  });

  it('format marker of another version', () => {
    parseError('# dmafuzz v2\ntick', 1, 1, /format 'v2'/);
  });
});

describe('validation', () => {
  it('unknown names', () => {
    validateError('dev d width=64\ntick\ndev_read d m9 0 4', 3, 12, /^unknown handle 'm9' \(not bound before line 3\)$/);
    validateError('set_mask nv1 32', 1, 10, /^unknown device 'nv1'$/);
    validateError('kfree b0\nb0 = kmalloc 4K', 1, 7, /^unknown buffer 'b0' \(used before its binding at line 2\)$/);
    validateError('dev d width=64\nb = kmalloc 4K\ns = map_sg d [b c] to_device', 3, 17, /^unknown buffer 'c'/);
    validateError('dev d width=64\nm = map_single d m 0 4 to_device', 2, 18, /^unknown buffer 'm' \(used before its binding at line 2\)$/);
  });

  it('wrong kinds', () => {
    const prelude = 'dev d width=64\nb = kmalloc 4K\nm = map_single d b 0 4K to_device\nc = alloc_coherent d 4K\ns = map_sg d [b] to_device\n';
    validateError(`${prelude}unmap_single d c`, 6, 16, /^'c' is a coherent buffer \(bound at line 4\), expected a streaming mapping$/);
    validateError(`${prelude}kfree c`, 6, 7, /^'c' is a coherent buffer \(bound at line 4\), expected a kmalloc buffer$/);
    validateError(`${prelude}cpu_read m 0 4`, 6, 10, /expected a kmalloc or coherent buffer$/);
    validateError(`${prelude}dev_read d s 0 4`, 6, 12, /^'s' is a scatter list .*write s\[0\] for its first segment$/);
    validateError(`${prelude}dev_read d m[0] 0 4`, 6, 12, /^'m' is a streaming mapping \(bound at line 3\); only a scatter list has segments/);
    validateError(`${prelude}sync_for_cpu d c`, 6, 16, /expected a streaming mapping or a scatter list$/);
    validateError(`${prelude}set_mask b 32`, 6, 10, /^'b' is a kmalloc buffer \(bound at line 2\), expected a device$/);
    validateError(`${prelude}s2 = map_sg d [b m] to_device`, 6, 18, /^'m' is a streaming mapping .* expected a kmalloc buffer$/);
    // Everything legal: names used after their free are still in scope.
    validateProgram(parseProgram(`${prelude}cpu_write c 0 4 seed=1\ncpu_read b 0 4\ndev_read d s[3] 0 4\ndev_read d c 0 4\nsync_for_cpu d s\nsync_for_device d m\nunmap_sg d s\nkfree b\ncpu_read b 0 4\nunmap_single d m\nfree_coherent d c\ndev_read d m 0 4\nunbind d`));
  });

  it('rebinding', () => {
    validateError('dev d width=64\nb = kmalloc 4K\nkfree b\n  b = kmalloc 8K', 4, 3, /^'b' is already bound at line 2 \(each name is bound once per program\)$/);
    validateError('dev d width=64\ndev d width=32', 2, 5, /^device 'd' is already declared at line 1/);
    validateError('dev d width=64\nd = kmalloc 4K', 2, 1, /^'d' is already bound at line 1/);
  });

  it('works on generated statements without columns', () => {
    const p = parseProgram('dev d width=64\nkfree x');
    for (const s of p.statements) delete s.argColumns;
    const e = expectUserError(() => validateProgram(p), 2, 1, /unknown buffer 'x'/);
    assert.equal(e.format(), "2:1: unknown buffer 'x' (not bound before line 2)");
  });
});

describe('seed=N byte pattern (mulberry32)', () => {
  /** The reference mulberry32 as published: a closure stepping its state. */
  function mulberry32(a: number): () => number {
    return () => {
      let t = (a = (a + 0x6d2b79f5) | 0);
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return (t ^ (t >>> 14)) >>> 0;
    };
  }

  it('pins the first bytes (also checked against the C code in the doc comment)', () => {
    const first = (seed: number, n: number) => Array.from({ length: n }, (_, i) => seedByte(seed, i));
    assert.deepEqual(first(0, 8), [0x62, 0xb4, 0x34, 0x44, 0x37, 0x9c, 0x15, 0x00]);
    assert.deepEqual(first(7, 8), [0x2c, 0x15, 0xff, 0x02, 0x12, 0x7f, 0xdc, 0x0f]);
    assert.deepEqual(first(4294967295, 4), [211, 243, 123, 229]);
    assert.equal(seedWord(1, 0), 0xa087eaf3);
  });

  it('is the little-endian byte stream of mulberry32', () => {
    for (const seed of [0, 1, 3, 10, 0xdeadbeef]) {
      const next = mulberry32(seed);
      const bytes = new Uint8Array(403);
      fillFromSeed(bytes, seed);
      for (let k = 0; k * 4 < bytes.length; k++) {
        const w = next();
        for (let b = 0; b < 4 && k * 4 + b < bytes.length; b++) assert.equal(bytes[k * 4 + b], (w >>> (8 * b)) & 0xff);
      }
    }
  });

  it('is deterministic and splittable at any offset', () => {
    const whole = new Uint8Array(10_000);
    fillFromSeed(whole, 42);
    const again = new Uint8Array(10_000);
    fillFromSeed(again, 42);
    assert.deepEqual(again, whole);
    for (const [start, len] of [[0, 0], [1, 2], [3, 9], [4097, 1000], [9999, 1]] as const) {
      const part = new Uint8Array(len);
      fillFromSeed(part, 42, start);
      assert.deepEqual(part, whole.subarray(start, start + len));
    }
    const other = new Uint8Array(64);
    fillFromSeed(other, 43);
    assert.notDeepEqual(other, whole.subarray(0, 64));
    // k wraps mod 2^32: the pattern repeats every 16 GiB, as in the C code.
    assert.equal(seedByte(7, 4 * 2 ** 32 + 5), seedByte(7, 5));
  });

  it('fills a megabyte quickly', () => {
    const buf = new Uint8Array(1 << 20);
    const t0 = performance.now();
    fillFromSeed(buf, 1);
    assert.ok(performance.now() - t0 < 200);
  });
});

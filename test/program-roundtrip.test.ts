/**
 * Round-trip property of the text format (SPEC section 3: "every generated
 * program can be written in it"): random well-formed programs, built from the
 * SYNTAX table so that a new statement kind is covered without touching this
 * file, print -> parse -> print to the same text, and parse gives back the
 * program up to source positions.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';

import { DIRECTIONS, ZONES, type ArgValue, type MachineWord, type Program, type Statement } from '../src/program/ast.js';
import { FORMAT_MARKER, isBindableName, parseProgram } from '../src/program/parse.js';
import { printProgram } from '../src/program/print.js';
import { OP_NAMES, SYNTAX, type KeywordParam, type Param, type StatementSyntax } from '../src/program/syntax.js';

const nameArb = fc.stringMatching(/^[a-z_][a-z0-9_]{0,7}$/).filter(isBindableName);

/** Sizes as programs use them: small, page multiples, odd hex, and the largest exact ones. */
const sizeArb = fc.oneof(
  fc.nat({ max: 5000 }),
  fc.integer({ min: 0, max: 1 << 20 }).map((n) => n * 1024),
  fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  fc.constant(Number.MAX_SAFE_INTEGER),
);

function paramArb(p: Param): fc.Arbitrary<ArgValue> {
  switch (p.kind) {
    case 'size':
      return sizeArb;
    case 'bits':
      return fc.integer({ min: 1, max: 64 });
    case 'addr':
      return fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
    case 'dir':
      return fc.constantFrom(...DIRECTIONS);
    case 'buflist':
      return fc.array(nameArb, { minLength: 1, maxLength: 5 });
    case 'handle':
      // fc.record builds null-prototype objects; the parser builds plain ones.
      return fc.oneof(nameArb, fc.tuple(nameArb, fc.nat({ max: 300 })).map(([name, index]) => ({ name, index })));
    default:
      return nameArb;
  }
}

function keywordArb(k: KeywordParam): fc.Arbitrary<ArgValue> {
  switch (k.kind) {
    case 'width':
      return fc.integer({ min: 1, max: 64 });
    case 'zone':
      return fc.constantFrom(...ZONES);
    case 'seed':
      return fc.nat({ max: 0xffff_ffff });
    case 'flag':
      return fc.constant(true);
  }
}

/** Comment text as the parser keeps it: one line, trimmed, not empty. */
const commentArb = fc
  .string({ unit: fc.constantFrom(...'abc xyz019#=[]->|:;.,_é→'.split('')), minLength: 1, maxLength: 30 })
  .map((s) => s.trim())
  .filter((s) => s.length > 0);

/** One statement of kind `syn`; optional parameters obey the format (optional sizes all or none). */
function statementArb(syn: StatementSyntax): fc.Arbitrary<Statement> {
  const required = syn.params.filter((p) => !p.optional);
  const optionalSizes = syn.params.filter((p) => p.optional && p.kind === 'size');
  const optionalOther = syn.params.filter((p) => p.optional && p.kind !== 'size');
  const argsArb = fc
    .record({
      req: fc.tuple(...required.map(paramArb)),
      sizes: fc.option(fc.tuple(...optionalSizes.map(paramArb)), { nil: undefined }),
      other: fc.tuple(...optionalOther.map((p) => fc.option(paramArb(p), { nil: undefined }))),
      kw: fc.tuple(...syn.keywords.map((k) => (k.optional ? fc.option(keywordArb(k), { nil: undefined }) : keywordArb(k)))),
    })
    .map(({ req, sizes, other, kw }) => {
      const args: Record<string, ArgValue | undefined> = {};
      required.forEach((p, i) => (args[p.name] = req[i]));
      if (sizes && optionalSizes.length > 0) optionalSizes.forEach((p, i) => (args[p.name] = sizes[i]));
      optionalOther.forEach((p, i) => {
        if (other[i] !== undefined) args[p.name] = other[i];
      });
      syn.keywords.forEach((k, i) => {
        if (kw[i] !== undefined) args[k.key] = kw[i];
      });
      return args;
    });
  return fc
    .record({
      args: argsArb,
      bind: nameArb,
      comment: fc.option(commentArb, { nil: undefined }),
    })
    .map(({ args, bind, comment }) => {
      const s: Statement = { op: syn.op, args, line: 0, column: 0 };
      if (syn.binds !== 'none') s.bind = bind;
      if (comment !== undefined) s.comment = comment;
      return s;
    });
}

const anyStatementArb = fc.oneof(...OP_NAMES.map((op) => statementArb(SYNTAX[op])));

const headerArb = fc
  .string({ unit: fc.constantFrom(...' abcdmfuzv1:#=-'.split('')), maxLength: 20 })
  .map((s) => s.trimEnd())
  .filter((s) => s.trim() !== FORMAT_MARKER && !/^\s*dmafuzz\s+v\S+$/.test(s));

const machineWordArb: fc.Arbitrary<MachineWord> = fc.record({
  key: fc.stringMatching(/^[a-z_][a-z0-9_]{0,10}$/),
  value: fc.stringMatching(/^[A-Za-z0-9,.\/=_-]{1,12}$/),
  column: fc.constant(0),
});

const programArb: fc.Arbitrary<Program> = fc
  .record({
    header: fc.array(headerArb, { maxLength: 4 }),
    machine: fc.array(machineWordArb, { maxLength: 4 }),
    statements: fc.array(anyStatementArb, { maxLength: 25 }),
  })
  .map((p) => ({ ...p, machineLine: 0 }));

/** The program without source positions, for comparing a generated program with its parse. */
function strip(p: Program): unknown {
  return {
    header: p.header,
    machine: p.machine.map(({ key, value }) => ({ key, value })),
    statements: p.statements.map(({ line: _l, column: _c, argColumns: _a, ...rest }) => rest),
  };
}

describe('text format round trip', () => {
  it('print(parse(print(p))) === print(p), and parse(print(p)) equals p', () => {
    fc.assert(
      fc.property(programArb, (p) => {
        const text = printProgram(p);
        const parsed = parseProgram(text);
        assert.equal(printProgram(parsed), text);
        assert.deepEqual(strip(parsed), strip(p));
      }),
      { numRuns: 500 },
    );
  });

  it('covers every statement kind', () => {
    for (const op of OP_NAMES) {
      fc.assert(
        fc.property(statementArb(SYNTAX[op]), (s) => {
          const p: Program = { header: [], machine: [], machineLine: 0, statements: [s] };
          assert.deepEqual(strip(parseProgram(printProgram(p))), strip(p));
        }),
        { numRuns: 50 },
      );
    }
  });

  it('printing parsed text is a fixed point after one print', () => {
    // Messy but valid spellings: extra spaces, hex, spaced brackets, comments.
    const messy = [
      '#  two spaces kept',
      'machine   policy=iommu  inval=lazy',
      '  b0=kmalloc   0x1000 zone=dma   # c1 ',
      'd=alloc_coherent   nv 4096',
      's = map_sg nv [ b0  b1 ]   bidirectional',
      'sync_for_cpu nv s 0x10 1K',
      'dev_read_raw nv 0x00001000 0x800',
      '',
      '# dropped',
    ].join('\n');
    const once = printProgram(parseProgram(messy));
    assert.equal(printProgram(parseProgram(once)), once);
    assert.ok(once.startsWith(`# ${FORMAT_MARKER}\n#  two spaces kept\nmachine policy=iommu inval=lazy\nb0 = kmalloc 4K zone=dma`));
  });
});

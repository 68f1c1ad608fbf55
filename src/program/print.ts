/**
 * Program -> program text (format v1, SPEC section 3): the inverse of
 * parse.ts. Printing is canonical, so `print(parse(text))` is a fixed point
 * and `parse(print(p))` gives back `p` (up to source positions). Trailing
 * comments are aligned at column 34 when the statement is short enough, as in
 * the SPEC's examples, so corpus files stay readable.
 */
import { formatSize, hex } from '../util/numbers.js';
import type { ArgValue, Program, SegmentRef, Statement } from './ast.js';
import { FORMAT_MARKER } from './parse.js';
import { SYNTAX, type ParamKind } from './syntax.js';

/** Statements shorter than this get their `# comment` aligned after it. */
const COMMENT_PAD = 31;

export function printProgram(p: Program): string {
  const lines = [`# ${FORMAT_MARKER}`];
  for (const entry of p.header) {
    // A header entry holding newlines (say, a crash message) stays comment text.
    for (const text of entry.split(/\r\n|\n|\r/)) {
      if (text.trim() === FORMAT_MARKER) continue; // already printed first
      lines.push(text === '' ? '#' : `# ${text}`);
    }
  }
  if (p.machine.length > 0) lines.push(['machine', ...p.machine.map((w) => `${w.key}=${w.value}`)].join(' '));
  for (const s of p.statements) lines.push(printStatement(s));
  return lines.join('\n') + '\n';
}

/** One statement as a line of text (no newline), with its trailing comment. */
export function printStatement(s: Statement): string {
  const syn = SYNTAX[s.op];
  const words: string[] = [];
  if (syn.binds === 'result') words.push(requireBind(s), '=', s.op);
  else if (syn.binds === 'declares') words.push(s.op, requireBind(s));
  else words.push(s.op);

  for (const p of syn.params) {
    const v = s.args[p.name];
    if (v !== undefined) words.push(formatArg(p.kind, v));
  }
  for (const k of syn.keywords) {
    const v = s.args[k.key];
    if (v === undefined || v === false) continue;
    words.push(k.kind === 'flag' ? k.key : `${k.key}=${String(v)}`);
  }

  const code = words.join(' ');
  const comment = s.comment?.replace(/[\r\n]+/g, ' ').trim();
  return comment ? `${code.padEnd(COMMENT_PAD)}  # ${comment}` : code;
}

function requireBind(s: Statement): string {
  if (s.bind === undefined) throw new Error(`${s.op} statement without a bound name cannot be printed`);
  return s.bind;
}

function formatArg(kind: ParamKind, v: ArgValue): string {
  switch (kind) {
    case 'size':
      return formatSize(v as number);
    case 'addr':
      return hex(v as bigint);
    case 'bits':
      return String(v);
    case 'buflist':
      return `[${(v as string[]).join(' ')}]`;
    case 'handle':
      if (typeof v === 'object') {
        const ref = v as SegmentRef;
        return `${ref.name}[${ref.index}]`;
      }
      return String(v);
    default:
      return String(v);
  }
}

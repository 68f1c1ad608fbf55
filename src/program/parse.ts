/**
 * Program text (format v1, SPEC section 3) -> Program.
 *
 * This file knows only the *shape* of statements, read from the SYNTAX table:
 * which words are names, sizes, directions, keywords. Whether a name refers
 * to something bound earlier, and to the right kind of thing, is checked by
 * validate.ts; the machine line's keys and values by the machine config
 * module. Every error is a UserError pointing at the offending word, and says
 * what was expected there.
 *
 * Decisions worth knowing:
 * - Comment lines before the first statement (also around the machine line)
 *   are the program's header; the `# dmafuzz v1` marker is not kept in it
 *   (the printer always writes it first). Comment lines after the first
 *   statement and a comment on the machine line are not kept.
 * - Optional positional parameters (`unmap_single D M [LEN] [DIR]`,
 *   `sync_for_cpu D M [OFF LEN] [DIR]`, `unmap_sg D S [DIR]`) are recognised
 *   by the shape of the word: one starting with a digit fills the next
 *   optional size, a direction word fills DIR. The optional sizes of a
 *   statement form one group, all given or none (OFF and LEN of a ranged
 *   sync), and they come before DIR.
 * - Statement names, directions, `machine` and flag words are reserved: they
 *   cannot name a device or buffer, which keeps every line readable one way.
 */
import { UserError } from '../util/errors.js';
import { ALL_ONES_64, parseBigNumber, parseNumber } from '../util/numbers.js';
import {
  DIRECTIONS,
  ZONES,
  type ArgValue,
  type Direction,
  type MachineWord,
  type OpName,
  type Program,
  type Statement,
  type Zone,
} from './ast.js';
import { NAME_RE, OP_NAMES, SYNTAX, isOpName, type KeywordParam, type Param, type ParamKind, type StatementSyntax } from './syntax.js';

/** The text of the first line of every printed program, without its `# `. */
export const FORMAT_MARKER = 'dmafuzz v1';

const FORMAT_MARKER_RE = /^dmafuzz\s+v(\S+)$/;

/** Keywords written without a value (`nomask`), over all statements. */
const FLAG_WORDS: ReadonlySet<string> = new Set(
  OP_NAMES.flatMap((op) => SYNTAX[op].keywords.filter((k) => k.kind === 'flag').map((k) => k.key)),
);

const RESERVED: ReadonlySet<string> = new Set<string>([...OP_NAMES, ...DIRECTIONS, ...FLAG_WORDS, 'machine']);

/** True when `name` can be bound by a program (matches NAME_RE and is not a reserved word). */
export function isBindableName(name: string): boolean {
  return NAME_RE.test(name) && !RESERVED.has(name);
}

/** One whitespace-separated word, or a whole `[a b c]` list with its items. */
interface Token {
  text: string;
  /** 1-based column of the first character */
  column: number;
  items?: Token[];
}

/** `X = ...` at the start of a line (spaces around `=` optional). */
const BIND_RE = /^(\s*)([^\s=]*)\s*=\s*/;
const SEGMENT_RE = /^([a-z_][a-z0-9_]*)\[([0-9]+)\]$/;
const DECIMAL_RE = /^[0-9]+$/;
const SEED_RE = /^(0x[0-9a-fA-F]+|[0-9]+)$/;
const MAX_SEED = 0xffff_ffff;
const MAX_SEGMENT_INDEX = 0x7fff_ffff;

const SIZE_EXAMPLE = 'like 4K, 0x1000, 512';
const DIRECTION_LIST = DIRECTIONS.join(', ');

/** What a parameter of each kind must be, for error messages. */
const EXPECTED_NAME: Record<ParamKind, string> = {
  device: 'a device name',
  kbuf: 'a kmalloc buffer name',
  cpubuf: 'a buffer name',
  coherent: 'a coherent buffer name',
  mapping: 'a mapping name',
  sg: 'a scatter list name',
  stream: 'a mapping or scatter list name',
  handle: 'a handle name or a segment S[i]',
  buflist: 'a list of kmalloc buffers like [b0 b1]',
  size: `a size (${SIZE_EXAMPLE})`,
  bits: 'a mask width in bits (1..64)',
  addr: 'a bus address (like 0x1000)',
  dir: `a direction (${DIRECTION_LIST})`,
};

/** Placeholder names in usage strings, as SPEC section 3 writes them. */
function placeholder(p: Param): string {
  switch (p.name) {
    case 'dev':
      return 'D';
    case 'buf':
      return p.kind === 'coherent' ? 'X' : 'B';
    case 'map':
      return 'M';
    case 'sg':
      return 'S';
    case 'bufs':
      return '[B1 B2 ...]';
    case 'handle':
      return 'H';
    default:
      return p.name.toUpperCase();
  }
}

const KEYWORD_META: Record<KeywordParam['kind'], string> = { width: 'W', zone: 'Z', seed: 'N', flag: '' };

function keywordUsage(k: KeywordParam): string {
  const text = k.kind === 'flag' ? k.key : `${k.key}=${KEYWORD_META[k.kind]}`;
  return k.optional ? `[${text}]` : text;
}

/** Positional parameters as a usage string: `D M [OFF LEN] [DIR]`. */
function paramsUsage(syn: StatementSyntax): string {
  const words: string[] = [];
  const optionalSizes = syn.params.filter((p) => p.optional && p.kind === 'size');
  for (const p of syn.params) {
    if (!p.optional) words.push(placeholder(p));
    else if (p.kind !== 'size') words.push(`[${placeholder(p)}]`);
    else if (p === optionalSizes[0]) words.push(`[${optionalSizes.map(placeholder).join(' ')}]`);
  }
  return words.join(' ');
}

/** The whole statement as a usage line: `M = map_single D B OFF LEN DIR`, `dev NAME width=W [nomask]`. */
export function usage(op: OpName): string {
  const syn = SYNTAX[op];
  const words: string[] = [];
  if (syn.binds === 'result') words.push('NAME', '=', op);
  else if (syn.binds === 'declares') words.push(op, 'NAME');
  else words.push(op);
  const params = paramsUsage(syn);
  if (params) words.push(params);
  words.push(...syn.keywords.map(keywordUsage));
  return words.join(' ');
}

/** Optimal-string-alignment edit distance (insert, delete, substitute, swap neighbours). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** The closest candidate within edit distance 2, for "did you mean" hints. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const c of candidates) {
    const distance = editDistance(word.toLowerCase(), c);
    // A distance as long as the word itself means nothing in common ('x' -> 'dev').
    if (distance < bestDistance && distance < word.length) {
      best = c;
      bestDistance = distance;
    }
  }
  return best;
}

function didYouMean(word: string, candidates: readonly string[]): string {
  const guess = closest(word, candidates);
  return guess === undefined ? '' : `; did you mean '${guess}'?`;
}

function tokenize(code: string, offset: number): Token[] {
  const tokens: Token[] = [];
  for (const m of code.matchAll(/\S+/g)) tokens.push({ text: m[0], column: offset + m.index + 1 });
  return tokens;
}

/** Parses one program. `file` only labels errors. */
export function parseProgram(text: string, file?: string): Program {
  return new Parser(file).program(text);
}

class Parser {
  private line = 0;

  constructor(private readonly file: string | undefined) {}

  private fail(message: string, column: number): never {
    throw new UserError(message, this.file, this.line, column);
  }

  program(text: string): Program {
    const program: Program = { header: [], machine: [], machineLine: 0, statements: [] };
    const lines = text.split(/\r\n|\n|\r/);
    for (let i = 0; i < lines.length; i++) {
      this.line = i + 1;
      const raw = lines[i]!.trimEnd();
      const hash = raw.indexOf('#');
      const code = hash < 0 ? raw : raw.slice(0, hash);
      const comment = hash < 0 ? undefined : raw.slice(hash + 1);

      if (code.trim() === '') {
        if (comment !== undefined && program.statements.length === 0) this.headerLine(program, comment, hash + 1);
        continue;
      }
      const tokens = tokenize(code, 0);
      if (tokens[0]!.text === 'machine' && !BIND_RE.test(code)) {
        this.machineLine(program, tokens);
        continue;
      }
      const statement = this.statement(code);
      const trailing = comment?.trim();
      if (trailing) statement.comment = trailing;
      program.statements.push(statement);
    }
    return program;
  }

  /** `# text`: kept without the `#` and one following space; the format marker is checked and dropped. */
  private headerLine(program: Program, comment: string, column: number): void {
    const text = comment.startsWith(' ') ? comment.slice(1) : comment;
    const marker = FORMAT_MARKER_RE.exec(text.trim());
    if (marker) {
      if (text.trim() === FORMAT_MARKER) return;
      this.fail(`this program is in format 'v${marker[1]}'; this dmafuzz reads '${FORMAT_MARKER}'`, column);
    }
    program.header.push(text);
  }

  private machineLine(program: Program, tokens: Token[]): void {
    if (program.machineLine !== 0) {
      this.fail(`only one machine line is allowed (the first is at line ${program.machineLine})`, tokens[0]!.column);
    }
    if (program.statements.length > 0) {
      this.fail(`the machine line must come before the first statement (line ${program.statements[0]!.line})`, tokens[0]!.column);
    }
    const words: MachineWord[] = [];
    for (const t of tokens.slice(1)) {
      const eq = t.text.indexOf('=');
      if (eq <= 0 || eq === t.text.length - 1) this.fail(`expected key=value on the machine line, got '${t.text}'`, t.column);
      words.push({ key: t.text.slice(0, eq), value: t.text.slice(eq + 1), column: t.column });
    }
    program.machine = words;
    program.machineLine = this.line;
  }

  private statement(code: string): Statement {
    const bindMatch = BIND_RE.exec(code);
    let bindTok: Token | undefined;
    let tokens: Token[];
    if (bindMatch) {
      bindTok = { text: bindMatch[2]!, column: bindMatch[1]!.length + 1 };
      tokens = tokenize(code.slice(bindMatch[0].length), bindMatch[0].length);
      if (bindTok.text === '') this.fail(`expected a name before '='`, bindTok.column);
      this.checkBindName(bindTok);
      if (tokens.length === 0) this.fail(`expected a statement after '${bindTok.text} ='`, bindTok.column);
    } else {
      tokens = tokenize(code, 0);
    }
    const opTok = tokens[0]!;
    const first = bindTok ?? opTok;
    if (!isOpName(opTok.text)) this.unknownStatement(opTok, tokens);
    const op = opTok.text as OpName;
    const syn = SYNTAX[op];

    let bind: string | undefined;
    let rest = tokens.slice(1);
    if (bindTok) {
      if (syn.binds === 'declares') {
        this.fail(`'${bindTok.text} = ' cannot declare a device: write '${op} ${bindTok.text} width=W'`, bindTok.column);
      }
      if (syn.binds === 'none') {
        this.fail(`'${bindTok.text} = ' needs a statement that returns a value; ${op} returns nothing`, bindTok.column);
      }
      bind = bindTok.text;
    } else if (syn.binds === 'result') {
      this.fail(`${op} returns a value: write 'NAME = ${op} ...'`, opTok.column);
    } else if (syn.binds === 'declares') {
      const nameTok = rest[0];
      if (nameTok === undefined || nameTok.text.includes('=')) {
        this.fail(`${op} needs a name: write '${usage(op)}'`, nameTok?.column ?? opTok.column);
      }
      this.checkBindName(nameTok);
      bind = nameTok.text;
      rest = rest.slice(1);
    }

    const positional: Token[] = [];
    const keywords: Token[] = [];
    for (const t of this.groupLists(rest)) {
      if (t.items === undefined && (t.text.includes('=') || FLAG_WORDS.has(t.text))) keywords.push(t);
      else positional.push(t);
    }
    const args: Statement['args'] = {};
    const argColumns: Record<string, number> = {};
    if (bind !== undefined) argColumns.bind = (bindTok ?? tokens[1]!).column;
    this.positional(syn, opTok, positional, args, argColumns);
    this.keywords(syn, opTok, keywords, args, argColumns);

    const statement: Statement = { op, args, line: this.line, column: first.column, argColumns };
    if (bind !== undefined) statement.bind = bind;
    return statement;
  }

  private unknownStatement(opTok: Token, tokens: Token[]): never {
    const next = tokens[1];
    if (next !== undefined && isOpName(next.text) && SYNTAX[next.text].binds === 'result') {
      this.fail(`unknown statement '${opTok.text}'; to bind a result write '${opTok.text} = ${next.text} ...'`, opTok.column);
    }
    this.fail(`unknown statement '${opTok.text}' (expected one of: ${OP_NAMES.join(', ')})${didYouMean(opTok.text, OP_NAMES)}`, opTok.column);
  }

  private checkBindName(t: Token): void {
    if (RESERVED.has(t.text)) this.fail(`'${t.text}' is a reserved word and cannot be used as a name`, t.column);
    if (!NAME_RE.test(t.text)) {
      this.fail(`'${t.text}' is not a valid name (use lowercase letters, digits and _, not starting with a digit)`, t.column);
    }
  }

  /** Joins `[b0`, `b1`, `b2]` (or `[ b0 ]`, `[b0]`) into one list token. */
  private groupLists(tokens: Token[]): Token[] {
    const out: Token[] = [];
    for (let i = 0; i < tokens.length; i++) {
      const open = tokens[i]!;
      if (!open.text.startsWith('[')) {
        out.push(open);
        continue;
      }
      const items: Token[] = [];
      let j = i;
      for (; ; j++) {
        if (j === tokens.length) this.fail(`missing ']' to close the list opened here`, open.column);
        const t = tokens[j]!;
        let text = t.text;
        let column = t.column;
        if (j === i) {
          text = text.slice(1);
          column++;
        }
        const closes = text.endsWith(']');
        if (closes) text = text.slice(0, -1);
        if (text) items.push({ text, column });
        if (closes) break;
      }
      out.push({ text: tokens.slice(i, j + 1).map((t) => t.text).join(' '), column: open.column, items });
      i = j;
    }
    return out;
  }

  private positional(syn: StatementSyntax, opTok: Token, tokens: Token[], args: Statement['args'], cols: Record<string, number>): void {
    const op = syn.op;
    for (const t of tokens) {
      const k = syn.keywords.find((kw) => kw.kind !== 'flag' && kw.key === t.text);
      if (k) this.fail(`'${t.text}' needs a value: write ${k.key}=${KEYWORD_META[k.kind]}`, t.column);
    }
    const required = syn.params.filter((p) => !p.optional);
    if (syn.binds === 'declares' && tokens.length > 0) {
      this.fail(`${op} takes only a name and keywords (${usage(op)}), got '${tokens[0]!.text}'`, tokens[0]!.column);
    }
    if (tokens.length < required.length || tokens.length > syn.params.length) {
      const extra = tokens[syn.params.length];
      this.fail(`${op} takes ${countText(required.length, syn.params.length)}${syn.params.length ? ` (${paramsUsage(syn)})` : ''}, got ${tokens.length}${this.seedHint(syn, extra)}`, extra?.column ?? opTok.column);
    }
    const set = (p: Param, t: Token): void => {
      args[p.name] = this.value(syn, p, t, cols);
      cols[p.name] = t.column;
    };
    required.forEach((p, i) => set(p, tokens[i]!));

    // Optional parameters, recognised by shape (see the file comment).
    const optionalSizes = syn.params.filter((p) => p.optional && p.kind === 'size');
    const optionalDir = syn.params.find((p) => p.optional && p.kind === 'dir');
    let sizes = 0;
    let firstSize: Token | undefined;
    let dirTok: Token | undefined;
    for (const t of tokens.slice(required.length)) {
      if (optionalDir && !dirTok && (DIRECTIONS as readonly string[]).includes(t.text)) {
        set(optionalDir, t);
        dirTok = t;
      } else if (/^[0-9]/.test(t.text) && sizes < optionalSizes.length) {
        if (dirTok) this.fail(`'${t.text}' must come before the direction: ${op} takes ${paramsUsage(syn)}`, t.column);
        firstSize ??= t;
        set(optionalSizes[sizes++]!, t);
      } else {
        const wanted: string[] = [];
        if (sizes < optionalSizes.length && !dirTok) wanted.push(`a size (${SIZE_EXAMPLE}) for '${optionalSizes[sizes]!.name}'`);
        if (optionalDir && !dirTok) wanted.push(`a direction (${DIRECTION_LIST})`);
        if (wanted.length === 0) this.fail(`unexpected '${t.text}': ${op} takes ${paramsUsage(syn)}`, t.column);
        this.fail(`expected ${wanted.join(' or ')}, got '${t.text}'${didYouMean(t.text, optionalDir ? DIRECTIONS : [])}`, t.column);
      }
    }
    if (sizes > 0 && sizes < optionalSizes.length) {
      const names = optionalSizes.map(placeholder);
      this.fail(`${op} takes ${names.join(' and ')} together (${paramsUsage(syn)}), got only ${names.slice(0, sizes).join(' ')}`, firstSize!.column);
    }
  }

  /** A forgotten `seed=` shows up as one positional number too many. */
  private seedHint(syn: StatementSyntax, extra: Token | undefined): string {
    const seed = syn.keywords.find((k) => k.kind === 'seed');
    return seed && extra && DECIMAL_RE.test(extra.text) ? `; did you mean '${seed.key}=${extra.text}'?` : '';
  }

  private value(syn: StatementSyntax, p: Param, t: Token, cols: Record<string, number>): ArgValue {
    const got = `for '${p.name}', got '${t.text}'`;
    if (t.items !== undefined && p.kind !== 'buflist') this.fail(`expected ${EXPECTED_NAME[p.kind]} ${got}`, t.column);
    switch (p.kind) {
      case 'device':
      case 'kbuf':
      case 'cpubuf':
      case 'coherent':
      case 'mapping':
      case 'sg':
      case 'stream':
        if (!isBindableName(t.text)) this.fail(`expected ${EXPECTED_NAME[p.kind]} ${got}`, t.column);
        return t.text;
      case 'handle': {
        const segment = SEGMENT_RE.exec(t.text);
        if (segment) {
          const index = Number(segment[2]);
          if (index > MAX_SEGMENT_INDEX) this.fail(`segment index ${segment[2]} is too large`, t.column + segment[1]!.length + 1);
          if (RESERVED.has(segment[1]!)) this.fail(`expected ${EXPECTED_NAME.handle} ${got}`, t.column);
          return { name: segment[1]!, index };
        }
        if (!isBindableName(t.text)) this.fail(`expected ${EXPECTED_NAME.handle} ${got}`, t.column);
        return t.text;
      }
      case 'buflist': {
        if (t.items === undefined) this.fail(`expected ${EXPECTED_NAME.buflist} ${got}`, t.column);
        if (t.items.length === 0) this.fail(`the buffer list for '${p.name}' is empty; ${syn.op} needs at least one buffer`, t.column);
        return t.items.map((item, i) => {
          if (!isBindableName(item.text)) this.fail(`expected a kmalloc buffer name in the list, got '${item.text}'`, item.column);
          cols[`${p.name}[${i}]`] = item.column;
          return item.text;
        });
      }
      case 'size': {
        const v = parseNumber(t.text);
        if (v === undefined) {
          if (parseBigNumber(t.text) !== undefined) this.fail(`size '${t.text}' for '${p.name}' is too large (at most 2^53-1)`, t.column);
          this.fail(`expected ${EXPECTED_NAME.size} ${got}`, t.column);
        }
        return v;
      }
      case 'bits': {
        const v = DECIMAL_RE.test(t.text) ? Number(t.text) : NaN;
        if (!(v >= 1 && v <= 64)) this.fail(`expected ${EXPECTED_NAME.bits} ${got}`, t.column);
        return v;
      }
      case 'addr': {
        const v = parseBigNumber(t.text);
        if (v === undefined) this.fail(`expected ${EXPECTED_NAME.addr} ${got}`, t.column);
        if (v > ALL_ONES_64) this.fail(`address '${t.text}' for '${p.name}' is wider than 64 bits`, t.column);
        return v;
      }
      case 'dir':
        if (!(DIRECTIONS as readonly string[]).includes(t.text)) {
          this.fail(`expected ${EXPECTED_NAME.dir}, got '${t.text}'${didYouMean(t.text, DIRECTIONS)}`, t.column);
        }
        return t.text as Direction;
    }
  }

  private keywords(syn: StatementSyntax, opTok: Token, tokens: Token[], args: Statement['args'], cols: Record<string, number>): void {
    const op = syn.op;
    for (const t of tokens) {
      const eq = t.text.indexOf('=');
      const key = eq < 0 ? t.text : t.text.slice(0, eq);
      const kw = syn.keywords.find((k) => k.key === key);
      if (!kw) {
        const written = eq < 0 ? key : `${key}=`;
        const expected = syn.keywords.map((k) => (k.kind === 'flag' ? k.key : `${k.key}=`));
        this.fail(
          `unknown keyword '${written}' for ${op} (${expected.length ? `expected ${expected.join(' or ')}` : `${op} takes no keywords`})`,
          t.column,
        );
      }
      if (args[key] !== undefined) this.fail(`${key} is given twice`, t.column);
      cols[key] = t.column;
      if (kw.kind === 'flag') {
        if (eq >= 0) this.fail(`${key} is a flag: write '${key}' without '='`, t.column);
        args[key] = true;
        continue;
      }
      const value = t.text.slice(eq + 1);
      const column = t.column + eq + 1;
      switch (kw.kind) {
        case 'width': {
          const v = DECIMAL_RE.test(value) ? Number(value) : NaN;
          if (!(v >= 1 && v <= 64)) this.fail(`expected a device width in bits (1..64) for ${key}=, got '${value}'`, column);
          args[key] = v;
          break;
        }
        case 'zone':
          if (!(ZONES as readonly string[]).includes(value)) {
            this.fail(`expected a zone (${ZONES.join(', ')}) for ${key}=, got '${value}'${didYouMean(value, ZONES)}`, column);
          }
          args[key] = value as Zone;
          break;
        case 'seed': {
          const v = SEED_RE.test(value) ? Number(value) : NaN;
          if (!(v >= 0 && v <= MAX_SEED)) this.fail(`expected a seed (an integer 0..${MAX_SEED}) for ${key}=, got '${value}'`, column);
          args[key] = v;
          break;
        }
      }
    }
    for (const k of syn.keywords) {
      if (k.optional || args[k.key] !== undefined) continue;
      const why = k.kind === 'seed' ? ' (the seed of the bytes it writes)' : k.kind === 'width' ? ' (the address bits the device drives)' : '';
      this.fail(`${op} needs ${k.key}=${KEYWORD_META[k.kind]}${why}`, opTok.column);
    }
  }
}

function countText(required: number, total: number): string {
  if (total === 0) return 'no arguments';
  if (required === total) return `${total} argument${total === 1 ? '' : 's'}`;
  return `${required} to ${total} arguments`;
}

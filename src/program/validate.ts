/**
 * Scope and kind checks on a parsed (or generated) program, before it runs
 * (SPEC section 3: "a program that names an unknown handle or device is
 * rejected before it runs").
 *
 * Names live in one namespace. A name is known from the statement that binds
 * it to the end of the program: using it after its unmap or free is legal
 * syntax, and the run judges it. Each name is bound once; a statement cannot
 * use the name it binds. Kinds must fit the parameter (syntax.ts):
 * cpubuf takes a kmalloc or coherent buffer, handle takes a coherent buffer,
 * a streaming mapping or a segment `S[i]` of a scatter list, stream takes a
 * streaming mapping or a scatter list. Segment indices are not checked here:
 * how many segments map_sg returns depends on the path taken at run time.
 */
import { UserError } from '../util/errors.js';
import type { Program, SegmentRef, Statement } from './ast.js';
import { SYNTAX, type ParamKind, type StatementSyntax } from './syntax.js';

type BoundKind = NonNullable<StatementSyntax['bindsKind']>;

interface Binding {
  kind: BoundKind;
  line: number;
}

/** What a bound name is, for messages: "'c0' is a coherent buffer". */
const KIND_TEXT: Record<BoundKind, string> = {
  device: 'a device',
  kbuf: 'a kmalloc buffer',
  coherent: 'a coherent buffer',
  mapping: 'a streaming mapping',
  sg: 'a scatter list',
};

type NameKind = Exclude<ParamKind, 'buflist' | 'size' | 'bits' | 'addr' | 'dir'>;

/** Which bound kinds each name-taking parameter kind accepts. */
const ACCEPTS: Record<NameKind, readonly BoundKind[]> = {
  device: ['device'],
  kbuf: ['kbuf'],
  cpubuf: ['kbuf', 'coherent'],
  coherent: ['coherent'],
  mapping: ['mapping'],
  sg: ['sg'],
  stream: ['mapping', 'sg'],
  handle: ['coherent', 'mapping'],
};

const EXPECTED_TEXT: Record<NameKind, string> = {
  device: 'a device',
  kbuf: 'a kmalloc buffer',
  cpubuf: 'a kmalloc or coherent buffer',
  coherent: 'a coherent buffer',
  mapping: 'a streaming mapping',
  sg: 'a scatter list',
  stream: 'a streaming mapping or a scatter list',
  handle: 'a coherent buffer, a streaming mapping or a segment S[i]',
};

/** The noun in "unknown device 'nv1'". */
const UNKNOWN_NOUN: Record<NameKind, string> = {
  device: 'device',
  kbuf: 'buffer',
  cpubuf: 'buffer',
  coherent: 'buffer',
  mapping: 'mapping',
  sg: 'scatter list',
  stream: 'mapping',
  handle: 'handle',
};

/** Throws a UserError at the first reference that is out of scope or of the wrong kind. */
export function validateProgram(p: Program, file?: string): void {
  new Validator(p, file).run();
}

class Validator {
  private readonly scope = new Map<string, Binding>();
  /** Every binding in the program, to say "it is bound at line N" for a use before that. */
  private readonly later = new Map<string, number>();

  constructor(
    private readonly program: Program,
    private readonly file: string | undefined,
  ) {
    for (const s of program.statements) if (s.bind !== undefined && !this.later.has(s.bind)) this.later.set(s.bind, s.line);
  }

  run(): void {
    for (const s of this.program.statements) {
      this.checkUses(s);
      this.bind(s);
    }
  }

  private fail(message: string, s: Statement, column: number): never {
    throw new UserError(message, this.file, s.line, column);
  }

  private checkUses(s: Statement): void {
    const syn = SYNTAX[s.op];
    for (const param of syn.params) {
      const value = s.args[param.name];
      if (value === undefined) continue;
      const column = s.argColumns?.[param.name] ?? s.column;
      switch (param.kind) {
        case 'size':
        case 'bits':
        case 'addr':
        case 'dir':
          break;
        case 'buflist':
          (value as string[]).forEach((name, i) => {
            this.checkName(s, name, 'kbuf', s.argColumns?.[`${param.name}[${i}]`] ?? column);
          });
          break;
        case 'handle':
          if (typeof value === 'object') this.checkSegment(s, value as SegmentRef, column);
          else this.checkName(s, value as string, 'handle', column);
          break;
        default:
          this.checkName(s, value as string, param.kind, column);
      }
    }
  }

  private lookup(s: Statement, name: string, kind: NameKind, column: number): Binding {
    const b = this.scope.get(name);
    if (b) return b;
    const boundAt = this.later.get(name);
    const hint = boundAt === undefined ? `not bound before line ${s.line}` : `used before its binding at line ${boundAt}`;
    // A device has no "line before" story worth telling unless it is declared later.
    if (kind === 'device' && boundAt === undefined) this.fail(`unknown device '${name}'`, s, column);
    this.fail(`unknown ${UNKNOWN_NOUN[kind]} '${name}' (${hint})`, s, column);
  }

  private checkName(s: Statement, name: string, kind: NameKind, column: number): void {
    const b = this.lookup(s, name, kind, column);
    if (ACCEPTS[kind].includes(b.kind)) return;
    const hint = kind === 'handle' && b.kind === 'sg' ? `; write ${name}[0] for its first segment` : '';
    this.fail(`'${name}' is ${KIND_TEXT[b.kind]} (bound at line ${b.line}), expected ${EXPECTED_TEXT[kind]}${hint}`, s, column);
  }

  private checkSegment(s: Statement, ref: SegmentRef, column: number): void {
    const b = this.lookup(s, ref.name, 'sg', column);
    if (b.kind !== 'sg') {
      this.fail(`'${ref.name}' is ${KIND_TEXT[b.kind]} (bound at line ${b.line}); only a scatter list has segments ${ref.name}[i]`, s, column);
    }
  }

  private bind(s: Statement): void {
    if (s.bind === undefined) return;
    const kind = SYNTAX[s.op].bindsKind;
    if (kind === undefined) throw new Error(`syntax table: ${s.op} binds a name but has no bindsKind`);
    const previous = this.scope.get(s.bind);
    if (previous) {
      const what = kind === 'device' && previous.kind === 'device' ? `device '${s.bind}' is already declared` : `'${s.bind}' is already bound`;
      this.fail(`${what} at line ${previous.line} (each name is bound once per program)`, s, s.argColumns?.bind ?? s.column);
    }
    this.scope.set(s.bind, { kind, line: s.line });
  }
}

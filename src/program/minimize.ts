/**
 * Minimization: the smallest program that still crashes the same way (the
 * same signature, not just "a crash"). The strategy, each step asking one
 * predicate, each candidate memoized by its text:
 *
 * 1. drop everything after the failing statement;
 * 2. drop, at once, every statement unrelated to the failing one's handles
 *    and devices;
 * 3. remove statements one at a time from the end, repeating until no single
 *    removal keeps the signature (the result is 1-minimal);
 * 4. shrink arguments: sizes, offsets, lengths and seeds toward small values,
 *    mask widths toward 32/64 (device widths stay: a narrower device than
 *    its mask would make the driver lie);
 * 5. rename canonically (d0, b0, c0, m0, s0, ...).
 */
import type { ArgValue, Program, Statement } from './ast.js';
import { printStatement } from './print.js';
import { SYNTAX } from './syntax.js';
import { canonicalPrefix, namesUsed, renameStatement } from './names.js';

export interface MinimizeOptions {
  /** index of the failing statement in the input (from its verdict) */
  failingIndex: number;
  /** returns the failing statement's index if the candidate keeps the signature, else -1 */
  predicate: (p: Program) => number;
  /** stop after this many predicate evaluations */
  maxEvaluations?: number;
  /** stop trying new candidates after this long (the best so far is kept) */
  maxMs?: number;
}

export interface MinimizeResult {
  program: Program;
  failingIndex: number;
  evaluations: number;
  elapsedMs: number;
}

export function minimize(input: Program, opts: MinimizeOptions): MinimizeResult {
  const started = performance.now();
  const m = new Minimizer(input, opts);
  m.run();
  return { program: m.best, failingIndex: m.failing, evaluations: m.evaluations, elapsedMs: performance.now() - started };
}

class Minimizer {
  best: Program;
  failing: number;
  evaluations = 0;
  private readonly memo = new Map<string, number>();
  /** each statement's text, for the memo's keys */
  private readonly lines = new WeakMap<Statement, string>();
  private readonly started = performance.now();

  constructor(
    input: Program,
    private readonly opts: MinimizeOptions,
  ) {
    this.best = input;
    this.failing = opts.failingIndex;
  }

  run(): void {
    this.tryStatements(this.best.statements.slice(0, this.failing + 1));
    this.dropUnrelated();
    this.removeOneByOne();
    this.shrinkArguments();
    this.removeOneByOne();
    this.renameCanonically();
  }

  /** Accepts the candidate if it keeps the signature. */
  private tryStatements(statements: Statement[]): boolean {
    if (statements.length === 0) return false;
    const candidate: Program = { ...this.best, statements };
    const key = this.keyOf(statements);
    let idx = this.memo.get(key);
    if (idx === undefined) {
      if (this.evaluations >= (this.opts.maxEvaluations ?? 20_000)) return false;
      if (this.opts.maxMs !== undefined && performance.now() - this.started > this.opts.maxMs) return false;
      this.evaluations++;
      idx = this.opts.predicate(candidate);
      this.memo.set(key, idx);
    }
    if (idx < 0) return false;
    this.best = candidate;
    this.failing = idx;
    return true;
  }

  /**
   * The memo's key: the candidate's statements as text (header and machine
   * line are the same for every candidate). Candidates share most statement
   * objects, so each is printed once: printing whole programs had been a
   * tenth of a minimization's time.
   */
  private keyOf(statements: readonly Statement[]): string {
    let key = '';
    for (const st of statements) {
      let line = this.lines.get(st);
      if (line === undefined) this.lines.set(st, (line = printStatement(st)));
      key += line + '\n';
    }
    return key;
  }

  /** Keeps the failing statement and the transitive closure of what it names, plus nameless statements. */
  private dropUnrelated(): void {
    const stmts = this.best.statements;
    const related = new Set(namesUsed(stmts[this.failing]!));
    if (stmts[this.failing]!.bind) related.add(stmts[this.failing]!.bind!);
    // grow to a fixed point: a statement binding a related name pulls in the names it uses
    for (let changed = true; changed; ) {
      changed = false;
      for (const s of stmts) {
        if (s.bind && related.has(s.bind)) {
          for (const n of namesUsed(s)) {
            if (!related.has(n)) {
              related.add(n);
              changed = true;
            }
          }
        }
      }
    }
    // keep what binds a related name or uses one (a new allocation on the same device may be what
    // moves it to another domain); drop what only touches other names
    const keep = stmts.filter((s, i) => i === this.failing || (s.bind !== undefined && related.has(s.bind)) || namesUsed(s).some((n) => related.has(n)) || (s.bind === undefined && namesUsed(s).length === 0));
    if (keep.length < stmts.length) this.tryStatements(keep);
  }

  private removeOneByOne(): void {
    for (let progress = true; progress; ) {
      progress = false;
      for (let i = this.best.statements.length - 1; i >= 0; i--) {
        if (i >= this.best.statements.length) continue;
        const without = this.best.statements.filter((_, j) => j !== i);
        if (this.tryStatements(without)) progress = true;
      }
    }
  }

  private shrinkArguments(): void {
    for (let i = 0; i < this.best.statements.length; i++) {
      const s = this.best.statements[i]!;
      const syntax = SYNTAX[s.op];
      for (const p of syntax.params) {
        const v = s.args[p.name];
        if (v === undefined) continue;
        for (const c of candidatesFor(p.kind, v)) this.tryArg(i, p.name, c, p.kind !== 'bits');
      }
      for (const k of syntax.keywords) {
        if (k.kind === 'seed' && s.args.seed !== undefined) for (const c of [0, 1]) this.tryArg(i, 'seed', c, true);
      }
    }
  }

  /** Tries one argument value; `onlySmaller` for sizes and seeds, not for mask and device widths. */
  private tryArg(i: number, name: string, value: ArgValue, onlySmaller: boolean): void {
    const s = this.best.statements[i]!;
    const cur = s.args[name];
    if (cur === value || (onlySmaller && typeof cur === 'number' && typeof value === 'number' && value >= cur)) return;
    const next = this.best.statements.slice();
    next[i] = { ...s, args: { ...s.args, [name]: value } };
    this.tryStatements(next);
  }

  private renameCanonically(): void {
    const counters = new Map<string, number>();
    const map = new Map<string, string>();
    for (const s of this.best.statements) {
      if (!s.bind) continue;
      const prefix = canonicalPrefix(s);
      const n = counters.get(prefix) ?? 0;
      counters.set(prefix, n + 1);
      map.set(s.bind, `${prefix}${n}`);
    }
    // a two-step rename through temporary names, so that d1 -> d0 never collides with an existing d0
    const tmp = new Map([...map.keys()].map((k) => [k, `tmp_${k}`]));
    const final = new Map([...map].map(([k, v]) => [`tmp_${k}`, v]));
    const renamed = this.best.statements.map((s) => renameStatement(renameStatement(s, tmp), final));
    this.tryStatements(renamed);
  }
}

/** Smaller values to try for an argument, most aggressive first. */
function candidatesFor(kind: string, v: ArgValue): ArgValue[] {
  if (typeof v !== 'number') return [];
  switch (kind) {
    case 'size':
      return [0, 1, 64, 512, 2048, 4096, 8192, 65536].filter((c) => c < v);
    case 'bits':
      return v === 32 || v === 64 ? [] : [32, 64];
    default:
      return [];
  }
}

/**
 * The executor: one loop over a program's statements on a reset machine
 * under one policy, judging after every statement, stopping at the first
 * crash. Every run has a step budget; an exception that is not a verdict is
 * a model panic, never swallowed.
 */
import type { Program, Statement } from '../program/ast.js';
import { OP_NAMES } from '../program/syntax.js';
import type { Machine } from '../machine/machine.js';
import type { BypassPolicy } from '../policy/policy.js';
import { DmaLayer } from '../dma/mapping.js';
import { ExecContext } from './context.js';
import { OPS } from './ops/index.js';
import { Crash, type SecurityRecord, type Verdict } from '../oracle/verdict.js';
import { makeSignature } from '../oracle/signature.js';
import { BudgetExceeded } from '../util/assert.js';
import type { Coverage } from '../machine/coverage.js';
import { takeEvents } from '../machine/events.js';

export interface TraceEntry {
  index: number;
  line: number;
  /** what the statement returned or did */
  note: string;
  /** direct, bounce, iommu, or '' for statements that take no path */
  path: string;
  costNs: number;
}

export interface RunOptions {
  /** keep a trace entry per statement (replay); off for fuzzing speed */
  trace?: boolean;
  /** statements a run may execute; more is a `hang` */
  stepBudget?: number;
  /**
   * Called for the sampled statements (all, or one in `sampleEvery`) with
   * the statement's path, modelled ns, the simulator's own wall-clock ns and
   * its numeric code (see `statementCode`).
   */
  onStatement?: (op: string, path: string, costNs: number, wallNs: number, code: number) => void;
  /** sample one statement in this many for onStatement (default 1: every statement) */
  sampleEvery?: number;
  /** which of the `sampleEvery` positions is sampled, so that runs vary (default 0) */
  sampleOffset?: number;
  /** marks statement outcomes and crash kinds; the model marks its own branches through the machine */
  coverage?: Coverage;
  /** `opIndexes(program.statements)`, when the caller runs the program more than once */
  opIndexes?: Int32Array;
}

export interface RunResult {
  verdict: Verdict;
  trace: TraceEntry[];
  /** statements executed, the failing one included */
  steps: number;
}

export const DEFAULT_STEP_BUDGET = 1_000_000;

const OP_CODE = new Map(OP_NAMES.map((op, i) => [op, i] as const));

/**
 * A number per (statement kind, path): `op index * 4 + path index` (path
 * index: none 0, direct 1, bounce 2, iommu 3). Coverage events and histogram
 * slots use it, so the hot path builds no strings.
 */
export function statementCode(opIndex: number, path: string): number {
  // the inverse of CODE_PATHS, by comparison: the paths are constant strings
  return opIndex * 4 + (path === 'direct' ? 1 : path === 'bounce' ? 2 : path === 'iommu' ? 3 : 0);
}

/**
 * Each statement's op index, for coverage and histogram codes. The engine
 * runs every program under six policies: it computes these once per
 * program and passes them in (`RunOptions.opIndexes`), instead of a map
 * lookup per statement per run.
 */
export function opIndexes(stmts: readonly Statement[]): Int32Array {
  const ops = new Int32Array(stmts.length);
  for (let i = 0; i < stmts.length; i++) ops[i] = OP_CODE.get(stmts[i]!.op)!;
  return ops;
}

export const CODE_PATHS = ['', 'direct', 'bounce', 'iommu'] as const;

export function runProgram(program: Program, machine: Machine, policy: BypassPolicy, opts: RunOptions = {}): RunResult {
  machine.reset();
  const trace: TraceEntry[] = [];
  const budget = opts.stepBudget ?? DEFAULT_STEP_BUDGET;
  let ctx: ExecContext | undefined;
  const stmts = program.statements;
  // options read once into locals: the callers' option objects differ in shape, and the loop should not care
  const onStatement = opts.onStatement;
  const coverage = opts.coverage;
  const tracing = opts.trace === true;
  const sampleEvery = Math.max(1, opts.sampleEvery ?? 1);
  const sampleOffset = (opts.sampleOffset ?? 0) % sampleEvery;
  let ops = opts.opIndexes;
  let i = 0;
  try {
    ctx = new ExecContext(machine, new DmaLayer(machine, policy), tracing);
    for (; i < stmts.length; i++) {
      if (i >= budget) throw new Crash('hang', 'model', `the run exceeded its step budget of ${budget} statements`);
      const s = stmts[i]!;
      ctx.begin(s);
      const sampled = onStatement !== undefined && i % sampleEvery === sampleOffset;
      const t0 = sampled ? performance.now() : 0;
      OPS[s.op](ctx, s);
      if (coverage !== undefined || sampled) {
        const code = statementCode((ops ??= opIndexes(stmts))[i]!, ctx.path);
        if (coverage !== undefined) {
          coverage.hit(100 + code * 2 + (ctx.skipped ? 1 : 0));
          coverage.hitEvents(takeEvents(machine.v));
        }
        if (sampled) onStatement(s.op, ctx.path, ctx.costNs, (performance.now() - t0) * 1e6, code);
      }
      if (tracing) trace.push({ index: i, line: s.line, note: ctx.note, path: ctx.path, costNs: ctx.costNs });
    }
    return { verdict: { verdict: 'ok', security: ctx.security }, trace, steps: i };
  } catch (e) {
    const security: SecurityRecord = ctx?.security ?? { rogue: 0, contained: 0, escaped: 0 };
    const s = stmts[Math.min(i, stmts.length - 1)];
    const op = s?.op ?? 'program';
    let crash: Crash;
    if (e instanceof Crash) crash = e;
    else if (e instanceof BudgetExceeded) crash = new Crash('hang', 'model', e.message);
    else crash = new Crash('model-panic', 'model', `model panic in ${op}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}${e instanceof Error && e.stack ? `\n${e.stack.split('\n').slice(1, 4).join('\n')}` : ''}`);
    if (coverage !== undefined) {
      // what the failing statement's model did before the check fired
      coverage.hitEvents(takeEvents(machine.v));
      coverage.hitName(`${op}:crash:${crash.kind}`);
    }
    if (tracing && s) trace.push({ index: i, line: s.line, note: `CRASH ${crash.kind}`, path: ctx?.path ?? '', costNs: ctx?.costNs ?? 0 });
    return {
      verdict: {
        verdict: 'crash',
        kind: crash.kind,
        blame: crash.blame,
        statementIndex: i,
        line: s?.line ?? 0,
        message: crash.message,
        signature: makeSignature(policy.name, crash.kind, op, crash.pathHistory),
        security,
      },
      trace,
      steps: i + 1,
    };
  }
}

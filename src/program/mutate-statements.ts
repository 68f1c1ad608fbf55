/**
 * Mutation of programs at the statement level, for programs that come
 * without intents (corpus files): delete a statement (with everything that
 * uses what it bound), duplicate one under a fresh name, re-parameterize a
 * number or a direction, or splice another program in under renamed names.
 * A mutant that no longer validates is dropped and another one tried, so
 * handles stay consistent. A mutant of a legal program need not be legal:
 * the engine uses these only in `misuse` and `all` modes.
 */
import type { Direction, Program, Statement } from './ast.js';
import { DIRECTIONS } from './ast.js';
import { SYNTAX } from './syntax.js';
import { namesUsed, renameStatement } from './names.js';
import { validateProgram } from './validate.js';
import { printProgram } from './print.js';
import type { Rng } from '../engine/seeds.js';

const SIZES = [1, 64, 512, 2048, 4096, 8192, 65536];
const MASKS = [24, 32, 36, 40, 48, 64];

/** Up to `tries` attempts at one valid mutant of `base`; undefined if none validates. */
export function mutateStatements(base: Program, other: Program, rng: Rng, tries = 8): Program | undefined {
  const parent = printProgram({ ...base, header: [] });
  for (let t = 0; t < tries; t++) {
    const candidate = { ...base, header: [], statements: mutateOnce(base.statements, other.statements, rng) };
    if (candidate.statements.length === 0 || printProgram(candidate) === parent) continue;
    try {
      validateProgram(candidate);
      return candidate;
    } catch {
      // not a valid program: try another mutation
    }
  }
  return undefined;
}

function mutateOnce(stmts: readonly Statement[], other: readonly Statement[], rng: Rng): Statement[] {
  const out = stmts.map((s) => ({ ...s, args: { ...s.args } }));
  const i = rng.below(out.length);
  switch (rng.below(4)) {
    case 0: {
      // delete, and everything downstream that used what it bound
      const gone = new Set<string>();
      const s = out[i]!;
      if (s.bind) gone.add(s.bind);
      return out.filter((x, j) => {
        if (j === i) return false;
        if (j > i && namesUsed(x).some((n) => gone.has(n))) {
          if (x.bind) gone.add(x.bind);
          return false;
        }
        return true;
      });
    }
    case 1: {
      // duplicate under a fresh name
      const s = out[i]!;
      const copy = s.bind ? renameStatement(s, new Map([[s.bind, freshName(out, s.bind)]])) : { ...s };
      out.splice(i + 1, 0, copy);
      return out;
    }
    case 2: {
      // re-parameterize one argument
      const s = out[i]!;
      const params = SYNTAX[s.op].params.filter((p) => s.args[p.name] !== undefined && (p.kind === 'size' || p.kind === 'bits' || p.kind === 'dir'));
      const p = params[rng.below(params.length)];
      if (!p) return out;
      s.args[p.name] = p.kind === 'size' ? SIZES[rng.below(SIZES.length)]! : p.kind === 'bits' ? MASKS[rng.below(MASKS.length)]! : (DIRECTIONS[rng.below(3)] as Direction);
      return out;
    }
    default: {
      // splice: a prefix of this program, then all of the other one under its own (renamed) names
      const names = new Map<string, string>();
      for (const s of other) if (s.bind) names.set(s.bind, `x${rng.below(1000)}_${s.bind}`);
      return [...out.slice(0, i), ...other.map((s) => renameStatement(s, names))];
    }
  }
}

function freshName(stmts: readonly Statement[], base: string): string {
  const taken = new Set(stmts.map((s) => s.bind).filter(Boolean));
  for (let k = 2; ; k++) if (!taken.has(`${base}_${k}`)) return `${base}_${k}`;
}

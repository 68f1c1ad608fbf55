/**
 * fast-check arbitraries for programs: an intent list (see generate.ts)
 * mapped through the deterministic interpreter. Shrinking works on the
 * intents, so a shrunk counterexample is still a program of the same mode.
 * `sampleProgram` draws one program from a seed (what a worker does).
 */
import fc from 'fast-check';
import type { Program } from './ast.js';
import { buildProgram, type GenOptions, type Intent } from './generate.js';

export const intentArb: fc.Arbitrary<Intent> = fc.record({
  k: fc.nat({ max: 1000 }),
  a: fc.nat({ max: 64 }),
  b: fc.nat({ max: 64 }),
  c: fc.nat({ max: 64 }),
  d: fc.nat({ max: 64 }),
});

export interface ProgramArbOptions extends GenOptions {
  /** intents per program (each becomes 1 to ~12 statements) */
  minIntents?: number;
  maxIntents?: number;
}

export function intentsArb(opts: ProgramArbOptions): fc.Arbitrary<Intent[]> {
  return fc.array(intentArb, { minLength: opts.minIntents ?? 1, maxLength: opts.maxIntents ?? 60, size: 'max' });
}

/** Programs as fast-check values, with the intents kept for shrinking and replay. */
export function programArb(opts: ProgramArbOptions): fc.Arbitrary<{ intents: Intent[]; program: Program }> {
  return intentsArb(opts).map((intents) => ({ intents, program: buildProgram(intents, opts) }));
}

/** One program drawn deterministically from a seed. */
export function sampleProgram(seed: number, opts: ProgramArbOptions): Program {
  const [intents] = fc.sample(intentsArb(opts), { seed, numRuns: 1 });
  return buildProgram(intents!, opts);
}

/**
 * fast-check arbitraries for programs: an intent list (see generate.ts)
 * mapped through the deterministic interpreter. Shrinking works on the
 * intents, so a shrunk counterexample is still a program of the same mode.
 * `sampleProgram` draws one program from a seed (what a worker does).
 */
import fc from 'fast-check';
import type { Program } from './ast.js';
import { buildProgram, intent, type GenOptions, type Intent } from './generate.js';

/**
 * One intent. The same draws as `fc.record({ k, a, b, c, d })`, so a seed
 * gives the programs it always gave, but plain objects of one shape: the
 * record arbitrary also draws a boolean per record and, when it is true,
 * builds the object with a null prototype. Such objects are dictionaries to
 * V8, and the interpreter reads their fields for every statement it emits
 * (drawing and interpreting got about a fifth faster without them, in
 * alternating runs over the same seeds). The boolean is still
 * drawn and ignored, to keep the random stream as it was.
 */
export const intentArb: fc.Arbitrary<Intent> = fc
  .tuple(fc.nat({ max: 1000 }), fc.nat({ max: 64 }), fc.nat({ max: 64 }), fc.nat({ max: 64 }), fc.nat({ max: 64 }), fc.boolean())
  .map(([k, a, b, c, d]): Intent => intent(k, a, b, c, d));

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

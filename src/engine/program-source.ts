/**
 * Where the engine's programs come from: program (epoch, batch, index) of a
 * run is either freshly generated or a mutant of an entry of the corpus
 * snapshot the epoch started with, decided by its seed. The coordinator can
 * therefore rebuild any program a worker ran (e.g. the one that hung) from
 * its coordinates alone.
 */
import fc from 'fast-check';
import type { Program, MachineWord } from '../program/ast.js';
import { buildProgram, type GenMode, type Intent } from '../program/generate.js';
import { intentsArb } from '../program/arbitrary.js';
import { mutateIntents } from '../program/mutate.js';
import { mixSeed, Rng } from './seeds.js';

export interface SourceOptions {
  mode: GenMode;
  machine: MachineWord[];
  /** intents of a normal program (each is 1 to ~12 statements) */
  maxIntents: number;
  /** intents of the occasional long stress program */
  longIntents: number;
}

export interface ProgramCoords {
  runSeed: number;
  epoch: number;
  batch: number;
  index: number;
}

export interface SourcedProgram {
  intents: Intent[];
  program: Program;
  origin: 'generated' | 'mutated';
}

/** Probability that a program is a mutant when the corpus has entries. */
const MUTATE_SHARE = 0.5;
/** Share of long stress programs among generated ones. */
const LONG_SHARE = 0.1;

export function programAt(c: ProgramCoords, corpus: readonly (readonly Intent[])[], opts: SourceOptions): SourcedProgram {
  const seed = mixSeed(c.runSeed, c.epoch, c.batch, c.index);
  const rng = new Rng(seed);
  // in mixed mode, a quarter of the programs let driver bugs in
  const mode: GenMode = opts.mode === 'all' ? (rng.chance(0.25) ? 'misuse' : 'legal') : opts.mode;
  const gen = { mode, machine: opts.machine, devices: 1 + rng.below(3) };
  if (corpus.length > 0 && rng.chance(MUTATE_SHARE)) {
    const base = corpus[rng.below(corpus.length)]!;
    const other = corpus[rng.below(corpus.length)]!;
    const intents = mutateIntents(base, other, rng, opts.longIntents);
    return { intents, program: buildProgram(intents, gen), origin: 'mutated' };
  }
  const max = rng.chance(LONG_SHARE) ? opts.longIntents : opts.maxIntents;
  const [intents] = fc.sample(intentsArb({ ...gen, maxIntents: max }), { seed: seed | 0, numRuns: 1 });
  return { intents: intents!, program: buildProgram(intents!, gen), origin: 'generated' };
}

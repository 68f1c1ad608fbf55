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
import { mutateStatements } from '../program/mutate-statements.js';
import { mixSeed, Rng } from './seeds.js';
import { loadProgramText } from '../exec/load.js';

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

/** Intent-list arbitraries by maximum length, built once (building one per program costs as much as drawing from it). */
const arbs = new Map<number, ReturnType<typeof intentsArb>>();
function cachedIntentsArb(maxIntents: number): ReturnType<typeof intentsArb> {
  let a = arbs.get(maxIntents);
  if (!a) arbs.set(maxIntents, (a = intentsArb({ mode: 'legal', maxIntents })));
  return a;
}

/** Probability that a program is a mutant when the corpus has entries. */
const MUTATE_SHARE = 0.5;
/** Share of misuse-mode programs that are statement-level mutants of corpus files (when there are any). */
const FILE_MUTATE_SHARE = 0.3;
/** Share of long stress programs among generated ones. */
const LONG_SHARE = 0.1;

export function programAt(c: ProgramCoords, corpus: readonly (readonly Intent[])[], opts: SourceOptions, files: readonly Program[] = []): SourcedProgram {
  const seed = mixSeed(c.runSeed, c.epoch, c.batch, c.index);
  const rng = new Rng(seed);
  // in mixed mode, a quarter of the programs let driver bugs in
  const mode: GenMode = opts.mode === 'all' ? (rng.chance(0.25) ? 'misuse' : 'legal') : opts.mode;
  const gen = { mode, machine: opts.machine, devices: 1 + rng.below(3) };
  // corpus files carry no intents: their mutants may break the contract, so never in legal mode
  if (mode === 'misuse' && files.length > 0 && rng.chance(FILE_MUTATE_SHARE)) {
    const mutant = mutateStatements(files[rng.below(files.length)]!, files[rng.below(files.length)]!, rng);
    if (mutant) return { intents: [], program: { ...mutant, machine: opts.machine }, origin: 'mutated' };
  }
  if (corpus.length > 0 && rng.chance(MUTATE_SHARE)) {
    const base = corpus[rng.below(corpus.length)]!;
    const other = corpus[rng.below(corpus.length)]!;
    const intents = mutateIntents(base, other, rng, opts.longIntents);
    return { intents, program: buildProgram(intents, gen), origin: 'mutated' };
  }
  const max = rng.chance(LONG_SHARE) ? opts.longIntents : opts.maxIntents;
  const [intents] = fc.sample(cachedIntentsArb(max), { seed: seed | 0, numRuns: 1 });
  return { intents: intents!, program: buildProgram(intents!, gen), origin: 'generated' };
}

/** Corpus entries as programs; an entry that no longer parses is left out (fuzz already reported it). */
export function parseCorpusTexts(texts: readonly string[]): Program[] {
  const out: Program[] = [];
  for (const t of texts) {
    try {
      out.push(loadProgramText(t, 'corpus').program);
    } catch {
      // skipped
    }
  }
  return out;
}

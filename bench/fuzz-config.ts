/**
 * The fuzz run the benches measure: `fuzz --runs N --seed 1 --mode all`
 * over all six built-in policies, an empty corpus in `corpusDir`, no
 * minimization (it is measured on its own, and would only add noise to a
 * rate). The engine bench and `bench/coordinator-run.mjs` both run it.
 */
import { DEFAULTS, type FuzzConfig } from '../src/engine/coordinator.js';
import { BUILTIN_POLICIES } from '../src/policy/registry.js';

export function benchFuzzConfig(runs: number, workers: number, corpusDir: string): FuzzConfig {
  return {
    ...DEFAULTS,
    runs,
    workers,
    seed: 1,
    policies: BUILTIN_POLICIES.map((p) => p.name),
    mode: 'all',
    machine: [],
    corpusDir,
    known: new Set<string>(),
    knownEntries: new Map(),
    seedCorpus: [],
    fileCorpus: [],
    minimize: false,
  };
}

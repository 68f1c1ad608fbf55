/**
 * `dmafuzz fuzz`: the main job. Generates and mutates programs across worker
 * threads for N seconds (or N programs), stores every new crash signature in
 * the corpus at once, writes a run summary to reports/, and exits 1 when it
 * found a signature the corpus did not have.
 */
import path from 'node:path';
import fs from 'node:fs';
import type { Argv } from 'yargs';
import { Coordinator, DEFAULTS, defaultWorkers, type RunState } from '../engine/coordinator.js';
import { loadCorpus, prepareDirs } from '../engine/corpus-store.js';
import { Progress } from '../engine/progress.js';
import { BUILTIN_POLICY_NAMES, resolvePolicy } from '../policy/registry.js';
import { machineOverrides, withMachineFlags } from './machine-flags.js';
import { policySpecs } from './policies.js';
import { UserError } from '../util/errors.js';
import type { GenMode } from '../program/generate.js';
import { Machine } from '../machine/machine.js';
import { applyMachineWords, DEFAULT_CONFIG } from '../machine/config.js';
import { runProgram } from '../exec/executor.js';
import { writeSummary } from '../engine/summary.js';
import { loadCostFile } from '../machine/cost-file.js';
import { comparisonText, finishNightly, nightlyRunName } from '../report/nightly.js';

interface FuzzArgs {
  seconds?: number;
  runs?: number;
  workers?: number;
  seed?: number;
  policy?: string[];
  mode: string;
  corpus: string;
  out: string;
  json?: boolean;
  nightly?: boolean;
  inject?: string;
  [flag: string]: unknown;
}

export const fuzzCommand = {
  command: 'fuzz',
  describe: 'generate and mutate programs on all cores; new crashes go to the corpus, a summary to reports/',
  builder: (y: Argv) =>
    withMachineFlags(
      y
        .option('seconds', { type: 'number', describe: 'how long to fuzz (default 60 unless --runs is given)' })
        .option('runs', { type: 'number', describe: 'how many programs to run instead (deterministic with --seed)' })
        .option('workers', { type: 'number', describe: `worker threads (default: all cores, ${defaultWorkers()} here)` })
        .option('seed', { type: 'number', describe: 'run seed (default: random, printed)' })
        .option('policy', { type: 'string', array: true, describe: `policies to fuzz (repeatable; default all built-ins: ${BUILTIN_POLICY_NAMES.join(', ')})` })
        .option('mode', { type: 'string', default: 'all', describe: 'legal: only contract-keeping programs (every crash is the layer\'s); misuse: driver bugs too; all: both' })
        .option('corpus', { type: 'string', default: 'corpus', describe: 'corpus directory (crash entries are written here)' })
        .option('out', { type: 'string', default: 'reports', describe: 'reports directory' })
        .option('json', { type: 'boolean', default: false, describe: 'print the final summary as JSON on stdout' })
        .option('costs', { type: 'string', describe: 'JSON file overriding the cost table of the modelled latency (docs/cost-model.md)' })
        .option('nightly', { type: 'boolean', default: false, describe: 'dated run directory, comparison with the previous nightly, junit.xml' })
        .option('threshold', { type: 'number', default: 0.1, describe: 'nightly: report latency percentiles that moved by more than this fraction' })
        .option('minimize', { type: 'boolean', default: true, describe: 'minimize each new crash in a worker (--no-minimize to keep programs as found)' })
        .option('inject', { type: 'string', hidden: true, describe: 'test hook: hang:E.B.I,throw:E.B.I' })
        .option('stuck-ms', { type: 'number', hidden: true, describe: 'a batch running this long past its size is a hang' }),
    ),
  handler: async (argv: FuzzArgs) => {
    process.exitCode = await fuzz(argv);
  },
};

function positiveInt(name: string, v: number | undefined, max: number): number | undefined {
  if (v === undefined) return undefined;
  if (!Number.isInteger(v) || v < 1 || v > max) throw new UserError(`--${name}: expected a whole number from 1 to ${max}, got ${v}`);
  return v;
}

export async function fuzz(argv: FuzzArgs): Promise<number> {
  const seconds = argv.seconds;
  if (seconds !== undefined && (!Number.isFinite(seconds) || seconds <= 0 || seconds > 7 * 86400)) {
    throw new UserError(`--seconds: expected a positive number of seconds (at most a week), got ${seconds}`);
  }
  const runs = positiveInt('runs', argv.runs, 1e9);
  const workers = positiveInt('workers', argv.workers, 256) ?? defaultWorkers();
  if (argv.seed !== undefined && (!Number.isInteger(argv.seed) || argv.seed < 0 || argv.seed > 0xffffffff)) {
    throw new UserError(`--seed: expected a whole number from 0 to 4294967295, got ${argv.seed}`);
  }
  const seed = argv.seed ?? Math.floor(Math.random() * 0xffffffff);
  if (!['legal', 'misuse', 'all'].includes(argv.mode)) throw new UserError(`--mode: expected legal, misuse or all, got '${argv.mode}'`);
  const machine = machineOverrides(argv);
  const costs = typeof argv.costs === 'string' ? loadCostFile(argv.costs) : undefined;
  const threshold = argv.threshold as number;
  if (!Number.isFinite(threshold) || threshold <= 0) throw new UserError(`--threshold: expected a positive fraction like 0.1, got ${argv.threshold}`);
  const policies = policySpecs(argv.policy?.length ? argv.policy : ['all'], 'all');
  const policyNames: Record<string, string> = {};
  for (const p of policies) policyNames[p] = (await resolvePolicy(p, process.cwd(), '--policy')).name;
  const clash = policies.find((p, i) => policies.findIndex((q) => policyNames[q] === policyNames[p]) !== i);
  if (clash) throw new UserError(`--policy: two policies are named '${policyNames[clash]}' (${policies.filter((p) => policyNames[p] === policyNames[clash]).join(', ')}); their crashes would share signatures and corpus files`);
  const corpusDir = path.resolve(argv.corpus);
  const outDir = path.resolve(argv.out);
  prepareDirs([
    [corpusDir, 'corpus directory'],
    [outDir, 'reports directory'],
  ]);

  // what the corpus already knows: recorded signatures, and what its entries give now
  const corpus = loadCorpus(corpusDir);
  for (const bad of corpus.malformed) process.stderr.write(`dmafuzz: skipping malformed corpus entry ${bad.error}\n`);
  const known = new Set<string>();
  const knownEntries = new Map<string, { file: string; statements: number; firstSeen?: string }>();
  const baseCfg = applyMachineWords(DEFAULT_CONFIG, machine);
  const m = new Machine(baseCfg);
  for (const e of corpus.entries) {
    const sig = e.header.fields.get('signature');
    if (sig) {
      known.add(sig);
      knownEntries.set(sig, { file: e.file, statements: e.loaded.program.statements.length, firstSeen: e.header.fields.get('first-seen') });
    }
    if (e.header.fields.get('replayable')?.startsWith('no')) continue;
    for (const p of policies) {
      const v = runProgram(e.loaded.program, m, await resolvePolicy(p)).verdict;
      if (v.signature) known.add(v.signature);
    }
  }

  const coordinator = new Coordinator({
    seconds: runs === undefined ? (seconds ?? 60) : seconds,
    runs,
    workers,
    seed,
    policies,
    policyNames,
    mode: argv.mode as GenMode,
    machine,
    corpusDir,
    known,
    knownEntries,
    seedCorpus: [],
    fileCorpus: corpus.entries.filter((e) => !e.header.fields.get('replayable')?.startsWith('no')).map((e) => fs.readFileSync(e.file, 'utf8')),
    ...DEFAULTS,
    minimize: argv.minimize !== false,
    costs,
    stuckMs: positiveInt('stuck-ms', argv['stuck-ms'] as number | undefined, 3_600_000) ?? DEFAULTS.stuckMs,
    inject: argv.inject,
  });
  const tty = Boolean(process.stderr.isTTY) && !process.env.CI;
  process.stderr.write(`dmafuzz: fuzzing ${policies.join(', ')} with ${workers} worker(s), seed ${seed}, mode ${argv.mode}${runs !== undefined ? `, ${runs} programs` : `, ${seconds ?? 60} s`}\n`);
  coordinator.onCrash((e) => {
    // live lines only for the layer's bugs: driver bugs are what the generator put in on purpose
    if (!tty && e.crash.blame !== 'driver') process.stderr.write(`dmafuzz: ${e.isNew ? 'new' : 'known'} ${e.crash.blame} bug ${e.crash.signature} -> ${path.relative(process.cwd(), e.file)}\n`);
  });
  const progress = new Progress(coordinator.state, runs === undefined ? (seconds ?? 60) : undefined, tty);
  const onSignal = (sig: string) => () => {
    process.stderr.write(`\ndmafuzz: ${sig}: finishing the batches in flight, then stopping\n`);
    coordinator.stop(sig);
  };
  const onInt = onSignal('SIGINT');
  const onTerm = onSignal('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  progress.start();
  let state: RunState;
  try {
    state = await coordinator.run();
  } finally {
    progress.stop();
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
  const runName = argv.nightly ? nightlyRunName(outDir) : undefined;
  const summary = writeSummary(outDir, coordinator, { seed, workers, policies, mode: argv.mode, corpusDir, runName });
  if (argv.nightly) process.stderr.write(comparisonText(finishNightly(outDir, summary.dir, threshold)));
  const newCount = [...state.crashes.values()].filter((e) => e.isNew).length;
  if (argv.json) process.stdout.write(JSON.stringify(summary.json) + '\n');
  else process.stderr.write(summary.text);
  for (const why of state.writeErrors) process.stderr.write(`dmafuzz: a corpus entry could not be written: ${why} (its program is the crash's repro in ${path.join(summary.dir, 'summary.json')})\n`);
  return newCount > 0 ? 1 : 0;
}

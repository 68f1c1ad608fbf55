/**
 * One batch of fuzzing: build each program from its coordinates, run it
 * under every policy, and keep what matters: crashes (one per signature),
 * programs that reached coverage the shared map lacks, and counts. Runs in a
 * worker thread, but is plain code importable anywhere (tests, the bench's
 * bare loop).
 */
import { threadId } from 'node:worker_threads';
import { Machine } from '../machine/machine.js';
import { applyMachineWords, DEFAULT_CONFIG } from '../machine/config.js';
import { Coverage, SharedCoverage } from '../machine/coverage.js';
import { resolvePolicy } from '../policy/registry.js';
import type { BypassPolicy } from '../policy/policy.js';
import { opIndexes, runProgram } from '../exec/executor.js';
import { programAt, type SourcedProgram, type SourceOptions } from './program-source.js';
import type { BatchResult, FlushResult, FlushTask, FoundCrash, FuzzTask, WorkerSetup } from './protocol.js';
import { packIntents, SharedCorpusReader } from './shared-corpus.js';
import { WATCH_FIELDS, WATCH_SLOTS, watchViews } from './protocol.js';
import { countValue, HistogramRecorder } from '../report/histogram-counts.js';
import { CODE_PATHS } from '../exec/executor.js';
import { OP_NAMES } from '../program/syntax.js';
import type { Program } from '../program/ast.js';
import { parseCorpusTexts } from './program-source.js';
import { precedes } from './report-order.js';

/** How often a worker ships its histogram deltas with a batch result. */
export const HIST_SHIP_MS = 10_000;

/**
 * One statement in this many goes into the histograms (modelled and
 * measured alike): positions o, o+k, o+2k, ... of each run, with the offset o
 * varying by program and policy so that no statement position is favoured.
 */
export const SAMPLE_EVERY = 64;

/** Per-thread state kept between batches: machines and resolved policies. */
export class BatchRunner {
  private readonly machines = new Map<string, Machine>();
  private readonly policies = new Map<string, BypassPolicy>();
  private readonly coverage = new Coverage();
  private readonly histograms = new HistogramRecorder();
  private watchSlot = -1;
  private lastShipMs = performance.now();
  /** signatures this worker has reported, with the report it last sent (see `precedes`) */
  private readonly reported = new Map<string, FoundCrash>();

  private readonly corpus = new SharedCorpusReader();
  /** the corpus directory's programs, parsed once per worker */
  private readonly files: Program[];

  constructor(setup: WorkerSetup = { fileCorpus: [] }) {
    this.files = parseCorpusTexts(setup.fileCorpus);
  }

  async run(task: FuzzTask): Promise<BatchResult> {
    const started = performance.now();
    const machine = this.machineFor(task);
    const policies: BypassPolicy[] = [];
    for (const p of task.policies) policies.push(await this.policy(p));
    const shared = new SharedCoverage(task.coverage);
    const { fields: watch, beats } = watchViews(task.watch);
    const slot = this.claimSlot(watch);
    const files = this.files;
    const corpus = this.corpus.entries(task.corpus);
    const opts: SourceOptions = { mode: task.mode, machine: task.machine, maxIntents: task.maxIntents, longIntents: task.longIntents };
    const inval = machine.cfg.inval;
    const result: BatchResult = { taskId: task.taskId, epoch: task.epoch, batch: task.batch, programs: 0, runs: 0, statements: 0, finds: [], crashes: [], security: {}, histograms: [], elapsedMs: 0 };
    const hist = this.histograms;
    // histogram keys per policy x statement kind (x path), built once per batch rather than per statement
    const keys = this.keyCaches(policies);
    const securityKeys = policies.map((p) => `${p.name} ${inval}`);

    const inject = parseInject(task.inject);
    // the whole batch is generated first, then run: generating between runs (fast-check's
    // allocations streaming through the caches and the young generation) slowed the executor
    // by several percent in a one-thread experiment (BENCHMARKS.md)
    const sources: SourcedProgram[] = [];
    for (let index = 0; index < task.count; index++) sources.push(programAt({ runSeed: task.runSeed, epoch: task.epoch, batch: task.batch, index }, corpus, opts, files));
    // bits an earlier find of this batch already carries: the merge (in batch order) has added them by the
    // time it reaches a later find, so leaving them out changes no decision and sends less
    const batchBits = new Set<number>();
    for (let index = 0; index < task.count; index++) {
      const src = sources[index]!;
      const ops = opIndexes(src.program.statements);
      const newBits = new Set<number>();
      for (let pi = 0; pi < policies.length; pi++) {
        const policy = policies[pi]!;
        if (slot >= 0) {
          watch[slot * WATCH_FIELDS] = task.taskId;
          watch[slot * WATCH_FIELDS + 1] = index;
          watch[slot * WATCH_FIELDS + 2] = pi;
          beats[slot] = Date.now();
        }
        const sabotage = pi === 0 ? inject.get(`${task.epoch}.${task.batch}.${index}`) : undefined;
        if (sabotage === 'hang') for (;;) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
        if (sabotage === 'throw') throw new Error(`injected failure in program ${task.epoch}.${task.batch}.${index}`);
        const cov = this.coverage;
        cov.reset();
        cov.hitName(policy.name);
        const r = runProgram(src.program, machine, policy, {
          stepBudget: task.stepBudget,
          coverage: cov,
          opIndexes: ops,
          // histograms sample one statement in SAMPLE_EVERY: recording every one would cost more than it tells
          sampleEvery: SAMPLE_EVERY,
          sampleOffset: (index * 7 + pi) % SAMPLE_EVERY,
          onStatement: task.histograms ? keys[pi]!.onStatement : undefined,
        });
        result.runs++;
        result.statements += r.steps;
        shared.collectNewBits(cov.bits(), newBits);
        const sec = (result.security[securityKeys[pi]!] ??= { rogue: 0, contained: 0, escaped: 0 });
        sec.rogue += r.verdict.security.rogue;
        sec.contained += r.verdict.security.contained;
        sec.escaped += r.verdict.security.escaped;
        const v = r.verdict;
        // report a signature once per worker, and again only with a report that precedes it (a smaller repro,
        // or one as small and earlier: batches may reach a worker out of order)
        if (v.verdict === 'crash') {
          const sent = this.reported.get(v.signature!);
          const c = crashRecord(task, index, policy.name, src.program.statements.length, v);
          if (sent === undefined || precedes(c, sent)) {
            this.reported.set(v.signature!, c);
            result.crashes.push(c);
          }
        }
      }
      result.programs++;
      const fresh: number[] = [];
      for (const b of newBits) {
        if (!batchBits.has(b)) {
          batchBits.add(b);
          fresh.push(b);
        }
      }
      if (fresh.length > 0) result.finds.push({ index, intents: packIntents(src.intents), bits: Int32Array.from(fresh) });
    }
    // the counts go out every HIST_SHIP_MS (the rest at the end-of-run flush), not with every batch: fewer, larger messages
    if (performance.now() - this.lastShipMs > HIST_SHIP_MS) {
      for (const kc of this.keys.values()) kc.drain(hist);
      result.histograms = hist.takeDeltas();
      this.lastShipMs = performance.now();
    }
    result.elapsedMs = performance.now() - started;
    return result;
  }

  /** The end-of-run flush: hand over what is left (nothing, when asked again), naming this thread. */
  async flush(_task: FlushTask): Promise<FlushResult> {
    this.lastShipMs = performance.now();
    for (const kc of this.keys.values()) kc.drain(this.histograms);
    return { threadId, histograms: this.histograms.takeDeltas() };
  }

  /** Per-policy value counters, kept across batches until the next shipment. */
  private readonly keys = new Map<string, KeyCache>();
  private keyCaches(policies: readonly BypassPolicy[]): KeyCache[] {
    return policies.map((p) => {
      let kc = this.keys.get(p.name);
      if (!kc) this.keys.set(p.name, (kc = new KeyCache(p.name)));
      return kc;
    });
  }

  private machineFor(task: FuzzTask): Machine {
    const key = JSON.stringify([task.machine, task.costs ?? null]);
    let m = this.machines.get(key);
    if (!m) {
      m = new Machine(applyMachineWords(DEFAULT_CONFIG, task.machine), task.costs);
      this.machines.set(key, m);
    }
    return m;
  }

  private async policy(spec: string): Promise<BypassPolicy> {
    let p = this.policies.get(spec);
    if (!p) {
      p = await resolvePolicy(spec);
      this.policies.set(spec, p);
    }
    return p;
  }

  /** Each worker thread takes one watch slot for its lifetime. */
  private claimSlot(watch: Int32Array): number {
    if (this.watchSlot >= 0) return this.watchSlot;
    for (let s = 0; s < WATCH_SLOTS; s++) {
      if (Atomics.compareExchange(watch, s * WATCH_FIELDS + 3, 0, 1) === 0) {
        // the coordinator stops a stuck worker by its thread id
        watch[s * WATCH_FIELDS + 4] = threadId;
        this.watchSlot = s;
        return s;
      }
    }
    return -1;
  }
}

function crashRecord(task: FuzzTask, index: number, policy: string, statements: number, v: ReturnType<typeof runProgram>['verdict']): FoundCrash {
  return {
    signature: v.signature!,
    kind: v.kind!,
    blame: v.blame!,
    policy,
    statement: (v.statementIndex ?? 0) + 1,
    message: v.message ?? '',
    statements,
    coords: { epoch: task.epoch, batch: task.batch, index },
  };
}

/** The test hook: "hang:E.B.I,throw:E.B.I" (epoch.batch.index of the program to sabotage). */
function parseInject(spec: string | undefined): Map<string, 'hang' | 'throw'> {
  const out = new Map<string, 'hang' | 'throw'>();
  for (const part of (spec ?? '').split(',')) {
    const m = /^(hang|throw):(\d+\.\d+\.\d+)$/.exec(part.trim());
    if (m) out.set(m[2]!, m[1] as 'hang' | 'throw');
  }
  return out;
}

/**
 * One policy's histogram values, counted per statement code (see
 * `statementCode`) in plain maps: no key strings on the hot path. `drain`
 * hands them to the recorder under their real keys.
 */
export class KeyCache {
  private readonly modelledCounts: Array<Map<number, number> | undefined> = [];
  private readonly measuredCounts: Array<Map<number, number> | undefined> = [];

  constructor(private readonly policy: string) {}

  /**
   * The executor's sampled-statement callback for this policy, built once: a
   * modelled cost (for a statement that took a path) under its statement code,
   * the measured wall time under its op.
   */
  readonly onStatement = (_op: string, path: string, costNs: number, wallNs: number, code: number): void => {
    if (path) this.modelled(code, costNs);
    this.measured(code >> 2, wallNs);
  };

  modelled(code: number, ns: number): void {
    countValue((this.modelledCounts[code] ??= new Map()), ns);
  }

  measured(opIndex: number, ns: number): void {
    countValue((this.measuredCounts[opIndex] ??= new Map()), ns);
  }

  drain(into: HistogramRecorder): void {
    this.modelledCounts.forEach((counts, code) => {
      if (counts?.size) into.addCounts(`${this.policy}|${OP_NAMES[code >> 2]}|${CODE_PATHS[code & 3]}|modelled`, counts);
    });
    this.measuredCounts.forEach((counts, op) => {
      if (counts?.size) into.addCounts(`${this.policy}|${OP_NAMES[op]}|-|measured`, counts);
    });
    this.modelledCounts.length = 0;
    this.measuredCounts.length = 0;
  }
}


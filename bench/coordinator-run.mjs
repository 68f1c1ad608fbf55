// One fuzz run through the Coordinator alone (no CLI, no report): its wall time and the process's
// CPU time, for a sampler or a profiler to watch (bench/thread-states.py, node --cpu-prof).
//   npm run build && node bench/coordinator-run.mjs [RUNS=8192] [WORKERS=2]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Coordinator, DEFAULTS } from '../dist/src/engine/coordinator.js';
import { BUILTIN_POLICIES } from '../dist/src/policy/registry.js';

const runs = Number(process.argv[2] ?? 8192);
const workers = Number(process.argv[3] ?? 2);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmafuzz-run-'));
const cfg = {
  ...DEFAULTS, runs, workers, seed: 1, policies: BUILTIN_POLICIES.map((p) => p.name), mode: 'all', machine: [],
  corpusDir: dir, known: new Set(), knownEntries: new Map(), seedCorpus: [], fileCorpus: [], minimize: false,
};
const t0 = performance.now();
const s = await new Coordinator(cfg).run();
const cpu = process.cpuUsage();
console.log(`run() ${(performance.now() - t0).toFixed(0)} ms; ${s.statements} statements; process cpu user ${(cpu.user / 1000).toFixed(0)} ms sys ${(cpu.system / 1000).toFixed(0)} ms`);
fs.rmSync(dir, { recursive: true, force: true });

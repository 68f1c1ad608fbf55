// One fuzz run through the Coordinator alone (no CLI, no report): its wall time and the process's
// CPU time, for a sampler or a profiler to watch (bench/thread-states.py, node --cpu-prof).
//   npm run build && node bench/coordinator-run.mjs [RUNS=8192] [WORKERS=2]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Coordinator } from '../dist/src/engine/coordinator.js';
import { benchFuzzConfig } from '../dist/bench/fuzz-config.js';

const runs = Number(process.argv[2] ?? 8192);
const workers = Number(process.argv[3] ?? 2);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmafuzz-run-'));
const t0 = performance.now();
const s = await new Coordinator(benchFuzzConfig(runs, workers, dir)).run();
const cpu = process.cpuUsage();
console.log(`run() ${(performance.now() - t0).toFixed(0)} ms; ${s.statements} statements; process cpu user ${(cpu.user / 1000).toFixed(0)} ms sys ${(cpu.system / 1000).toFixed(0)} ms`);
fs.rmSync(dir, { recursive: true, force: true });

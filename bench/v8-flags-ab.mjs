// Do V8 flags make a fuzz run faster? Coordinator runs in one process, the flag sets given taking
// turns: each set is applied (v8.setFlagsFromString) just before its run's pool is made, and V8
// reads these flags when it makes a worker's isolate. Prints statements/s over the whole run and
// after its first 5 s, and the workers' and the rest of the process's core-seconds; medians over
// rounds. Each set must name every flag the others change, at its default where it keeps it.
//   npm run build && node bench/v8-flags-ab.mjs RUNS WORKERS ROUNDS 'SET;SET;...'
//   e.g. node bench/v8-flags-ab.mjs 8192 1 4 '--min-semi-space-size=0 --max-semi-space-size=16;--min-semi-space-size=64 --max-semi-space-size=64'
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import { Coordinator } from '../dist/src/engine/coordinator.js';
import { benchFuzzConfig } from '../dist/bench/fuzz-config.js';
import { cpuMark, cpuSplit } from '../dist/bench/thread-cpu.js';

const runs = Number(process.argv[2] ?? 8192);
const workers = Number(process.argv[3] ?? 1);
const rounds = Number(process.argv[4] ?? 4);
const sets = (process.argv[5] ?? '').split(';').map((s) => s.trim());
const WARM_UP_S = 5;
const results = new Map(sets.map((s) => [s, []]));
const median = (xs) => {
  const a = [...xs].sort((x, y) => x - y);
  return (a[(a.length - 1) >> 1] + a[a.length >> 1]) / 2;
};

for (let r = 0; r < rounds; r++) {
  // the order alternates, so that no set always runs first in a round
  for (const set of r % 2 ? [...sets].reverse() : sets) {
    for (const flag of set.split(/\s+/).filter(Boolean)) v8.setFlagsFromString(flag);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmafuzz-flags-'));
    const before = cpuMark();
    const t0 = performance.now();
    const s = await new Coordinator(benchFuzzConfig(runs, workers, dir)).run();
    const wall = (performance.now() - t0) / 1000;
    const cpu = cpuSplit(before, cpuMark());
    fs.rmSync(dir, { recursive: true, force: true });
    // the epoch timeline's first point past the warm-up
    const at = s.timeline.find((p) => p.t >= WARM_UP_S);
    const warmSps = at ? (s.statements - at.statements) / (wall - at.t) : NaN;
    results.get(set).push({ sps: s.statements / wall, warmSps, workers: cpu.workers, others: cpu.others });
    console.log(`round ${r + 1} [${set || 'defaults'}]: ${(s.statements / wall / 1000).toFixed(0)}k statements/s, after ${WARM_UP_S} s ${(warmSps / 1000).toFixed(0)}k; ${wall.toFixed(1)} s; workers ${cpu.workers.toFixed(2)} + rest ${cpu.others.toFixed(2)} core-s`);
  }
}
for (const set of sets) {
  const rs = results.get(set);
  console.log(`[${set || 'defaults'}]: median ${(median(rs.map((x) => x.sps)) / 1000).toFixed(0)}k statements/s, after ${WARM_UP_S} s ${(median(rs.map((x) => x.warmSps)) / 1000).toFixed(0)}k; workers ${median(rs.map((x) => x.workers)).toFixed(2)} + rest ${median(rs.map((x) => x.others)).toFixed(2)} core-s`);
}

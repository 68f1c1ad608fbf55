// Where a run's JIT compilation goes, from V8's own log: total TurboFan compile time (the three
// phases V8 prints per job), split into first compiles and recompiles (a function compiled again
// after a deopt threw its code away), by 5-s window, the functions that cost most, and the deopt
// reasons. V8 prints every isolate's lines into one stream, so a 1-worker run is the clear reading.
//   node --trace-opt --trace-deopt bin/dmafuzz.js fuzz --runs 16384 --seed 1 --workers 1 --no-minimize \
//     --corpus /tmp/c --out /tmp/o 2>&1 | node bench/compile-log.mjs
import readline from 'node:readline';

const t0 = Date.now();
const seen = new Set();
const byFunction = new Map();
const byWindow = new Map();
const reasons = new Map();
let first = 0;
let again = 0;
let firstCount = 0;
let againCount = 0;
const bump = (m, k, ms) => {
  const e = m.get(k) ?? { n: 0, ms: 0 };
  e.n++;
  e.ms += ms;
  m.set(k, e);
};

for await (const line of readline.createInterface({ input: process.stdin })) {
  const at = Date.now() - t0;
  const done = line.match(/completed compiling 0x\w+ <JSFunction (\S*) \(sfi = (\w+)\).*took ([0-9.]+), ([0-9.]+), ([0-9.]+) ms/);
  if (done) {
    const ms = Number(done[3]) + Number(done[4]) + Number(done[5]);
    if (seen.has(done[2])) {
      again += ms;
      againCount++;
    } else {
      seen.add(done[2]);
      first += ms;
      firstCount++;
    }
    bump(byFunction, done[1] || '(anonymous)', ms);
    bump(byWindow, Math.floor(at / 5000) * 5, ms);
    continue;
  }
  const deopt = line.match(/\[bailout \(kind: [\w-]+, reason: ([^)]*)\)/);
  if (deopt) bump(reasons, deopt[1], 0);
}

console.log(`compile: ${(first + again).toFixed(0)} ms; first compiles ${firstCount} (${first.toFixed(0)} ms), recompiles ${againCount} (${again.toFixed(0)} ms)`);
console.log('by 5-s window of the log (s: jobs, ms):', [...byWindow].map(([w, e]) => `${w}: ${e.n}, ${e.ms.toFixed(0)}`).join('; '));
console.log('costliest functions (compiles, ms):');
for (const [name, e] of [...byFunction].sort((a, b) => b[1].ms - a[1].ms).slice(0, 12)) console.log(`  ${name} ${e.n} ${e.ms.toFixed(0)}`);
console.log('deopt reasons:');
for (const [reason, e] of [...reasons].sort((a, b) => b[1].n - a[1].n).slice(0, 8)) console.log(`  ${e.n} ${reason}`);

// What this machine gives two single-threaded jobs at once, with no dmafuzz code at all: two plain
// integer loops, each for 3 s, alone and then as two processes side by side, ROUNDS times.
//   node bench/machine-two-way.mjs [ROUNDS]
// "latency-bound" is one dependent multiply chain (one instruction at a time); "throughput-bound"
// is eight independent add/xor chains, which keep a core's execution units busy. Two vCPUs that
// share one physical core's units (SMT siblings on the host) double the first and not the second.
import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const LOOPS = {
  'latency-bound': `let x=1,n=0;const t0=Date.now();while(Date.now()-t0<3000){for(let i=0;i<1e6;i++)x=(x*1103515245+12345)|0;n++}console.log(n+(x&0))`,
  'throughput-bound': `let a=1,b=2,c=3,d=4,e=5,f=6,g=7,h=8,n=0;const t0=Date.now();while(Date.now()-t0<3000){for(let i=0;i<1e6;i++){a=(a+i)^b;b=(b+a)|0;c=(c^i)+d;d=(d+c)|0;e=(e+i)^f;f=(f+e)|0;g=(g^i)+h;h=(h+g)|0}n++}console.log(n+((a^b^c^d^e^f^g^h)&0))`,
};
const one = (src) => Number(execFileSync(process.execPath, ['-e', src], { encoding: 'utf8' }));
const run = (src) => new Promise((resolve) => {
  let out = '';
  spawn(process.execPath, ['-e', src]).stdout.on('data', (d) => (out += d)).on('end', () => resolve(Number(out)));
});
const two = async (src) => (await Promise.all([run(src), run(src)])).reduce((s, n) => s + n, 0);

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const rounds = Number(process.argv[2] ?? 3);
  for (const [name, src] of Object.entries(LOOPS)) {
    const ratios = [];
    for (let r = 0; r < rounds; r++) {
      // alternate which comes first, so that a drift of the VM's speed does not favour one side
      let solo, pair;
      if (r % 2 === 0) { solo = one(src); pair = await two(src); } else { pair = await two(src); solo = one(src); }
      ratios.push(pair / solo);
    }
    ratios.sort((x, y) => x - y);
    console.log(`${name.padEnd(17)} two processes / one: median ${ratios[Math.floor(ratios.length / 2)].toFixed(2)}x (${ratios.map((x) => x.toFixed(2)).join(', ')})`);
  }
}

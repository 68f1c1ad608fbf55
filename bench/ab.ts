/**
 * Paired before/after timing of two copies of the source tree, in one
 * process: both versions of the model are loaded side by side and their
 * repetitions interleaved, so load from other processes hits both alike.
 * Prints each case's rates and the median over repetitions of the
 * after/before ratio of two back-to-back repetitions (robust on a busy
 * machine, where two separate `npm run bench` runs are not comparable).
 *
 *   node --import tsx bench/ab.ts BEFORE_DIR AFTER_DIR [--filter REGEX] [--reps N]
 *
 * Each directory is a checkout (or copy) holding `src/`; e.g. copy the tree,
 * revert the files under test in the copy, and pass the copy as BEFORE_DIR.
 */
import path from 'node:path';
import { benchSuite, table, type BenchCase } from './harness.js';
import { mapUnmapProgramText, mixedProgramText } from './programs.js';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args.splice(i, 2)[1] : undefined;
};
const filter = flag('--filter');
const reps = Number(flag('--reps') ?? 11);
const [beforeDir, afterDir] = args;
if (!beforeDir || !afterDir) {
  console.error('usage: node --import tsx bench/ab.ts BEFORE_DIR AFTER_DIR [--filter REGEX] [--reps N]');
  process.exit(2);
}
const wanted = (name: string) => !filter || new RegExp(filter).test(name);
let sink: unknown;

/** The cases, built over the modules of one tree. */
async function casesOf(dir: string, tag: string): Promise<BenchCase[]> {
  const src = (p: string) => import(path.resolve(dir, 'src', p));
  const { Machine } = await src('machine/machine.ts');
  const { applyMachineWords, DEFAULT_CONFIG } = await src('machine/config.ts');
  const { ExtentKind } = await src('machine/page-allocator.ts');
  const { DmaLayer } = await src('dma/mapping.ts');
  const { builtinPolicy } = await src('policy/registry.ts');
  const { runProgram } = await src('exec/executor.ts');
  const { loadProgramText } = await src('exec/load.ts');
  const words = (t: string) => t.split(' ').filter(Boolean).map((w, i) => ({ key: w.split('=')[0], value: w.split('=')[1], column: i + 1 }));
  const cases: BenchCase[] = [];
  const add = (c: BenchCase) => {
    if (wanted(`${c.group}/${c.name}`)) cases.push({ ...c, name: `${c.name} ${tag}` });
  };

  for (const c of [
    { name: 'bounce', w: '', pol: 'direct', bits: 32 },
    { name: 'iommu-strict', w: '', pol: 'iommu', bits: 64 },
    { name: 'iommu-lazy', w: 'inval=lazy', pol: 'iommu', bits: 64 },
  ]) {
    const m = new Machine(applyMachineWords(DEFAULT_CONFIG, words(c.w)));
    const layer = new DmaLayer(m, builtinPolicy(c.pol));
    const dev = layer.addDevice(64, false);
    layer.setMask(dev, c.bits, false);
    layer.setMask(dev, c.bits, true);
    const phys = m.pages.alloc(256, 'normal', ExtentKind.Kmalloc);
    add({
      group: 'layer',
      name: c.name,
      unit: 'pairs',
      run: (n) => {
        for (let i = 0; i < n; i++) {
          const h = layer.map(dev, phys, 256, 'to_device');
          layer.unmap(dev, h, 256, 'to_device');
          sink = h;
        }
        return n;
      },
    });
  }
  for (const stride of [0, 4096]) {
    const m = new Machine(DEFAULT_CONFIG);
    const layer = new DmaLayer(m, builtinPolicy('iommu'));
    const dev = layer.addDevice(64, false);
    layer.setMask(dev, 64, false);
    layer.setMask(dev, 64, true);
    const phys = m.pages.alloc(128 * 4096, 'normal', ExtentKind.Kmalloc);
    const h: bigint = layer.map(dev, phys, 128 * 4096, 'bidirectional');
    const addrs = Array.from({ length: 128 }, (_, i) => h + BigInt(i * stride + 128));
    const buf = new Uint8Array(64);
    add({
      group: 'access',
      name: stride ? 'miss' : 'hit',
      unit: 'accesses',
      run: (n) => {
        let k = 0;
        for (let i = 0; i < n; i++) {
          const w = (i & 1) === 0;
          m.bus.translate(dev, 64, addrs[k]!, 64, w);
          if (w) m.bus.write(buf);
          else m.bus.read(buf);
          if (++k === 128) k = 0;
        }
        return n;
      },
    });
  }
  for (const c of [
    { name: 'iommu-strict', bits: 64, pol: 'iommu' },
    { name: 'bounce', bits: 32, pol: 'direct' },
  ]) {
    const lp = loadProgramText(mapUnmapProgramText(1000, { maskBits: c.bits }), 'ab');
    const m = new Machine(lp.config);
    const p = builtinPolicy(c.pol);
    add({
      group: 'executor',
      name: c.name,
      unit: 'pairs',
      warmupMs: 1500,
      run: (n) => {
        for (let i = 0; i < n; i++) sink = runProgram(lp.program, m, p);
        return n * 1000;
      },
    });
  }
  {
    const lp = loadProgramText(mixedProgramText({ statements: 60 }), 'ab-small');
    const m = new Machine(lp.config);
    const p = builtinPolicy('iommu');
    add({
      group: 'reset',
      name: 'after 60 stmts',
      unit: 'resets',
      batch: 200,
      run: (n) => {
        let ms = 0;
        for (let i = 0; i < n; i++) {
          runProgram(lp.program, m, p);
          const t0 = performance.now();
          m.reset();
          ms += performance.now() - t0;
        }
        return { units: n, ms };
      },
    });
  }
  const lp = loadProgramText(mixedProgramText(), 'ab');
  const m = new Machine(lp.config);
  for (const pol of ['direct', 'iommu', 'commit-on-map']) {
    const p = builtinPolicy(pol);
    add({
      group: 'program',
      name: pol,
      unit: 'stmts',
      warmupMs: 1500,
      run: (n) => {
        let s = 0;
        for (let i = 0; i < n; i++) s += runProgram(lp.program, m, p).steps;
        return s;
      },
    });
  }
  return cases;
}

const before = await casesOf(beforeDir, 'before');
const after = await casesOf(afterDir, 'after');
const all: BenchCase[] = [];
for (let i = 0; i < before.length; i++) all.push(before[i]!, after[i]!);
const res = benchSuite(all, { reps, warmupMs: 300, targetMs: 150 });
console.log(table(res));
console.log('');
for (let i = 0; i + 1 < res.length; i += 2) {
  const b = res[i]!;
  const a = res[i + 1]!;
  const ratios = a.rates.map((r, k) => r / b.rates[k]!).sort((x, y) => x - y);
  console.log(`${b.group}/${b.name.replace(/ before$/, '')}: x${ratios[ratios.length >> 1]!.toFixed(2)} (paired median; range x${ratios[0]!.toFixed(2)}-x${ratios[ratios.length - 1]!.toFixed(2)})`);
}
void sink;

/**
 * `npm run bench`: the model's own throughput on this machine (one core),
 * measured side by side in one run. Not a test: it prints figures, and
 * PASS/SHORT against the targets of the performance issue.
 *
 *   node --import tsx bench/run.ts [--reps N] [--warmup MS] [--target MS] [--filter REGEX] [--json FILE]
 *
 * Groups:
 *   layer     map+unmap pairs at the DmaLayer (direct, bounce, iommu-strict, iommu-lazy)
 *   executor  the same pairs as statements through runProgram (oracles on)
 *   coherent  alloc+free coherent pairs at the DmaLayer
 *   access    device accesses: Bus.translate + 64-byte read/write (IOTLB hit, miss, no IOMMU)
 *   reset     Machine.reset after a small program
 *   program   the 10,000-statement mixed program (bench/programs.ts) under every built-in policy
 */
import fs from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { applyMachineWords, DEFAULT_CONFIG } from '../src/machine/config.js';
import { Machine } from '../src/machine/machine.js';
import { ExtentKind } from '../src/machine/page-allocator.js';
import { DmaLayer, DMA_MAPPING_ERROR } from '../src/dma/mapping.js';
import { AccessStatus } from '../src/iommu/bus.js';
import { builtinPolicy, BUILTIN_POLICY_NAMES } from '../src/policy/registry.js';
import { runProgram } from '../src/exec/executor.js';
import { loadProgramText } from '../src/exec/load.js';
import type { MachineWord, Program } from '../src/program/ast.js';
import type { MapPath } from '../src/dma/outcome.js';
import { bench, benchTimed, fmtRate, table, type BenchOptions, type BenchResult } from './harness.js';
import { mapUnmapProgramText, mixedProgramText } from './programs.js';

// ---- options ---------------------------------------------------------------

function argValue(flag: string): string | undefined {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const opts: BenchOptions = {
  reps: Number(argValue('--reps') ?? 7),
  warmupMs: Number(argValue('--warmup') ?? 300),
  targetMs: Number(argValue('--target') ?? 150),
};
const filter = argValue('--filter') ? new RegExp(argValue('--filter')!) : undefined;
const jsonFile = argValue('--json');
const wanted = (group: string, name: string) => !filter || filter.test(`${group}/${name}`);

/** Keeps results alive so the JIT cannot drop the work. */
let sink: unknown;

// ---- set-up helpers -----------------------------------------------------------

function words(text: string): MachineWord[] {
  return text
    .split(/\s+/)
    .filter(Boolean)
    .map((w, i) => {
      const eq = w.indexOf('=');
      return { key: w.slice(0, eq), value: w.slice(eq + 1), column: i + 1 };
    });
}

function machine(text = ''): Machine {
  return new Machine(applyMachineWords(DEFAULT_CONFIG, words(text)));
}

function policy(name: string) {
  const p = builtinPolicy(name);
  if (!p) throw new Error(`no built-in policy '${name}'`);
  return p;
}

/** A machine, a layer over it and one 64-bit-wide device with the given masks. */
function layerSetup(machineWords: string, policyName: string, maskBits: number, coherentBits = maskBits) {
  const m = machine(machineWords);
  const layer = new DmaLayer(m, policy(policyName));
  const dev = layer.addDevice(64, false);
  if (layer.setMask(dev, maskBits, false) !== 0 || layer.setMask(dev, coherentBits, true) !== 0) throw new Error('setMask failed');
  return { m, layer, dev };
}

function fail(msg: string): never {
  throw new Error(`bench set-up: ${msg}`);
}

const results: BenchResult[] = [];
function record(r: BenchResult | undefined, note?: string): void {
  if (!r) return;
  if (note) r.note = note;
  results.push(r);
  process.stderr.write(`  ${r.group}/${r.name}: ${fmtRate(r.median)} ${r.unit}/s\n`);
}

// ---- layer: map+unmap pairs -----------------------------------------------------------

const PAIR_CASES: ReadonlyArray<{ name: string; machine: string; policy: string; maskBits: number; zone: 'normal' | 'dma32'; path: MapPath }> = [
  { name: 'direct', machine: '', policy: 'direct', maskBits: 64, zone: 'normal', path: 'direct' },
  { name: 'bounce', machine: '', policy: 'direct', maskBits: 32, zone: 'normal', path: 'bounce' },
  { name: 'iommu-strict', machine: 'inval=strict', policy: 'iommu', maskBits: 64, zone: 'normal', path: 'iommu' },
  { name: 'iommu-lazy', machine: 'inval=lazy', policy: 'iommu', maskBits: 64, zone: 'normal', path: 'iommu' },
];
const PAIR_BYTES = 256;

function layerPairs(): void {
  for (const c of PAIR_CASES) {
    if (!wanted('layer', c.name)) continue;
    const { m, layer, dev } = layerSetup(c.machine, c.policy, c.maskBits);
    const phys = m.pages.alloc(PAIR_BYTES, c.zone, ExtentKind.Kmalloc);
    if (phys < 4 * 2 ** 30) fail(`${c.name}: buffer not above 4 GiB`);
    const h = layer.map(dev, phys, PAIR_BYTES, 'to_device');
    if (h === DMA_MAPPING_ERROR || layer.out.path !== c.path) fail(`${c.name}: map went ${layer.out.path}, expected ${c.path}`);
    layer.unmap(dev, h, PAIR_BYTES, 'to_device');
    if (layer.out.layerError) fail(`${c.name}: ${layer.out.layerError}`);
    const r = bench('layer', `map+unmap ${c.name}`, 'pairs', (n) => {
      let last = 0n;
      for (let i = 0; i < n; i++) {
        const handle = layer.map(dev, phys, PAIR_BYTES, 'to_device');
        layer.unmap(dev, handle, PAIR_BYTES, 'to_device');
        last = handle;
      }
      sink = last;
      return n;
    }, opts);
    record(r, `${PAIR_BYTES} B to_device, ${c.maskBits}-bit mask`);
  }
}

// ---- executor: the same pairs as statements ---------------------------------------------

const EXEC_PAIRS = 1000;

function executorPairs(): void {
  for (const c of PAIR_CASES) {
    if (!wanted('executor', c.name)) continue;
    const lp = loadProgramText(mapUnmapProgramText(EXEC_PAIRS, { maskBits: c.maskBits, machine: c.machine, len: PAIR_BYTES }), 'bench-pairs');
    const m = new Machine(lp.config);
    const p = policy(c.policy);
    const probe = runProgram(lp.program, m, p, { trace: true });
    if (probe.verdict.verdict !== 'ok') fail(`executor ${c.name}: ${probe.verdict.kind} ${probe.verdict.message}`);
    if (!probe.trace.some((t) => t.path === c.path)) fail(`executor ${c.name}: no statement took path ${c.path}`);
    const r = bench('executor', `map+unmap ${c.name}`, 'pairs', (n) => {
      for (let i = 0; i < n; i++) sink = runProgram(lp.program, m, p);
      return n * EXEC_PAIRS;
    }, opts);
    record(r, `3 stmts/pair (map_single, mapping_error, unmap_single)`);
  }
}

// ---- coherent alloc+free ------------------------------------------------------------

function coherentPairs(): void {
  for (const c of [
    { name: 'direct', policy: 'direct', path: 'direct' },
    { name: 'iommu', policy: 'iommu', path: 'iommu' },
  ] as const) {
    if (!wanted('coherent', c.name)) continue;
    const { layer, dev } = layerSetup('', c.policy, 64);
    const size = 4096;
    const probe = layer.allocCoherent(dev, size);
    if (probe === undefined || layer.out.path !== c.path) fail(`coherent ${c.name}: alloc went ${layer.out.path}`);
    layer.freeCoherent(dev, probe, layer.lastPhys, size);
    if (layer.out.layerError) fail(`coherent ${c.name}: ${layer.out.layerError}`);
    const r = bench('coherent', `alloc+free ${c.name}`, 'pairs', (n) => {
      for (let i = 0; i < n; i++) {
        const handle = layer.allocCoherent(dev, size)!;
        layer.freeCoherent(dev, handle, layer.lastPhys, size);
        sink = handle;
      }
      return n;
    }, opts);
    record(r, '4 KiB, 64-bit masks');
  }
}

// ---- device accesses ------------------------------------------------------------------

const ACCESS_PAGES = 128;

function deviceAccesses(): void {
  const cases = [
    { name: 'iommu, IOTLB hit', policy: 'iommu', stride: 0 },
    { name: 'iommu, IOTLB miss', policy: 'iommu', stride: 4096 },
    { name: 'no IOMMU (direct)', policy: 'direct', stride: 0 },
  ];
  for (const c of cases) {
    if (!wanted('access', c.name)) continue;
    const { m, layer, dev } = layerSetup('', c.policy, 64);
    const bytes = ACCESS_PAGES * 4096;
    const phys = m.pages.alloc(bytes, 'normal', ExtentKind.Kmalloc);
    const handle = layer.map(dev, phys, bytes, 'bidirectional');
    if (handle === DMA_MAPPING_ERROR) fail(`access ${c.name}: map failed`);
    // 128 pages walked in order: each of the 16 IOTLB sets sees 8 pages round-robin, 4 ways, LRU -> every access misses
    const addrs = Array.from({ length: ACCESS_PAGES }, (_, i) => handle + BigInt(i * c.stride + 128));
    const buf = new Uint8Array(64);
    const bus = m.bus;
    // probe: the expected hit/miss behaviour
    bus.translate(dev, 64, addrs[0]!, 64, false);
    bus.translate(dev, 64, addrs[1 % ACCESS_PAGES]!, 64, false);
    const base = m.costs.deviceAccessNs;
    bus.translate(dev, 64, addrs[2 % ACCESS_PAGES]!, 64, false);
    const missed = bus.costNs > base;
    if (c.policy === 'iommu' && missed !== c.stride > 0) fail(`access ${c.name}: expected ${c.stride > 0 ? 'misses' : 'hits'}`);
    const r = bench('access', c.name, 'accesses', (n) => {
      let k = 0;
      for (let i = 0; i < n; i++) {
        const write = (i & 1) === 0;
        const st = bus.translate(dev, 64, addrs[k]!, 64, write);
        if (st !== AccessStatus.Ok) throw new Error('access refused');
        if (write) bus.write(buf);
        else bus.read(buf);
        if (++k === ACCESS_PAGES) k = 0;
      }
      sink = buf[0];
      return n;
    }, opts);
    record(r, '64 B, alternating write/read');
  }
}

// ---- resets -----------------------------------------------------------------------------

function resets(): void {
  const lp = loadProgramText(mixedProgramText({ statements: 60 }), 'bench-small');
  for (const name of ['iommu', 'direct']) {
    if (!wanted('reset', name)) continue;
    const m = new Machine(lp.config);
    const p = policy(name);
    const probe = runProgram(lp.program, m, p);
    if (probe.verdict.verdict !== 'ok') fail(`reset ${name}: small program ${probe.verdict.kind}`);
    const r = benchTimed('reset', `reset after 60-stmt program (${name})`, 'resets', (n) => {
      let ms = 0;
      for (let i = 0; i < n; i++) {
        runProgram(lp.program, m, p); // untimed: dirty the machine
        const t0 = performance.now();
        m.reset();
        ms += performance.now() - t0;
      }
      return ms;
    }, 200, opts);
    record(r, 'only the reset is timed');
  }
}

// ---- the mixed program ------------------------------------------------------------------

const MUST_BE_OK = ['direct', 'iommu', 'commit-on-map'];
const STATEMENT_TARGET = 500_000;
const PAIR_TARGET = 500_000;

function mixedProgram(): BenchResult[] {
  const lp = loadProgramText(mixedProgramText(), 'bench');
  const program: Program = lp.program;
  const count = program.statements.length;
  const out: BenchResult[] = [];
  const m = new Machine(lp.config);
  for (const name of BUILTIN_POLICY_NAMES) {
    if (!wanted('program', name)) continue;
    const p = policy(name);
    const probe = runProgram(program, m, p);
    const v = probe.verdict;
    const verdict = v.verdict === 'ok' ? 'ok' : `${v.kind} at line ${v.line} (statement ${probe.steps} of ${count})`;
    if (MUST_BE_OK.includes(name) && v.verdict !== 'ok') {
      process.stderr.write(`the mixed program must be ok under ${name}, got: ${verdict}\n${v.message}\n`);
      process.exitCode = 1;
    }
    const r = bench('program', `${count} stmts, ${name}`, 'stmts', (n) => {
      let steps = 0;
      for (let i = 0; i < n; i++) {
        const res = runProgram(program, m, p);
        steps += res.steps;
        sink = res;
      }
      return steps;
    }, opts);
    record(r, `verdict ${verdict}`);
    out.push(r);
  }
  if (wanted('program', 'trace')) {
    const p = policy('iommu');
    const r = bench('program', `${count} stmts, iommu, trace on`, 'stmts', (n) => {
      let steps = 0;
      for (let i = 0; i < n; i++) steps += runProgram(program, m, p, { trace: true }).steps;
      return steps;
    }, opts);
    record(r, 'as replay runs it (trace entries kept)');
  }
  return out;
}

// ---- main ---------------------------------------------------------------------------------

const started = performance.now();
process.stderr.write(`dmafuzz bench: ${os.cpus()[0]?.model ?? 'cpu'} x${os.availableParallelism()}, node ${process.version}; reps=${opts.reps} warmup=${opts.warmupMs}ms target=${opts.targetMs}ms\n`);
layerPairs();
executorPairs();
coherentPairs();
deviceAccesses();
resets();
const programs = mixedProgram();

console.log(table(results));
console.log('');
const strict = results.find((r) => r.group === 'layer' && r.name === 'map+unmap iommu-strict');
const targets: string[] = [];
if (programs.length) {
  const worst = programs.reduce((a, b) => (b.median < a.median ? b : a));
  targets.push(
    `target: mixed program >= ${fmtRate(STATEMENT_TARGET)} stmts/s (every policy, oracles on): slowest ${worst.name.replace(/^.*, /, '')} ${fmtRate(worst.median)} -> ${worst.median >= STATEMENT_TARGET ? 'PASS' : 'SHORT'}`,
  );
}
if (strict) {
  targets.push(`target: iommu-strict map+unmap >= ${fmtRate(PAIR_TARGET)} pairs/s: ${fmtRate(strict.median)} -> ${strict.median >= PAIR_TARGET ? 'PASS' : 'SHORT'}`);
}
console.log(targets.join('\n'));
console.log(`(median of ${opts.reps} timed repetitions after warm-up; spread = half the min-max range over the median; ${((performance.now() - started) / 1000).toFixed(0)} s in all)`);
if (jsonFile) {
  fs.writeFileSync(jsonFile, JSON.stringify({ node: process.version, cpu: os.cpus()[0]?.model, date: new Date().toISOString(), opts, results }, null, 2) + '\n');
}

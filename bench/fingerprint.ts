/**
 * Behaviour fingerprint for optimisation work: "same addresses, same
 * results" made checkable. Runs a fixed set of programs (the bench programs
 * and a few hundred pseudo-random ones, legal and not, over several machine
 * configs) under every built-in policy with the trace on, and hashes
 * everything observable: verdicts with their messages, every trace entry
 * (note, path, modelled cost) and the machine state after each run (every
 * region of the machine buffer that is live). Run it before and after a
 * change to the model; the digests must match.
 *
 *   node --import tsx bench/fingerprint.ts [--programs N] [--verbose]
 */
import { createHash, type Hash } from 'node:crypto';
import { Machine } from '../src/machine/machine.js';
import { Reg } from '../src/machine/layout.js';
import { runProgram } from '../src/exec/executor.js';
import { loadProgramText } from '../src/exec/load.js';
import { builtinPolicy, BUILTIN_POLICY_NAMES } from '../src/policy/registry.js';
import { mapUnmapProgramText, mixedProgramText, rng } from './programs.js';

const argIdx = process.argv.indexOf('--programs');
const RANDOM_PROGRAMS = argIdx >= 0 ? Number(process.argv[argIdx + 1]) : 400;
const verbose = process.argv.includes('--verbose');


/** Hashes the live parts of a machine's state. */
function hashMachine(h: Hash, m: Machine): void {
  const v = m.v as unknown as Record<string, ArrayBufferView & { length: number }>;
  for (const name of Object.keys(v).sort()) {
    // the event register is coverage scratch (events.ts), not machine state
    if (name === 'events') continue;
    const a = v[name]!;
    let bytes = Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    if (name === 'frameBytes') bytes = bytes.subarray(0, m.v.regs[Reg.framesUsed]! * m.cfg.pageBytes);
    if (name === 'touchedSlots') bytes = bytes.subarray(0, m.v.regs[Reg.touchedCount]! * 4);
    if (name === 'ptEntries') {
      for (let t = 0; t < m.v.ptLevel.length; t++) {
        if (m.v.ptLevel[t] !== 0) h.update(bytes.subarray(t * 512 * 4, (t + 1) * 512 * 4));
      }
      continue;
    }
    h.update(name);
    h.update(bytes);
  }
}

// ---- a small random program generator (shape only; verdicts are whatever they are) ----

function randomProgram(seed: number): string {
  const r = rng(seed * 7919 + 13);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const chance = (p: number) => r() < p;
  const out: string[] = [];
  const devs: string[] = [];
  const kbufs: Array<{ name: string; size: number }> = [];
  const coh: Array<{ name: string; dev: string; size: number }> = [];
  const maps: Array<{ name: string; dev: string; len: number; dir: string }> = [];
  const sgs: Array<{ name: string; dev: string; n: number }> = [];
  let id = 0;
  const fresh = (p: string) => `${p}${id++}`;
  const sizes = [1, 63, 64, 100, 256, 512, 2048, 4095, 4096, 4097, 6000, 8192, 16384, 65536, 131072, 300000];
  const dirs = ['to_device', 'from_device', 'bidirectional'];
  const masks = [24, 28, 30, 32, 33, 36, 40, 44, 48, 52, 59, 60, 63, 64];
  const recent = <T>(xs: T[]): T => (chance(0.7) ? xs[xs.length - 1]! : pick(xs));
  const n = 10 + Math.floor(r() * 150);
  for (let i = 0; i < n; i++) {
    if (devs.length === 0 || (devs.length < 3 && chance(0.05))) {
      const d = fresh('d');
      devs.push(d);
      out.push(`dev ${d} width=${pick([32, 36, 40, 48, 64, 64, 64])}${chance(0.04) ? ' nomask' : ''}`);
      if (chance(0.8)) out.push(`set_mask_and_coherent ${d} ${pick(masks)}`);
      continue;
    }
    const D = pick(devs);
    const x = r();
    if (x < 0.05) out.push(`${pick(['set_mask', 'set_coherent_mask', 'set_mask_and_coherent'])} ${D} ${pick(masks)}`);
    else if (x < 0.17) {
      const b = fresh('b');
      const size = pick(sizes);
      kbufs.push({ name: b, size });
      out.push(`${b} = kmalloc ${size}${chance(0.2) ? ' zone=' + pick(['dma', 'dma32', 'normal']) : ''}`);
      if (chance(0.6)) out.push(`cpu_write ${b} 0 ${size} seed=${i}`);
    } else if (x < 0.2 && kbufs.length) out.push(`kfree ${recent(kbufs).name}`);
    else if (x < 0.24) {
      const c = fresh('c');
      const size = pick(sizes);
      coh.push({ name: c, dev: D, size });
      out.push(`${c} = alloc_coherent ${D} ${size}`);
    } else if (x < 0.26 && coh.length) {
      const c = recent(coh);
      out.push(`free_coherent ${chance(0.9) ? c.dev : D} ${c.name}`);
    } else if (x < 0.4 && kbufs.length) {
      const b = recent(kbufs);
      const m = fresh('m');
      const off = chance(0.3) ? Math.floor(r() * b.size) : 0;
      const len = Math.max(1, chance(0.9) ? b.size - off : Math.floor(r() * b.size * 1.2));
      const dir = pick(dirs);
      maps.push({ name: m, dev: D, len, dir });
      out.push(`${m} = ${chance(0.8) ? 'map_single' : 'map_page'} ${D} ${b.name} ${off} ${len} ${dir}`);
      if (chance(0.9)) out.push(`mapping_error ${D} ${m}`);
    } else if (x < 0.48 && maps.length) {
      const m = recent(maps);
      const extra = chance(0.1) ? ` ${Math.max(1, m.len + pick([-1, 0, 1]))}` : '';
      const dir = chance(0.08) ? ` ${pick(dirs)}` : '';
      out.push(`${chance(0.8) ? 'unmap_single' : 'unmap_page'} ${chance(0.95) ? m.dev : D} ${m.name}${extra}${dir}`);
    } else if (x < 0.52 && kbufs.length >= 2) {
      const g = fresh('g');
      const k = 1 + Math.floor(r() * Math.min(4, kbufs.length));
      const names = kbufs.slice(-k).map((b) => b.name);
      sgs.push({ name: g, dev: D, n: k });
      out.push(`${g} = map_sg ${D} [${names.join(' ')}] ${pick(dirs)}`);
    } else if (x < 0.55 && sgs.length) {
      const g = recent(sgs);
      out.push(`unmap_sg ${g.dev} ${g.name}${chance(0.1) ? ' ' + pick(dirs) : ''}`);
    } else if (x < 0.63 && (maps.length || sgs.length)) {
      const useSg = sgs.length > 0 && (maps.length === 0 || chance(0.3));
      const s = useSg ? recent(sgs) : recent(maps);
      const range = !useSg && chance(0.3) ? ` ${Math.floor(r() * 64)} ${1 + Math.floor(r() * 128)}` : '';
      out.push(`${pick(['sync_for_cpu', 'sync_for_device'])} ${s.dev} ${s.name}${range}${chance(0.05) ? ' ' + pick(dirs) : ''}`);
    } else if (x < 0.72 && (kbufs.length || coh.length)) {
      const b = coh.length && chance(0.3) ? recent(coh) : kbufs.length ? recent(kbufs) : recent(coh);
      const off = chance(0.7) ? 0 : Math.floor(r() * b.size);
      const len = Math.max(1, Math.min(b.size - off + (chance(0.05) ? 8 : 0), 1 + Math.floor(r() * 600)));
      out.push(chance(0.5) ? `cpu_write ${b.name} ${off} ${len} seed=${i}` : `cpu_read ${b.name} ${off} ${len}`);
    } else if (x < 0.86 && (maps.length || coh.length || sgs.length)) {
      const which = r();
      let target: string;
      let dev: string;
      let max: number;
      if (which < 0.5 && maps.length) {
        const m = recent(maps);
        target = m.name;
        dev = m.dev;
        max = m.len;
      } else if (which < 0.75 && coh.length) {
        const c = recent(coh);
        target = c.name;
        dev = c.dev;
        max = c.size;
      } else if (sgs.length) {
        const g = recent(sgs);
        target = `${g.name}[${Math.floor(r() * (g.n + 1))}]`;
        dev = g.dev;
        max = 64;
      } else continue;
      if (chance(0.03)) dev = D;
      const off = chance(0.7) ? 0 : Math.floor(r() * max);
      const len = Math.max(1, Math.min(max - off, 1 + Math.floor(r() * 9000)));
      out.push(chance(0.5) ? `dev_write ${dev} ${target} ${off} ${len} seed=${i}` : `dev_read ${dev} ${target} ${off} ${len}`);
    } else if (x < 0.9) {
      const addrs = ['0', '0x1000', '0xfee00000', '0xfffff000', '0x100000000', '0x17ffff000', '0x800000000000000', '0x800000100000000', '0xffffffffffffffff', '0xfffffffffffff000', '0xffff000', String(Math.floor(r() * 2 ** 33))];
      const write = chance(0.5);
      out.push(`${write ? 'dev_write_raw' : 'dev_read_raw'} ${D} ${pick(addrs)} ${pick([1, 8, 64, 4096, 5000])}${write ? ` seed=${i}` : ''}`);
    } else if (x < 0.95) out.push('tick');
    else if (x < 0.97) out.push(`unbind ${D}`);
  }
  return out.join('\n') + '\n';
}

/**
 * A mostly legal driver: tracks what is mapped and who owns it, so runs go
 * deep (mask changes still trip the weaker policies, which is fine); one
 * statement in ~400 is a deliberate misuse.
 */
function legalishProgram(seed: number): string {
  const r = rng(seed * 104729 + 7);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const chance = (p: number) => r() < p;
  interface Buf { name: string; size: number; freed: boolean; mapped: boolean }
  interface Map1 { name: string; dev: string; buf: Buf; len: number; dir: string; owner: 'device' | 'cpu' }
  interface Sg { name: string; dev: string; bufs: Buf[]; dir: string; owner: 'device' | 'cpu' }
  interface Coh { name: string; dev: string; size: number }
  const out: string[] = [];
  const devs: string[] = [];
  const bufs: Buf[] = [];
  const maps: Map1[] = [];
  const sgs: Sg[] = [];
  const cohs: Coh[] = [];
  let id = 0;
  const fresh = (p: string) => `${p}${id++}`;
  const sizes = [8, 64, 200, 512, 1000, 2048, 4096, 4100, 8192, 12288, 65536];
  const dirs = ['to_device', 'from_device', 'bidirectional'];
  const masks = [24, 30, 32, 33, 36, 40, 48, 60, 64, 64];
  const nDev = 1 + Math.floor(r() * 3);
  for (let i = 0; i < nDev; i++) {
    const d = fresh('d');
    devs.push(d);
    out.push(`dev ${d} width=${pick([32, 40, 48, 64, 64])}`);
    out.push(`set_mask_and_coherent ${d} ${pick(masks)}`);
  }
  const n = 50 + Math.floor(r() * 400);
  for (let i = 0; i < n; i++) {
    const D = pick(devs);
    const x = r();
    const live = bufs.filter((b) => !b.freed);
    if (chance(1 / 400)) {
      // a deliberate misuse of some kind
      const m = maps[0];
      if (m && chance(0.5)) out.push(`unmap_single ${m.dev} ${m.name} ${m.len + 1}`);
      else if (live.length) out.push(`kfree ${live[0]!.name}`);
      continue;
    }
    if (x < 0.04) out.push(`${pick(['set_mask', 'set_coherent_mask', 'set_mask_and_coherent'])} ${D} ${pick(masks)}`);
    else if (x < 0.16) {
      const b: Buf = { name: fresh('b'), size: pick(sizes), freed: false, mapped: false };
      bufs.push(b);
      out.push(`${b.name} = kmalloc ${b.size}${chance(0.15) ? ' zone=' + pick(['dma', 'dma32']) : ''}`);
    } else if (x < 0.2) {
      const b = live.find((q) => !q.mapped);
      if (b) {
        out.push(`kfree ${b.name}`);
        b.freed = true;
      }
    } else if (x < 0.25) {
      const b = live.find((q) => !q.mapped);
      if (b) out.push(`cpu_write ${b.name} 0 ${b.size} seed=${i}`);
    } else if (x < 0.36) {
      const b = live.find((q) => !q.mapped);
      if (!b) continue;
      const m: Map1 = { name: fresh('m'), dev: D, buf: b, len: b.size, dir: pick(dirs), owner: 'device' };
      out.push(`${m.name} = map_single ${D} ${b.name} 0 ${b.size} ${m.dir}`, `mapping_error ${D} ${m.name}`);
      b.mapped = true;
      maps.push(m);
    } else if (x < 0.42 && maps.length) {
      const m = maps.splice(Math.floor(r() * maps.length), 1)[0]!;
      out.push(`unmap_single ${m.dev} ${m.name}`);
      m.buf.mapped = false;
      if (chance(0.5)) out.push(`cpu_read ${m.buf.name} 0 ${m.buf.size}`);
    } else if (x < 0.58 && maps.length) {
      const m = pick(maps);
      if (m.owner === 'device') {
        const len = Math.min(m.len, pick([1, 64, 512, 4096, 9000]));
        if (m.dir !== 'to_device' && chance(0.6)) out.push(`dev_write ${m.dev} ${m.name} 0 ${len} seed=${i}`);
        else if (m.dir !== 'from_device') out.push(`dev_read ${m.dev} ${m.name} ${m.len - len} ${len}`);
        if (chance(0.4)) {
          out.push(`sync_for_cpu ${m.dev} ${m.name}`);
          m.owner = 'cpu';
        }
      } else {
        out.push(chance(0.5) ? `cpu_read ${m.buf.name} 0 ${m.len}` : `cpu_write ${m.buf.name} 0 ${Math.min(m.len, 100)} seed=${i}`);
        out.push(`sync_for_device ${m.dev} ${m.name}`);
        m.owner = 'device';
      }
    } else if (x < 0.63) {
      const free = live.filter((q) => !q.mapped).slice(0, 1 + Math.floor(r() * 3));
      if (free.length === 0) continue;
      const g: Sg = { name: fresh('g'), dev: D, bufs: free, dir: pick(dirs), owner: 'device' };
      out.push(`${g.name} = map_sg ${D} [${free.map((b) => b.name).join(' ')}] ${g.dir}`);
      for (const b of free) b.mapped = true;
      sgs.push(g);
      if (g.dir !== 'to_device') out.push(`dev_write ${D} ${g.name}[0] 0 ${Math.min(free[0]!.size, 64)} seed=${i}`);
      else out.push(`dev_read ${D} ${g.name}[0] 0 ${Math.min(free[0]!.size, 64)}`);
      if (chance(0.5)) out.push(`sync_for_cpu ${D} ${g.name}`, `sync_for_device ${D} ${g.name}`);
    } else if (x < 0.67 && sgs.length) {
      const g = sgs.splice(0, 1)[0]!;
      out.push(`unmap_sg ${g.dev} ${g.name}`);
      for (const b of g.bufs) b.mapped = false;
    } else if (x < 0.72) {
      const c: Coh = { name: fresh('c'), dev: D, size: pick(sizes) };
      cohs.push(c);
      out.push(`${c.name} = alloc_coherent ${D} ${c.size}`);
    } else if (x < 0.78 && cohs.length) {
      const c = pick(cohs);
      const len = Math.min(c.size, 256);
      out.push(`dev_write ${c.dev} ${c.name} 0 ${len} seed=${i}`, `cpu_read ${c.name} 0 ${len}`, `cpu_write ${c.name} 0 ${len} seed=${i + 1}`, `dev_read ${c.dev} ${c.name} 0 ${len}`);
    } else if (x < 0.8 && cohs.length) {
      const c = cohs.splice(0, 1)[0]!;
      out.push(`free_coherent ${c.dev} ${c.name}`);
    } else if (x < 0.86) {
      const addr = pick(['0x1000', '0xfee00000', '0xfffff000', '0x100000000', '0x800000100000000', String(Math.floor(r() * 2 ** 33))]);
      out.push(chance(0.5) ? `dev_read_raw ${D} ${addr} ${pick([8, 64, 4096])}` : `dev_write_raw ${D} ${addr} ${pick([8, 64, 4096])} seed=${i}`);
    } else if (x < 0.9) out.push('tick');
  }
  for (const m of maps) out.push(`unmap_single ${m.dev} ${m.name}`);
  for (const g of sgs) out.push(`unmap_sg ${g.dev} ${g.name}`);
  for (const c of cohs) out.push(`free_coherent ${c.dev} ${c.name}`);
  for (const d of devs) out.push(`unbind ${d}`);
  return out.join('\n') + '\n';
}

// ---- the run ---------------------------------------------------------------------------

const MACHINES = [
  '',
  'inval=lazy fq=4',
  'inval=lazy',
  'page=16K swiotlb=256K swiotlb_map_copy=dir',
  'ram=0-1G',
  'ram=0-3G,4G-64G page=64K',
];

const total = createHash('sha256');
const machines = new Map<string, Machine>();
let runs = 0;
let crashes = 0;
/** verdict kinds and how far runs got, for --verbose */
const kinds = new Map<string, number>();
let steps = 0;
let statements = 0;

function runText(section: Hash, text: string, extraWords: string): void {
  const lp = loadProgramText(text, 'fp', extraWords ? extraWords.split(' ').map((w, i) => ({ key: w.split('=')[0]!, value: w.split('=')[1]!, column: i + 1 })) : []);
  const key = JSON.stringify({ ...lp.config, policy: '' });
  let m = machines.get(key);
  if (!m) machines.set(key, (m = new Machine(lp.config)));
  for (const name of BUILTIN_POLICY_NAMES) {
    const res = runProgram(lp.program, m, builtinPolicy(name)!, { trace: true });
    runs++;
    if (res.verdict.verdict !== 'ok') crashes++;
    const k = res.verdict.kind ?? 'ok';
    kinds.set(k, (kinds.get(k) ?? 0) + 1);
    steps += res.steps;
    statements += lp.program.statements.length;
    section.update(JSON.stringify(res.verdict) + '\n');
    for (const t of res.trace) section.update(`${t.index} ${t.line} ${t.path} ${t.costNs} ${t.note}\n`);
    hashMachine(section, m);
  }
}

function section(name: string, body: (h: Hash) => void): void {
  const h = createHash('sha256');
  const before = runs;
  body(h);
  const d = h.digest('hex');
  total.update(d);
  console.log(`${name.padEnd(28)} ${d.slice(0, 16)}  (${runs - before} runs)`);
}

section('mixed program', (h) => {
  for (const w of ['', 'inval=lazy', 'swiotlb_map_copy=dir']) runText(h, mixedProgramText({ statements: 3000 }), w);
});
section('map+unmap programs', (h) => {
  for (const bits of [64, 32]) for (const w of ['', 'inval=lazy']) runText(h, mapUnmapProgramText(300, { maskBits: bits }), w);
});
for (const mw of MACHINES) {
  section(`random x${RANDOM_PROGRAMS} [${mw || 'default'}]`, (h) => {
    for (let s = 0; s < RANDOM_PROGRAMS; s++) {
      const text = s % 2 === 0 ? randomProgram(s) : legalishProgram(s);
      runText(h, text, mw);
    }
  });
}
if (verbose) {
  console.log(`\nstatements executed ${steps} of ${statements}`);
  for (const [k, c] of [...kinds].sort((a, b) => b[1] - a[1])) console.log(`  ${String(c).padStart(6)}  ${k}`);
}
console.log(`\nfingerprint ${total.digest('hex')}  (${runs} runs, ${crashes} crashed)`);

/**
 * Program generation from "intents". A program is generated as a list of
 * small random records (which kind of step, and a few numbers); a
 * deterministic interpreter turns them into statements against an abstract
 * driver state, adapting or dropping intents that do not fit the state (no
 * buffer to map yet, nothing live to unmap). Two consequences:
 *
 * - in `legal` mode every program keeps the DMA API contract under every
 *   policy (maps are always checked with mapping_error, ownership is handed
 *   over before each access, nothing overlaps, everything is torn down), so
 *   any crash is the layer's fault;
 * - fast-check shrinks the intent list (fewer records, smaller numbers) and
 *   every shrunk list still interprets to a legal program.
 *
 * `misuse` mode lets driver bugs in (a skipped check, a wrong size, a use
 * after unmap, ...) with some probability per intent; `all` mixes both.
 */
import type { Direction, MachineWord, Program, Statement, OpName, ArgValue, SegmentRef } from './ast.js';
import { DIRECTIONS } from './ast.js';

export type GenMode = 'legal' | 'misuse' | 'all';

/** One random step: `k` picks the kind, a..d pick targets and parameters. */
export interface Intent {
  k: number;
  a: number;
  b: number;
  c: number;
  d: number;
}

/**
 * Every intent is built here, fields in this order and each one a small
 * integer, so that all of them share one hidden class with integer fields.
 * A spread copy (`{ ...it }`) gets a map of its own in V8, and a number that
 * arrives boxed (fast-check's and the engine's generators compute in
 * doubles and unsigned 32-bit values, which unoptimized code hands on as
 * heap numbers) turns the fields into boxed doubles for every intent from
 * then on. Either one deoptimized every function that reads intents ("wrong
 * map"), the batch loop that inlines them among them, and had them compiled
 * again (BENCHMARKS.md, eighth pass). `| 0` makes each value a small integer.
 */
export function intent(k: number, a: number, b: number, c: number, d: number): Intent {
  return { k: k | 0, a: a | 0, b: b | 0, c: c | 0, d: d | 0 };
}

/** A copy of `it`, with `b` replaced when given. */
export function copyIntent(it: Intent, b = it.b): Intent {
  return intent(it.k, it.a, b, it.c, it.d);
}

export interface GenOptions {
  mode: GenMode;
  /** devices the prologue creates (1..8) */
  devices?: number;
  machine?: MachineWord[];
  /** emit the teardown (unmap, free, unbind) at the end; default true */
  teardown?: boolean;
}

/** Weighted intent kinds; the weights shape the programs (I/O loops dominate, as in drivers). */
const KINDS = [
  ['io', 14],
  ['mask', 5],
  ['kmalloc', 6],
  ['kfree', 3],
  ['alloc', 4],
  ['free', 2],
  ['map', 6],
  ['map_sg', 3],
  ['unmap', 5],
  ['sync_cpu', 4],
  ['sync_dev', 4],
  ['cpu', 6],
  ['dev', 7],
  ['coherent_io', 5],
  ['tick', 1],
  ['raw', 1],
  ['device', 1],
] as const;
type Kind = (typeof KINDS)[number][0];
const TOTAL_WEIGHT = KINDS.reduce((n, [, w]) => n + w, 0);

/** The kind for each residue of k modulo the total weight: a table, since the interpreter asks once per intent. */
const KIND_OF: readonly Kind[] = KINDS.flatMap(([kind, w]) => Array<Kind>(w).fill(kind));

function kindOf(k: number): Kind {
  return KIND_OF[k % TOTAL_WEIGHT]!;
}

const MASKS = [32, 64, 36, 40, 48, 24, 28];
const SIZES = [64, 256, 512, 2048, 4096, 8192, 16384, 65536];
const COHERENT_SIZES = [2048, 4096, 8192, 32768, 65536];
// choice lists, built once rather than as a literal at every intent
const DEVICE_WIDTHS = [64, 64, 64, 48, 40];
const MASK_OPS = ['set_mask_and_coherent', 'set_mask', 'set_coherent_mask'] as const;
const CPU_LENS = [64, 256, 512, 4096];
const COHERENT_IO_LENS = [8, 64, 128, 2048];
const RAW_ADDRS = [0x1000n, 0x100000000n, 0xfffff000n, 0x10000000n, 0x7000000n];
const IO_LENS = [64, 512, 4096];
const MISUSES = ['no-check', 'wrong-size', 'wrong-dir', 'use-after-unmap', 'no-sync', 'double-unmap', 'leak', 'early-free', 'access-dir', 'raw-after-free'] as const;

interface GDev {
  name: string;
  width: number;
  nomask: boolean;
  bound: boolean;
}
interface GBuf {
  name: string;
  size: number;
  freed: boolean;
  /** the live mappings that include this buffer, oldest first */
  maps: GMap[];
}
interface GCoh {
  name: string;
  dev: GDev;
  size: number;
  freed: boolean;
}
interface GMap {
  name: string;
  sg: boolean;
  dev: GDev;
  bufs: GBuf[];
  off: number;
  len: number;
  dir: Direction;
  owner: 'device' | 'cpu';
  live: boolean;
}

/** The interpreter: intents in, a program out. Pure and deterministic. */
export function buildProgram(intents: readonly Intent[], opts: GenOptions): Program {
  const b = new ProgramBuilder(opts);
  // a short intent list (a shrunk one) gets fewer devices, so counterexamples stay small
  b.probe(Math.min(8, opts.devices ?? 2, Math.max(1, Math.ceil(intents.length / 4))), intents);
  for (const it of intents) b.step(it);
  if (opts.teardown ?? true) b.teardown();
  return b.program();
}

/**
 * The interpreter one intent at a time (what `buildProgram` drives, and what
 * a fast-check `fc.commands` harness can drive command by command): each
 * call appends the statements it decides on to `emitted`.
 */
export class ProgramBuilder {
  private readonly out: Statement[] = [];
  private readonly devs: GDev[] = [];
  private readonly bufs: GBuf[] = [];
  private readonly cohs: GCoh[] = [];
  private readonly maps: GMap[] = [];
  // the live ones, oldest first, kept as the state changes: the same lists a filter over the above
  // would give, without filtering every list at every step (quadratic in long programs)
  private readonly boundDevs: GDev[] = [];
  private readonly liveBufList: GBuf[] = [];
  private readonly liveCohList: GCoh[] = [];
  private readonly liveMapList: GMap[] = [];
  private seed = 1;
  private misuseRoll = 0;

  constructor(private readonly opts: GenOptions) {}

  /** The statements so far, in order. */
  get emitted(): readonly Statement[] {
    return this.out;
  }

  /** The probe: `ndev` devices and their masks (drivers set masks first thing), shaped by the first intents. */
  probe(ndev: number, intents: readonly Intent[] = []): void {
    for (let i = 0; i < ndev; i++) this.addDevice(i < intents.length ? intents[i]! : intent(0, i, 0, 0, 0));
  }

  /** The whole program, its statements numbered as they print on their own (marker, machine line, statements). */
  program(): Program {
    const machine = this.opts.machine ?? [];
    const first = machine.length > 0 ? 3 : 2;
    this.out.forEach((s, i) => (s.line = first + i));
    return { header: [], machine, machineLine: machine.length > 0 ? 2 : 0, statements: this.out };
  }

  // ---- helpers

  private emit(op: OpName, args: Record<string, ArgValue | undefined>, bind?: string): void {
    this.out.push({ op, bind, args, line: 0, column: 0 });
  }

  private nextSeed(): number {
    this.seed = (this.seed * 1103515245 + 12345) % 2 ** 31;
    // a small integer, not a heap number: it is stored in the statement's arguments
    return (this.seed % 1000) | 0;
  }

  private pick<T>(list: readonly T[], n: number): T | undefined {
    return list.length ? list[n % list.length] : undefined;
  }

  /** In misuse/all mode, roughly one intent in eight (misuse) or twenty (all) carries a driver bug. */
  private misuse(it: Intent): (typeof MISUSES)[number] | undefined {
    if (this.opts.mode === 'legal') return undefined;
    this.misuseRoll++;
    const every = this.opts.mode === 'misuse' ? 8 : 20;
    if ((it.d + this.misuseRoll) % every !== 0) return undefined;
    return MISUSES[(it.c + it.a) % MISUSES.length];
  }

  // the live lists are the builder's own: callers read them and never change them
  private liveDevs(): readonly GDev[] {
    return this.boundDevs;
  }
  private liveBufs(): readonly GBuf[] {
    return this.liveBufList;
  }
  private liveMaps(): readonly GMap[] {
    return this.liveMapList;
  }
  private liveCohs(): readonly GCoh[] {
    return this.liveCohList;
  }
  private mapsOf(b: GBuf): readonly GMap[] {
    return b.maps;
  }

  // ---- state changes (each keeps the live lists)

  private freeBuf(b: GBuf): void {
    b.freed = true;
    remove(this.liveBufList, b);
  }

  private addMap(m: GMap): void {
    this.maps.push(m);
    this.liveMapList.push(m);
    for (const b of m.bufs) b.maps.push(m);
  }

  private endMap(m: GMap): void {
    m.live = false;
    remove(this.liveMapList, m);
    for (const b of m.bufs) remove(b.maps, m);
  }

  // ---- intents

  /** One intent: the statements it makes in the current state (none when it does not fit). */
  step(it: Intent): void {
    switch (kindOf(it.k)) {
      case 'device':
        if (this.devs.length < 8) this.addDevice(it);
        return;
      case 'mask':
        return this.setMask(it);
      case 'kmalloc':
        this.kmalloc(it);
        return;
      case 'kfree':
        return this.kfree(it);
      case 'alloc':
        this.alloc(it);
        return;
      case 'free':
        return this.freeCoherent(it);
      case 'map':
        this.map(it);
        return;
      case 'map_sg':
        return this.mapSg(it);
      case 'unmap':
        return this.unmap(this.pick(this.liveMaps(), it.a), it);
      case 'sync_cpu':
        return this.sync(this.pick(this.liveMaps(), it.a), true);
      case 'sync_dev':
        return this.sync(this.pick(this.liveMaps(), it.a), false);
      case 'cpu':
        return this.cpuAccess(it);
      case 'dev':
        return this.devAccess(it);
      case 'coherent_io':
        return this.coherentIo(it);
      case 'tick':
        this.emit('tick', {});
        return;
      case 'raw':
        return this.raw(it);
      case 'io':
        return this.ioLoop(it);
    }
  }

  private addDevice(it: Intent): void {
    const name = `d${this.devs.length}`;
    const nomask = this.opts.mode !== 'legal' && it.b % 23 === 7;
    const width = DEVICE_WIDTHS[it.c % 5]!;
    const dev: GDev = { name, width, nomask, bound: true };
    this.devs.push(dev);
    this.boundDevs.push(dev);
    this.emit('dev', { width, nomask: nomask || undefined }, name);
    if (nomask) return;
    const bits = Math.min(width, MASKS[it.a % 2]!); // probe sets 32 or 64 bits
    this.emit('set_mask_and_coherent', { dev: name, bits });
  }

  private setMask(it: Intent): void {
    const dev = this.pick(this.liveDevs(), it.a);
    if (!dev || dev.nomask) return;
    let bits = MASKS[it.b % MASKS.length]!;
    // a legal driver never claims more address bits than its device drives
    if (bits > dev.width && !(this.misuse(it) === 'wrong-size')) bits = dev.width;
    const op: OpName = MASK_OPS[it.c % 3]!;
    this.emit(op, { dev: dev.name, bits });
  }

  private kmalloc(it: Intent): GBuf {
    const b: GBuf = { name: `b${this.bufs.length}`, size: SIZES[it.b % SIZES.length]!, freed: false, maps: [] };
    this.bufs.push(b);
    this.liveBufList.push(b);
    const zone = it.c % 7 === 3 ? 'dma32' : it.c % 13 === 5 ? 'dma' : undefined;
    this.emit('kmalloc', { size: b.size, zone }, b.name);
    return b;
  }

  private kfree(it: Intent): void {
    const m = this.misuse(it);
    const candidates = this.liveBufs().filter((b) => m === 'early-free' || this.mapsOf(b).length === 0);
    const b = this.pick(candidates, it.a);
    if (!b) return;
    this.emit('kfree', { buf: b.name });
    this.freeBuf(b);
  }

  private alloc(it: Intent): GCoh | undefined {
    const dev = this.pick(this.liveDevs(), it.a);
    if (!dev) return undefined;
    const c: GCoh = { name: `c${this.cohs.length}`, dev, size: COHERENT_SIZES[it.b % COHERENT_SIZES.length]!, freed: false };
    this.cohs.push(c);
    this.liveCohList.push(c);
    this.emit('alloc_coherent', { dev: dev.name, size: c.size }, c.name);
    return c;
  }

  private freeCoherent(it: Intent): void {
    const c = this.pick(this.liveCohs(), it.a);
    if (!c || !c.dev.bound) return;
    this.emit('free_coherent', { dev: c.dev.name, buf: c.name });
    c.freed = true;
    remove(this.liveCohList, c);
  }

  /** A single mapping of a live buffer, checked with mapping_error (unless a misuse skips it). */
  private map(it: Intent, dirHint?: Direction): GMap | undefined {
    const dev = this.pick(this.liveDevs(), it.a);
    let b = this.pick(this.liveBufs(), it.b);
    if (!dev) return undefined;
    if (!b || (this.mapsOf(b).length > 0 && it.c % 2 === 0)) b = this.kmalloc(it);
    const dir = dirHint ?? DIRECTIONS[it.c % 3]!;
    const size = b.size;
    const off = size >= 512 && it.d % 3 === 1 ? Math.min(size >> 1, 256) : 0;
    const len = Math.max(1, Math.min(size - off, [size - off, 64, 512, 4096][it.d % 4]!));
    // legal: no overlap with a live mapping unless both are to_device
    const target = b;
    const clash = this.mapsOf(target).some((m) => !(dir === 'to_device' && m.dir === 'to_device') && overlaps(m, target, off, len));
    if (clash) b = this.kmalloc(copyIntent(it, it.b + 1));
    const m: GMap = { name: `m${this.maps.length}`, sg: false, dev, bufs: [b], off: clash ? 0 : off, len: clash ? Math.min(len, b.size) : len, dir, owner: 'device', live: true };
    this.addMap(m);
    this.emit(it.k % 2 ? 'map_page' : 'map_single', { dev: dev.name, buf: b.name, off: m.off, len: m.len, dir }, m.name);
    if (this.misuse(it) !== 'no-check') this.emit('mapping_error', { dev: dev.name, map: m.name });
    return m;
  }

  private mapSg(it: Intent): void {
    const dev = this.pick(this.liveDevs(), it.a);
    if (!dev) return;
    const n = 1 + (it.b % 4);
    const bufs: GBuf[] = [];
    for (let i = 0; i < n; i++) {
      const free = this.liveBufs().filter((b) => this.mapsOf(b).length === 0 && !bufs.includes(b));
      bufs.push(this.pick(free, it.c + i) ?? this.kmalloc(copyIntent(it, it.b + i)));
    }
    const dir = DIRECTIONS[it.d % 3]!;
    const m: GMap = { name: `s${this.maps.length}`, sg: true, dev, bufs, off: 0, len: bufs[0]!.size, dir, owner: 'device', live: true };
    this.addMap(m);
    this.emit('map_sg', { dev: dev.name, bufs: bufs.map((b) => b.name), dir }, m.name);
  }

  private unmap(m: GMap | undefined, it: Intent): void {
    if (!m || !m.dev.bound) return;
    const bug = this.misuse(it);
    if (m.sg) {
      this.emit('unmap_sg', { dev: m.dev.name, sg: m.name, dir: bug === 'wrong-dir' ? DIRECTIONS[(DIRECTIONS.indexOf(m.dir) + 1) % 3] : undefined });
    } else {
      this.emit('unmap_single', {
        dev: m.dev.name,
        map: m.name,
        len: bug === 'wrong-size' ? m.len + 64 : undefined,
        dir: bug === 'wrong-dir' ? DIRECTIONS[(DIRECTIONS.indexOf(m.dir) + 1) % 3] : undefined,
      });
    }
    this.endMap(m);
    if (bug === 'double-unmap') this.emit(m.sg ? 'unmap_sg' : 'unmap_single', m.sg ? { dev: m.dev.name, sg: m.name } : { dev: m.dev.name, map: m.name });
    if (bug === 'use-after-unmap') this.deviceTouch(m, it, m.dir === 'to_device' ? false : true);
  }

  private sync(m: GMap | undefined, forCpu: boolean): void {
    if (!m || !m.dev.bound) return;
    this.emit(forCpu ? 'sync_for_cpu' : 'sync_for_device', { dev: m.dev.name, map: m.name });
    m.owner = forCpu ? 'cpu' : 'device';
  }

  /** Hands every device-owned mapping of b[off, off+len) to the CPU, as a correct driver does before touching it. */
  private takeForCpu(b: GBuf, off: number, len: number): GMap[] {
    const taken = this.mapsOf(b).filter((m) => m.owner === 'device' && overlaps(m, b, off, len));
    for (const m of taken) this.sync(m, true);
    return taken;
  }

  /** CPU access to a buffer range the CPU owns (legal), or anywhere (misuse). */
  private cpuAccess(it: Intent): void {
    const b = this.pick(this.liveBufs(), it.a);
    if (!b) return;
    const bug = this.misuse(it);
    const write = it.b % 2 === 0;
    const len = Math.min(b.size, CPU_LENS[it.c % 4]!);
    const off = Math.min(b.size - len, (it.d % 4) * 64);
    if (bug !== 'no-sync') this.takeForCpu(b, off, len);
    this.emit(write ? 'cpu_write' : 'cpu_read', { buf: b.name, off, len, seed: write ? this.nextSeed() : undefined });
  }

  /** Device access through a live mapping, after handing it to the device; the direction decides read or write. */
  private devAccess(it: Intent): void {
    const m = this.pick(this.liveMaps(), it.a);
    if (!m || !m.dev.bound) return;
    const bug = this.misuse(it);
    if (m.owner === 'cpu' && bug !== 'no-sync') this.sync(m, false);
    const write = bug === 'access-dir' ? m.dir === 'to_device' : m.dir === 'from_device' ? true : m.dir === 'to_device' ? false : it.b % 2 === 0;
    this.deviceTouch(m, it, write);
  }

  private deviceTouch(m: GMap, it: Intent, write: boolean): void {
    const max = m.sg ? m.bufs[0]!.size : m.len;
    const len = Math.max(1, Math.min(max, [64, 512, 4096, max][it.c % 4]!));
    const off = Math.min(max - len, (it.d % 3) * 64);
    const handle: string | SegmentRef = m.sg ? { name: m.name, index: 0 } : m.name;
    this.emit(write ? 'dev_write' : 'dev_read', { dev: m.dev.name, handle, off, len, seed: write ? this.nextSeed() : undefined });
  }

  private coherentIo(it: Intent): void {
    let c = this.pick(this.liveCohs(), it.a);
    if (!c || it.c % 5 === 0) c = this.alloc(it);
    if (!c || !c.dev.bound) return;
    const len = Math.min(c.size, COHERENT_IO_LENS[it.b % 4]!);
    const off = Math.min(c.size - len, (it.d % 4) * 128);
    const seed = this.nextSeed();
    if (it.d % 2 === 0) {
      this.emit('cpu_write', { buf: c.name, off, len, seed });
      this.emit('dev_read', { dev: c.dev.name, handle: c.name, off, len });
    } else {
      this.emit('dev_write', { dev: c.dev.name, handle: c.name, off, len, seed });
      this.emit('cpu_read', { buf: c.name, off, len });
    }
  }

  /** A rogue device: a raw access at an arbitrary bus address (counted in the security record). */
  private raw(it: Intent): void {
    const dev = this.pick(this.liveDevs(), it.a);
    if (!dev) return;
    const addr = RAW_ADDRS[it.b % 5]! + BigInt((it.c % 16) * 4096);
    if (it.d % 2) this.emit('dev_write_raw', { dev: dev.name, addr, len: 64, seed: this.nextSeed() });
    else this.emit('dev_read_raw', { dev: dev.name, addr, len: 64 });
  }

  /**
   * The I/O loop of a driver: map, check, fill or hand over, let the device
   * work, take it back, look at the result, unmap, sometimes free.
   */
  private ioLoop(it: Intent): void {
    const dir = DIRECTIONS[it.b % 3]!;
    const m = this.map(it, dir);
    if (!m) return;
    const b = m.bufs[0]!;
    const len = Math.min(m.len, IO_LENS[it.c % 3]!);
    if (dir !== 'from_device') {
      if (it.d % 2) {
        // the CPU fills the buffer while it owns it (every mapping of those bytes), then hands it back
        const taken = this.takeForCpu(b, m.off, len);
        this.emit('cpu_write', { buf: b.name, off: m.off, len, seed: this.nextSeed() });
        for (const t of taken) this.sync(t, false);
      }
      this.emit('dev_read', { dev: m.dev.name, handle: m.name, off: 0, len });
    }
    if (dir !== 'to_device') {
      this.emit('dev_write', { dev: m.dev.name, handle: m.name, off: 0, len, seed: this.nextSeed() });
      if (it.a % 2) {
        const taken = this.takeForCpu(b, m.off, len);
        this.emit('cpu_read', { buf: b.name, off: m.off, len });
        for (const t of taken) this.sync(t, false);
      }
    }
    const bug = this.misuse(it);
    // a leak: the mapping stays live, to be found at unbind
    if (bug === 'leak') return;
    this.unmap(m, it);
    if (dir !== 'to_device') this.emit('cpu_read', { buf: b.name, off: m.off, len });
    if (it.c % 3 === 0 && this.mapsOf(b).length === 0) {
      this.emit('kfree', { buf: b.name });
      this.freeBuf(b);
      if (bug === 'raw-after-free') this.emit('dev_write', { dev: m.dev.name, handle: m.name, off: 0, len: 1, seed: 1 });
    }
  }

  /** What a driver's remove does: unmap, free, unbind whatever is still live. */
  teardown(): void {
    // over copies: each step takes its item off the live list
    for (const m of [...this.liveMaps()]) this.unmap(m, TEARDOWN_INTENT);
    for (const c of [...this.liveCohs()]) this.freeCoherent(intent(0, this.liveCohs().indexOf(c), 0, 0, 0));
    for (const b of [...this.liveBufs()]) {
      this.emit('kfree', { buf: b.name });
      this.freeBuf(b);
    }
    for (const d of [...this.liveDevs()]) {
      this.emit('unbind', { dev: d.name });
      d.bound = false;
      remove(this.boundDevs, d);
    }
  }
}

/** The intent the teardown's unmaps are decided with (its fields feed the misuse roll); intents are never written, so one serves all. */
const TEARDOWN_INTENT: Intent = intent(0, 0, 0, 0, 1);

function overlaps(m: GMap, b: GBuf, off: number, len: number): boolean {
  if (m.sg) return true;
  return m.bufs[0] === b && m.off < off + len && off < m.off + m.len;
}

/** Takes x off a list, keeping the order of the rest. */
function remove<T>(list: T[], x: T): void {
  const i = list.indexOf(x);
  if (i >= 0) list.splice(i, 1);
}

/**
 * Benchmark programs, built as v1 program text (so they go through the same
 * parser and validator as a corpus file) with a deterministic, driver-like
 * shape. Nothing here is random at run time: the same options always give
 * the same text.
 *
 * The mixed program is LEGAL by construction: it must end `ok` under
 * `direct`, `iommu` and `commit-on-map` (bench/run.ts asserts it), and the
 * mask change it contains happens while the device has no streaming mapping
 * live and only on a device whose coherent mask is already the smaller one,
 * so the other built-in policies run it to the end as well.
 */
import { Rng } from '../src/engine/seeds.js';

/** mulberry32 (the engine's own generator, src/engine/seeds.ts) as floats in [0, 1), for the programs' shape. */
export function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next() / 4294967296;
}

interface Device {
  name: string;
  /** its coherent buffer (a descriptor ring) and that buffer's size */
  ring: string;
  ringBytes: number;
}

const DEVICES: readonly Device[] = [
  { name: 'nic', ring: 'nic_ring', ringBytes: 4096 },
  { name: 'sata', ring: 'sata_prd', ringBytes: 2048 },
  { name: 'usb', ring: 'usb_td', ringBytes: 512 },
];

const SIZES = [64, 128, 192, 256, 320, 384, 448, 512];

export interface MixedOptions {
  /** exact statement count of the program (default 10,000) */
  statements?: number;
  /** shape seed (default 1) */
  seed?: number;
  /** extra machine words, e.g. 'inval=lazy' */
  machine?: string;
}

/**
 * The mixed driver-like program: three devices (a 64-bit NIC, a SATA
 * controller with a 32-bit coherent mask whose streaming mask goes
 * 32 -> 64 -> 32 between mappings, a 32-bit-wide USB controller), a coherent
 * ring each, then I/O iterations: kmalloc / cpu_write / map_single
 * (to_device, from_device, bidirectional) / mapping_error / dev_read /
 * dev_write / sync_for_cpu / cpu_read / sync_for_device / unmap_single /
 * kfree, some map_sg / unmap_sg, ring traffic over the coherent buffers and
 * a tick every few iterations; then the frees and the unbinds.
 */
export function mixedProgramText(opts: MixedOptions = {}): string {
  const total = opts.statements ?? 10_000;
  const rand = rng(opts.seed ?? 1);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const out: string[] = [];
  const emit = (line: string) => out.push(line);
  let seed = 1;
  const nextSeed = () => seed++;

  out.push('# dmafuzz v1', '# bench: mixed driver-like program (bench/programs.ts)');
  out.push(`machine ram=0-2G,4G-6G${opts.machine ? ' ' + opts.machine : ''}`);
  const header = out.length;
  emit('dev nic width=64');
  emit('dev sata width=64');
  emit('dev usb width=32');
  emit('set_mask_and_coherent nic 64');
  emit('set_mask_and_coherent sata 32');
  emit('set_mask_and_coherent usb 32');
  for (const d of DEVICES) emit(`${d.ring} = alloc_coherent ${d.name} ${d.ringBytes}`);

  const tail = [
    'tick',
    ...DEVICES.map((d) => `free_coherent ${d.name} ${d.ring}`),
    ...DEVICES.map((d) => `unbind ${d.name}`),
  ];
  const budget = total - tail.length;

  let it = 0;
  let maskPhase = 0; // sata streaming mask: 0 = 32 bits, 1 = 64 bits, 2 = back to 32
  for (;;) {
    const body: string[] = [];
    const b = (line: string) => body.push(line);
    const dev = DEVICES[it % DEVICES.length]!;
    const D = dev.name;
    const progress = (out.length - header) / budget;
    // the mask change, between mappings (every iteration unmaps what it mapped)
    if (D === 'sata' && maskPhase === 0 && progress > 1 / 3) {
      b('set_mask sata 64');
      maskPhase = 1;
    } else if (D === 'sata' && maskPhase === 1 && progress > 2 / 3) {
      b('set_mask sata 32');
      maskPhase = 2;
    }
    const kind = it % 10;
    const size = pick(SIZES);
    const buf = `b${it}`;
    const map = `m${it}`;
    if (kind === 0 || kind === 3 || kind === 7) {
      // to_device: fill, map, device reads it, unmap
      const off = size >= 128 && rand() < 0.3 ? 64 : 0;
      const len = size - off;
      b(`${buf} = kmalloc ${size}`);
      b(`cpu_write ${buf} 0 ${size} seed=${nextSeed()}`);
      b(`${map} = map_single ${D} ${buf} ${off} ${len} to_device`);
      b(`mapping_error ${D} ${map}`);
      b(`dev_read ${D} ${map} 0 ${len}`);
      b(`unmap_single ${D} ${map}`);
      b(`kfree ${buf}`);
    } else if (kind === 1 || kind === 4 || kind === 8) {
      // from_device: device writes, the CPU looks (whole or ranged sync), device writes again, unmap, CPU reads
      b(`${buf} = kmalloc ${size}`);
      b(`${map} = map_single ${D} ${buf} 0 ${size} from_device`);
      b(`mapping_error ${D} ${map}`);
      b(`dev_write ${D} ${map} 0 ${size} seed=${nextSeed()}`);
      if (kind === 8 && size >= 128) {
        b(`sync_for_cpu ${D} ${map} 0 64`);
        b(`cpu_read ${buf} 0 64`);
        b(`sync_for_device ${D} ${map} 0 64`);
      } else {
        b(`sync_for_cpu ${D} ${map}`);
        b(`cpu_read ${buf} 0 ${size}`);
        b(`sync_for_device ${D} ${map}`);
      }
      b(`dev_write ${D} ${map} 0 64 seed=${nextSeed()}`);
      b(`unmap_single ${D} ${map}`);
      b(`cpu_read ${buf} 0 ${size}`);
      b(`kfree ${buf}`);
    } else if (kind === 2 || kind === 6) {
      // bidirectional: both ways, with a CPU update while the CPU owns it
      b(`${buf} = kmalloc ${size}`);
      b(`cpu_write ${buf} 0 ${size} seed=${nextSeed()}`);
      b(`${map} = map_single ${D} ${buf} 0 ${size} bidirectional`);
      b(`mapping_error ${D} ${map}`);
      b(`dev_read ${D} ${map} 0 ${size}`);
      b(`dev_write ${D} ${map} 0 ${size / 2} seed=${nextSeed()}`);
      b(`sync_for_cpu ${D} ${map}`);
      b(`cpu_read ${buf} 0 ${size}`);
      b(`cpu_write ${buf} 0 64 seed=${nextSeed()}`);
      b(`sync_for_device ${D} ${map}`);
      b(`dev_read ${D} ${map} 0 ${size}`);
      b(`unmap_single ${D} ${map}`);
      b(`cpu_read ${buf} 0 ${size}`);
      b(`kfree ${buf}`);
    } else if (kind === 5) {
      // scatter-gather: two entries (under a page each, so never merged: always two segments)
      const s2 = pick(SIZES);
      const dir = it % 20 === 5 ? 'to_device' : 'from_device';
      b(`${buf}a = kmalloc ${size}`);
      b(`${buf}b = kmalloc ${s2}`);
      if (dir === 'to_device') {
        b(`cpu_write ${buf}a 0 ${size} seed=${nextSeed()}`);
        b(`cpu_write ${buf}b 0 ${s2} seed=${nextSeed()}`);
      }
      b(`g${it} = map_sg ${D} [${buf}a ${buf}b] ${dir}`);
      if (dir === 'to_device') {
        b(`dev_read ${D} g${it}[0] 0 ${size}`);
        b(`dev_read ${D} g${it}[1] 0 ${s2}`);
      } else {
        b(`dev_write ${D} g${it}[0] 0 ${size} seed=${nextSeed()}`);
        b(`dev_write ${D} g${it}[1] 0 ${s2} seed=${nextSeed()}`);
      }
      b(`unmap_sg ${D} g${it}`);
      if (dir === 'from_device') {
        b(`cpu_read ${buf}a 0 ${size}`);
        b(`cpu_read ${buf}b 0 ${s2}`);
      }
      b(`kfree ${buf}a`);
      b(`kfree ${buf}b`);
    } else {
      // kind 9: descriptor-ring traffic over the coherent buffer
      const half = Math.min(256, dev.ringBytes / 2);
      const len = Math.min(64, half);
      b(`cpu_write ${dev.ring} 0 ${len} seed=${nextSeed()}`);
      b(`dev_read ${D} ${dev.ring} 0 ${len}`);
      b(`dev_write ${D} ${dev.ring} ${half} ${len} seed=${nextSeed()}`);
      b(`cpu_read ${dev.ring} ${half} ${len}`);
    }
    if (it % 16 === 15) b('tick');
    if (out.length + body.length > header + budget - 0) break;
    out.push(...body);
    it++;
  }
  // pad to the exact count with cheap, legal ring reads
  let pad = 0;
  while (out.length - header < budget) {
    const d = DEVICES[pad++ % DEVICES.length]!;
    emit(`cpu_read ${d.ring} 0 64`);
  }
  out.push(...tail);
  return out.join('\n') + '\n';
}

/**
 * `pairs` map+unmap pairs of one kmalloc buffer through the executor:
 * map_single / mapping_error / unmap_single (three statements per pair;
 * dma-debug requires the mapping_error check before the unmap).
 */
export function mapUnmapProgramText(pairs: number, opts: { maskBits: number; machine?: string; len?: number }): string {
  const len = opts.len ?? 256;
  const out = ['# dmafuzz v1', `machine ram=0-2G,4G-6G${opts.machine ? ' ' + opts.machine : ''}`, 'dev d width=64', `set_mask_and_coherent d ${opts.maskBits}`, `b = kmalloc ${len}`];
  for (let i = 0; i < pairs; i++) {
    out.push(`m${i} = map_single d b 0 ${len} to_device`, `mapping_error d m${i}`, `unmap_single d m${i}`);
  }
  out.push('kfree b', 'unbind d');
  return out.join('\n') + '\n';
}

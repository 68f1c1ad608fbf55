/**
 * CONFIG_DMA_API_DEBUG (kernel/dma/debug.c): every successful map or
 * allocation leaves an entry keyed by (device, DMA address); unmap, free and
 * sync are checked against it, and anything left at unbind is a leak. The
 * checks and their wording follow the kernel so that a report reads like the
 * WARN a driver developer would get. Entries live in the machine buffer (the
 * mapping records).
 */
import { MAPPINGS_MAX, Reg, type MachineViews } from '../machine/layout.js';
import { budget } from '../util/assert.js';
import { hex } from '../util/numbers.js';
import type { Direction } from '../program/ast.js';

export enum MapType {
  Single = 1,
  Sg = 2,
  Coherent = 3,
}

export const MAP_TYPE_NAMES: Readonly<Record<MapType, string>> = {
  [MapType.Single]: 'single',
  [MapType.Sg]: 'scatter-gather',
  [MapType.Coherent]: 'coherent',
};

const DIR_CODE: Readonly<Record<Direction, number>> = { bidirectional: 0, to_device: 1, from_device: 2 };
const DIR_NAMES = ['DMA_BIDIRECTIONAL', 'DMA_TO_DEVICE', 'DMA_FROM_DEVICE', 'DMA_NONE'];
export const DMA_MAPPING_ERROR = (1n << 64n) - 1n;

/** A failed check: the api-misuse kind suffix and the kernel's message. */
export interface DebugReport {
  check: string;
  message: string;
}

export class DmaDebug {
  private readonly v: MachineViews;

  constructor(v: MachineViews) {
    this.v = v;
  }

  add(dev: number, handle: bigint, bytes: number, phys: number, type: MapType, dir: Direction, nents = 0): number {
    const v = this.v;
    const n = v.regs[Reg.mapLiveCount]!;
    if (!(n < MAPPINGS_MAX)) budget(false, `more than ${MAPPINGS_MAX} live DMA mappings`); // message built only on failure (every map gets here)
    const id = v.mapLive[n]!;
    v.mapDev[id] = dev;
    v.mapHandle[id] = handle;
    v.mapBytes[id] = bytes;
    v.mapPhys[id] = phys;
    v.mapType[id] = type;
    v.mapDir[id] = DIR_CODE[dir];
    v.mapChecked[id] = type === MapType.Single ? 0 : 1;
    v.mapNents[id] = nents;
    v.regs[Reg.mapLiveCount] = n + 1;
    return id;
  }

  /**
   * dma_mapping_error marks an entry for this handle as checked: the first
   * unchecked one, since without an IOMMU the same address can be mapped
   * several times (debug_dma_mapping_error does the same).
   */
  markChecked(dev: number, handle: bigint): void {
    const v = this.v;
    const n = v.regs[Reg.mapLiveCount]!;
    for (let i = 0; i < n; i++) {
      const id = v.mapLive[i]!;
      if (v.mapDev[id] === dev && v.mapHandle[id] === handle && v.mapChecked[id] === 0) {
        v.mapChecked[id] = 1;
        return;
      }
    }
  }

  /** check_unmap for unmap_single/page, unmap_sg and free_coherent; removes the entry when it passes. */
  checkUnmap(dev: number, handle: bigint, bytes: number | undefined, type: MapType, dir: Direction | undefined, name: string): DebugReport | undefined {
    const v = this.v;
    if (handle === DMA_MAPPING_ERROR) {
      return { check: 'invalid-free', message: `${name}: device driver tries to free an invalid DMA memory address` };
    }
    const id = this.find(dev, handle, bytes, type);
    if (id < 0) {
      return {
        check: 'free-unmapped',
        message: `${name}: device driver tries to free DMA memory it has not allocated [device address=${hex(handle)}] [size=${bytes ?? '?'} bytes]`,
      };
    }
    if (bytes !== undefined && v.mapBytes[id] !== bytes) {
      return { check: 'wrong-size', message: `${name}: device driver frees DMA memory with different size ${this.entryLine(handle, id)} [map size=${v.mapBytes[id]} bytes] [unmap size=${bytes} bytes]` };
    }
    if (v.mapType[id] !== type) {
      return {
        check: 'wrong-function',
        message: `${name}: device driver frees DMA memory with wrong function ${this.entryLine(handle, id)} [mapped as ${MAP_TYPE_NAMES[v.mapType[id] as MapType]}] [unmapped as ${MAP_TYPE_NAMES[type]}]`,
      };
    }
    if (dir !== undefined && v.mapDir[id] !== DIR_CODE[dir]) {
      return {
        check: 'wrong-direction',
        message: `${name}: device driver frees DMA memory with different direction ${this.entryLine(handle, id)} [mapped with ${DIR_NAMES[v.mapDir[id]!]}] [unmapped with ${DIR_NAMES[DIR_CODE[dir]]}]`,
      };
    }
    if (v.mapChecked[id] === 0) {
      return { check: 'map-error-unchecked', message: `${name}: device driver failed to check map error ${this.entryLine(handle, id)} [mapped as single]` };
    }
    this.remove(id);
    return undefined;
  }

  /** check_sync: a containing entry, within range, same direction unless bidirectional. */
  checkSync(dev: number, handle: bigint, off: number, bytes: number, dir: Direction, forCpu: boolean, name: string): DebugReport | undefined {
    const v = this.v;
    const start = handle + BigInt(off);
    const id = this.findContaining(dev, start, bytes);
    if (id < 0) {
      return { check: 'sync-unmapped', message: `${name}: device driver tries to sync DMA memory it has not allocated [device address=${hex(start)}] [size=${bytes} bytes]` };
    }
    if (start + BigInt(bytes) > v.mapHandle[id]! + BigInt(v.mapBytes[id]!)) {
      return { check: 'sync-out-of-range', message: `${name}: device driver syncs DMA memory outside allocated range ${this.entryLine(v.mapHandle[id]!, id)} [sync offset+size=${off + bytes}]` };
    }
    const mapped = v.mapDir[id]!;
    if (mapped !== DIR_CODE.bidirectional && mapped !== DIR_CODE[dir]) {
      return {
        check: 'sync-direction',
        message: `${name}: device driver syncs DMA memory with different direction ${this.entryLine(v.mapHandle[id]!, id)} [mapped with ${DIR_NAMES[mapped]}] [synced with ${DIR_NAMES[DIR_CODE[dir]]}]`,
      };
    }
    if (v.mapChecked[id] === 0) {
      return { check: 'map-error-unchecked', message: `${name}: device driver failed to check map error ${this.entryLine(v.mapHandle[id]!, id)} [mapped as single] (before sync_for_${forCpu ? 'cpu' : 'device'})` };
    }
    return undefined;
  }

  /**
   * How a report names an entry. Built only when a check fails: building it
   * up front cost every unmap and sync two hex conversions.
   */
  private entryLine(address: bigint, id: number): string {
    return `[device address=${hex(address)}] [size=${this.v.mapBytes[id]} bytes]`;
  }

  /** Is the entry for this handle still unchecked? (use before dma_mapping_error) */
  isUnchecked(dev: number, handle: bigint): boolean {
    const id = this.find(dev, handle);
    return id >= 0 && this.v.mapChecked[id] === 0;
  }

  /** Entries still owned by a device (leak check at unbind). */
  pendingFor(dev: number): { count: number; example?: string } {
    const v = this.v;
    let count = 0;
    let example: string | undefined;
    const n = v.regs[Reg.mapLiveCount]!;
    for (let i = 0; i < n; i++) {
      const id = v.mapLive[i]!;
      if (v.mapDev[id] !== dev) continue;
      count++;
      example ??= `[device address=${hex(v.mapHandle[id]!)}] [size=${v.mapBytes[id]} bytes] [type=${MAP_TYPE_NAMES[v.mapType[id] as MapType]}] [direction=${DIR_NAMES[v.mapDir[id]!]}]`;
    }
    return { count, example };
  }

  /** Forgets a device's entries (after the leak report at unbind). */
  dropDevice(dev: number): void {
    const v = this.v;
    for (let i = v.regs[Reg.mapLiveCount]! - 1; i >= 0; i--) {
      const id = v.mapLive[i]!;
      if (v.mapDev[id] === dev) this.remove(id);
    }
  }

  liveCount(): number {
    return this.v.regs[Reg.mapLiveCount]!;
  }

  reset(): void {
    const v = this.v;
    const n = v.regs[Reg.mapLiveCount]!;
    for (let i = 0; i < n; i++) v.mapDev[v.mapLive[i]!] = -1;
    v.regs[Reg.mapLiveCount] = 0;
  }

  /** Exact (device, address) lookup; among several, prefer the one matching size and type (best fit). */
  find(dev: number, handle: bigint, bytes?: number, type?: MapType): number {
    const v = this.v;
    const n = v.regs[Reg.mapLiveCount]!;
    let best = -1;
    let bestScore = -1;
    for (let i = 0; i < n; i++) {
      const id = v.mapLive[i]!;
      if (v.mapDev[id] !== dev || v.mapHandle[id] !== handle) continue;
      const score = (v.mapBytes[id] === bytes ? 2 : 0) + (v.mapType[id] === type ? 1 : 0);
      if (score > bestScore) {
        best = id;
        bestScore = score;
      }
    }
    return best;
  }

  /**
   * check_sync's lookup: an entry holding the whole synced range (several
   * mappings may share a start address); failing that, one holding its start,
   * so that a sync past the end is reported against the right entry.
   */
  private findContaining(dev: number, addr: bigint, bytes: number): number {
    const v = this.v;
    const n = v.regs[Reg.mapLiveCount]!;
    const end = addr + BigInt(Math.max(1, bytes));
    let holdsStart = -1;
    for (let i = 0; i < n; i++) {
      const id = v.mapLive[i]!;
      if (v.mapDev[id] !== dev) continue;
      const lo = v.mapHandle[id]!;
      const hi = lo + BigInt(Math.max(1, v.mapBytes[id]!));
      if (lo <= addr && addr < hi) {
        if (end <= hi) return id;
        if (holdsStart < 0) holdsStart = id;
      }
    }
    return holdsStart;
  }


  /**
   * The live list is a permutation of all ids: positions [0, count) are live,
   * the rest are free. Adding takes the id at position count; removing swaps
   * the id with the last live one. Reset just sets count to 0.
   */
  private remove(id: number): void {
    const v = this.v;
    const last = v.regs[Reg.mapLiveCount]! - 1;
    const pos = v.mapLivePos[id]!;
    const lastId = v.mapLive[last]!;
    v.mapLive[pos] = lastId;
    v.mapLivePos[lastId] = pos;
    v.mapLive[last] = id;
    v.mapLivePos[id] = last;
    v.mapDev[id] = -1;
    v.regs[Reg.mapLiveCount] = last;
  }

  /** Once per buffer: the identity permutation, every entry free. */
  init(): void {
    const v = this.v;
    for (let i = 0; i < MAPPINGS_MAX; i++) {
      v.mapLive[i] = i;
      v.mapLivePos[i] = i;
    }
    v.mapDev.fill(-1);
    v.regs[Reg.mapLiveCount] = 0;
  }
}

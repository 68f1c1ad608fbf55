/**
 * The machine's whole state lives in one SharedArrayBuffer. This module is
 * the one place its layout is declared: a table of regions, each a typed
 * array whose length follows from the machine config and the fixed limits
 * below. Every model module takes its views from `MachineViews` and nowhere
 * else; nothing allocates state outside this buffer.
 *
 * Limits are part of the model (TigerBeetle style): a program that needs more
 * than a limit gets a clear `hang` verdict ("exceeded the model's budget"),
 * never an unbounded structure.
 */
import type { MachineConfig, MachineFacts } from './config.js';

/** Real bytes kept for touched pages: simulated RAM may be gigabytes, backing is bounded. */
export const BACKED_BYTES_MAX = 32 * 2 ** 20;
/** Live allocations of the page allocator (kmalloc, coherent, reserved). */
export const EXTENTS_MAX = 8192;
/** IOMMU page-table pages over all domains (each 512 entries). */
export const PT_PAGES_MAX = 4096;
export const PT_ENTRIES = 512;
/** IOTLB geometry: 16 sets x 4 ways = 64 entries (reach 256 KiB, as measured on Xeon E5). */
export const IOTLB_SETS = 16;
export const IOTLB_WAYS = 4;
/** Live IOVA ranges over all domains, reserved ones included. */
export const IOVA_RANGES_MAX = 8192;
export const DOMAINS_MAX = 64;
export const DEVICES_MAX = 32;
/** Live dma-debug entries (CONFIG_DMA_API_DEBUG preallocates 65536; programs here are smaller). */
export const MAPPINGS_MAX = 8192;
export const FAULT_LOG_MAX = 256;

type ArrayKind = 'u8' | 'i32' | 'u32' | 'f64' | 'u64';

interface RegionSpec {
  kind: ArrayKind;
  /** element count for a given machine */
  count: (cfg: MachineConfig, facts: MachineFacts) => number;
}

const pages = (cfg: MachineConfig) => BACKED_BYTES_MAX / cfg.pageBytes;
const hashSlots = (cfg: MachineConfig) => 2 * 2 ** Math.ceil(Math.log2(pages(cfg)));
const fixed = (n: number) => () => n;

/** The layout table. Order is the order in the buffer. */
const REGIONS = {
  // --- sparse RAM: page frame number -> backing frame, open addressing
  pageHashKey: { kind: 'f64', count: hashSlots }, // pfn + 1, 0 = empty
  pageHashFrame: { kind: 'i32', count: hashSlots },
  frameBytes: { kind: 'u8', count: () => BACKED_BYTES_MAX },
  /** hash slots used since reset, so reset costs what was touched */
  touchedSlots: { kind: 'i32', count: pages },
  // --- page allocator: live extents sorted by start pfn
  extentStart: { kind: 'f64', count: fixed(EXTENTS_MAX) },
  extentPages: { kind: 'f64', count: fixed(EXTENTS_MAX) },
  extentKind: { kind: 'u8', count: fixed(EXTENTS_MAX) },
  // --- swiotlb: per 2 KiB slot, the original physical address it bounces (-1 free)
  slotOrig: { kind: 'f64', count: (_c, f) => f.swiotlbSlots },
  /** bytes mapped, stored in the first slot of a mapping */
  slotMapBytes: { kind: 'i32', count: (_c, f) => f.swiotlbSlots },
  // --- IOMMU page tables: entry = (next table index or pfn) << 2 | W << 1 | R; 0 = not present
  ptEntries: { kind: 'u32', count: fixed(PT_PAGES_MAX * PT_ENTRIES) },
  /** per table: its level (4 = root ... 1 = leaf), 0 = free */
  ptLevel: { kind: 'u8', count: fixed(PT_PAGES_MAX) },
  ptFreeStack: { kind: 'i32', count: fixed(PT_PAGES_MAX) },
  // --- IOTLB
  tlbDomain: { kind: 'i32', count: fixed(IOTLB_SETS * IOTLB_WAYS) }, // -1 = invalid
  tlbIovaPfn: { kind: 'f64', count: fixed(IOTLB_SETS * IOTLB_WAYS) },
  tlbPfn: { kind: 'f64', count: fixed(IOTLB_SETS * IOTLB_WAYS) },
  tlbPerm: { kind: 'u8', count: fixed(IOTLB_SETS * IOTLB_WAYS) },
  tlbStamp: { kind: 'f64', count: fixed(IOTLB_SETS * IOTLB_WAYS) },
  // --- IOVA ranges: per-domain doubly linked lists sorted by descending pfnLo
  iovaLo: { kind: 'f64', count: fixed(IOVA_RANGES_MAX) },
  iovaHi: { kind: 'f64', count: fixed(IOVA_RANGES_MAX) },
  iovaNext: { kind: 'i32', count: fixed(IOVA_RANGES_MAX) },
  iovaPrev: { kind: 'i32', count: fixed(IOVA_RANGES_MAX) },
  /** 0 free, 1 allocated, 2 reserved, 3 queued for a lazy flush */
  iovaState: { kind: 'u8', count: fixed(IOVA_RANGES_MAX) },
  iovaFreeStack: { kind: 'i32', count: fixed(IOVA_RANGES_MAX) },
  // --- domains
  domType: { kind: 'u8', count: fixed(DOMAINS_MAX) }, // see DomainType
  domWindow: { kind: 'u8', count: fixed(DOMAINS_MAX) },
  domRoot: { kind: 'i32', count: fixed(DOMAINS_MAX) },
  domIovaHead: { kind: 'i32', count: fixed(DOMAINS_MAX) },
  domQueued: { kind: 'i32', count: fixed(DOMAINS_MAX) },
  domDevices: { kind: 'i32', count: fixed(DOMAINS_MAX) },
  /** how many domains were ever created: a fresh domain gets a new serial for traces */
  domSerial: { kind: 'u32', count: fixed(DOMAINS_MAX) },
  // --- devices
  devWidth: { kind: 'u8', count: fixed(DEVICES_MAX) },
  devFlags: { kind: 'u8', count: fixed(DEVICES_MAX) }, // bit0 present, bit1 nomask, bit2 bound
  devMaskBits: { kind: 'u8', count: fixed(DEVICES_MAX) }, // streaming mask width, 0 = none
  devCoherentBits: { kind: 'u8', count: fixed(DEVICES_MAX) },
  devDomain: { kind: 'i32', count: fixed(DEVICES_MAX) }, // -1 = no IOMMU in front of it
  devPolicyState: { kind: 'i32', count: fixed(DEVICES_MAX) },
  // --- dma-debug entries (the mapping records): one per live map/alloc
  mapDev: { kind: 'i32', count: fixed(MAPPINGS_MAX) }, // -1 = free
  mapHandle: { kind: 'u64', count: fixed(MAPPINGS_MAX) },
  mapBytes: { kind: 'f64', count: fixed(MAPPINGS_MAX) },
  mapPhys: { kind: 'f64', count: fixed(MAPPINGS_MAX) },
  mapType: { kind: 'u8', count: fixed(MAPPINGS_MAX) }, // see MapType
  mapDir: { kind: 'u8', count: fixed(MAPPINGS_MAX) },
  mapChecked: { kind: 'u8', count: fixed(MAPPINGS_MAX) },
  mapNents: { kind: 'i32', count: fixed(MAPPINGS_MAX) },
  /** dense list of live entry ids, for lookups and unbind leak checks */
  mapLive: { kind: 'i32', count: fixed(MAPPINGS_MAX) },
  mapLivePos: { kind: 'i32', count: fixed(MAPPINGS_MAX) },
  // --- fault log (ring)
  faultDev: { kind: 'i32', count: fixed(FAULT_LOG_MAX) },
  faultAddr: { kind: 'u64', count: fixed(FAULT_LOG_MAX) },
  faultWrite: { kind: 'u8', count: fixed(FAULT_LOG_MAX) },
  faultReason: { kind: 'u8', count: fixed(FAULT_LOG_MAX) },
  // --- scalar registers (counts, cursors, clocks); indexes in `Reg`
  regs: { kind: 'f64', count: fixed(32) },
  // --- the event bits of the statement in flight (see events.ts)
  events: { kind: 'i32', count: fixed(1) },
} satisfies Record<string, RegionSpec>;

/** Indexes into the `regs` region. */
export const Reg = {
  touchedCount: 0,
  extentCount: 1,
  slotCursor: 2,
  slotUsed: 3,
  slotDirtyLo: 4,
  slotDirtyHi: 5,
  ptUsed: 6,
  ptFreeTop: 7,
  tlbClock: 8,
  iovaFreeTop: 9,
  domainSerial: 10,
  deviceCount: 11,
  mapLiveCount: 12,
  faultCount: 13,
  framesUsed: 14,
  iovaUsedHigh: 15,
} as const;

type ViewOf<K extends ArrayKind> = K extends 'u8'
  ? Uint8Array
  : K extends 'i32'
    ? Int32Array
    : K extends 'u32'
      ? Uint32Array
      : K extends 'f64'
        ? Float64Array
        : BigUint64Array;

export type MachineViews = { [N in keyof typeof REGIONS]: ViewOf<(typeof REGIONS)[N]['kind']> };

const BYTES: Record<ArrayKind, number> = { u8: 1, i32: 4, u32: 4, f64: 8, u64: 8 };

export interface RegionPlacement {
  name: string;
  kind: ArrayKind;
  offset: number;
  count: number;
}

/** Where every region sits for this machine; total size in bytes. */
export function planLayout(cfg: MachineConfig, facts: MachineFacts): { regions: RegionPlacement[]; bytes: number } {
  const regions: RegionPlacement[] = [];
  let offset = 0;
  for (const [name, spec] of Object.entries(REGIONS) as Array<[string, RegionSpec]>) {
    const count = spec.count(cfg, facts);
    if (!Number.isSafeInteger(count) || count <= 0) throw new Error(`layout: region ${name} has bad count ${count}`);
    offset = Math.ceil(offset / 8) * 8;
    regions.push({ name, kind: spec.kind, offset, count });
    offset += count * BYTES[spec.kind];
  }
  return { regions, bytes: Math.ceil(offset / 8) * 8 };
}

/** Typed views over a buffer laid out by planLayout (the buffer may come from another thread). */
export function viewsOver(buffer: SharedArrayBuffer, cfg: MachineConfig, facts: MachineFacts): MachineViews {
  const { regions, bytes } = planLayout(cfg, facts);
  if (buffer.byteLength < bytes) throw new Error(`layout: buffer of ${buffer.byteLength} bytes, need ${bytes}`);
  const views: Record<string, unknown> = {};
  for (const r of regions) {
    switch (r.kind) {
      case 'u8': views[r.name] = new Uint8Array(buffer, r.offset, r.count); break;
      case 'i32': views[r.name] = new Int32Array(buffer, r.offset, r.count); break;
      case 'u32': views[r.name] = new Uint32Array(buffer, r.offset, r.count); break;
      case 'f64': views[r.name] = new Float64Array(buffer, r.offset, r.count); break;
      case 'u64': views[r.name] = new BigUint64Array(buffer, r.offset, r.count); break;
    }
  }
  // built key by key, the object sits in V8's slow dictionary mode and every region load would be a
  // hash lookup; a spread copy is a fast-mode object over the same typed arrays. Done once, here,
  // so that every module gets fast views.
  return { ...views } as MachineViews;
}

export function allocateMachineBuffer(cfg: MachineConfig, facts: MachineFacts): SharedArrayBuffer {
  return new SharedArrayBuffer(planLayout(cfg, facts).bytes);
}


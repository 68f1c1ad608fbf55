/**
 * Machine configuration (SPEC section 2): parsed from `key=value` words on a
 * program's `machine` line or from CLI flags, validated once here, and turned
 * into the derived facts the rest of the model relies on (zones, required
 * mask, swiotlb placement). Nothing downstream re-validates.
 */
import { UserError } from '../util/errors.js';
import { bitLength, formatSize, parseNumber } from '../util/numbers.js';
import type { MachineWord } from '../program/ast.js';

export type Invalidation = 'strict' | 'lazy';
export type SwiotlbMapCopy = 'always' | 'dir';

export interface RamRange {
  /** inclusive start byte */
  start: number;
  /** exclusive end byte */
  end: number;
}

export interface MachineConfig {
  ram: RamRange[];
  /** built-in policy name or a path to a policy module */
  policy: string;
  inval: Invalidation;
  fq: number;
  swiotlbBytes: number;
  pageBytes: number;
  swiotlbMapCopy: SwiotlbMapCopy;
}

export const DEFAULT_CONFIG: Readonly<MachineConfig> = Object.freeze({
  ram: [
    { start: 0, end: 2 * 2 ** 30 },
    { start: 4 * 2 ** 30, end: 6 * 2 ** 30 },
  ],
  policy: 'intel-2019',
  inval: 'strict',
  fq: 256,
  swiotlbBytes: 4 * 2 ** 20,
  pageBytes: 4096,
  swiotlbMapCopy: 'always',
});

/** Highest RAM the model simulates: 2^42 bytes (4 TiB): page-table entries hold a 30-bit frame number. */
export const RAM_LIMIT_BYTES = 2 ** 42;
/** The ISA DMA zone: below 16 MiB (x86 zone_dma_bits = 24). */
export const ZONE_DMA_LIMIT = 2 ** 24;
export const ZONE_DMA32_LIMIT = 2 ** 32;
export const SWIOTLB_SLOT_BYTES = 2048;
/** A swiotlb mapping never crosses a 128-slot segment: 256 KiB at most (IO_TLB_SEGSIZE). */
export const SWIOTLB_SEGMENT_SLOTS = 128;
export const MAX_FLUSH_QUEUE = 4096;

export const MACHINE_KEYS = ['ram', 'policy', 'inval', 'fq', 'swiotlb', 'page', 'swiotlb_map_copy'] as const;

/** Machine words as the CLI's flags spell them (`--swiotlb-map-copy dir`), for messages. */
export function flagText(words: readonly MachineWord[]): string {
  return words.map((w) => `--${w.key.replace(/_/g, '-')} ${w.value}`).join(' ');
}

/**
 * Applies `key=value` words over a base config. `where` names the source for
 * error messages (a file and line, or "--flag"); each word carries its column.
 */
export function applyMachineWords(
  base: MachineConfig,
  words: readonly MachineWord[],
  where: { file?: string; line?: number } = {},
): MachineConfig {
  const cfg: MachineConfig = { ...base, ram: base.ram.map((r) => ({ ...r })) };
  const seen = new Set<string>();
  for (const w of words) {
    const fail = (msg: string): never => {
      throw new UserError(msg, where.file, where.line, w.column);
    };
    // the last one winning would be a silent guess (a device's repeated keyword is refused the same way)
    if (seen.has(w.key)) fail(`${w.key} is given twice`);
    seen.add(w.key);
    switch (w.key) {
      case 'ram':
        cfg.ram = parseRam(w.value, fail);
        break;
      case 'policy':
        if (!w.value) fail("expected a policy name or a path after 'policy='");
        cfg.policy = w.value;
        break;
      case 'inval':
        if (w.value !== 'strict' && w.value !== 'lazy') fail(`expected 'strict' or 'lazy' for inval, got '${w.value}'`);
        cfg.inval = w.value as Invalidation;
        break;
      case 'fq': {
        const n = parseNumber(w.value);
        if (n === undefined || n < 1 || n > MAX_FLUSH_QUEUE) fail(`expected a flush-queue length from 1 to ${MAX_FLUSH_QUEUE} for fq, got '${w.value}'`);
        cfg.fq = n!;
        break;
      }
      case 'swiotlb': {
        const n = parseNumber(w.value);
        const unit = SWIOTLB_SLOT_BYTES * SWIOTLB_SEGMENT_SLOTS;
        if (n === undefined || n < unit || n % unit !== 0 || n > 1024 * 2 ** 20) {
          fail(`expected a swiotlb size that is a multiple of 256K, from 256K to 1G, got '${w.value}'`);
        }
        cfg.swiotlbBytes = n!;
        break;
      }
      case 'page': {
        const n = parseNumber(w.value);
        if (n === undefined || n < 4096 || n > 65536 || (n & (n - 1)) !== 0) fail(`expected a page size of 4K, 8K, 16K, 32K or 64K, got '${w.value}'`);
        cfg.pageBytes = n!;
        break;
      }
      case 'swiotlb_map_copy':
        if (w.value !== 'always' && w.value !== 'dir') fail(`expected 'always' or 'dir' for swiotlb_map_copy, got '${w.value}'`);
        cfg.swiotlbMapCopy = w.value as SwiotlbMapCopy;
        break;
      default:
        fail(`unknown machine key '${w.key}' (expected one of: ${MACHINE_KEYS.join(', ')})`);
    }
  }
  // a consistency problem is about the RAM layout (or page size): point at that word
  const culprit = words.find((w) => w.key === 'ram') ?? words.find((w) => w.key === 'page') ?? words[0];
  checkConsistency(cfg, (msg) => {
    throw new UserError(msg, where.file, where.line, culprit?.column);
  });
  return cfg;
}

function parseRam(text: string, fail: (msg: string) => never): RamRange[] {
  const ranges: RamRange[] = [];
  for (const part of text.split(',')) {
    const m = /^([^-]+)-([^-]+)$/.exec(part);
    const start = m ? parseNumber(m[1]!) : undefined;
    const end = m ? parseNumber(m[2]!) : undefined;
    if (start === undefined || end === undefined) fail(`expected RAM ranges like 0-2G,4G-6G (START-END, END exclusive), got '${part}'`);
    if (end! <= start!) fail(`RAM range '${part}' is empty: END must be above START`);
    if (end! > RAM_LIMIT_BYTES) fail(`RAM range '${part}' ends above the model's limit of ${formatSize(RAM_LIMIT_BYTES)}`);
    ranges.push({ start: start!, end: end! });
  }
  ranges.sort((a, b) => a.start - b.start);
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i]!.start < ranges[i - 1]!.end) fail(`RAM ranges overlap in '${text}'`);
  }
  return ranges;
}

function checkConsistency(cfg: MachineConfig, fail: (msg: string) => never): void {
  for (const r of cfg.ram) {
    if (r.start % cfg.pageBytes !== 0 || r.end % cfg.pageBytes !== 0) {
      fail(`RAM range ${formatSize(r.start)}-${formatSize(r.end)} is not aligned to the ${formatSize(cfg.pageBytes)} page size`);
    }
  }
  const low = cfg.ram.filter((r) => r.start < ZONE_DMA32_LIMIT);
  if (low.length === 0) fail('the machine needs some RAM below 4G for the swiotlb pool');
}

/** Facts derived from a config; computed once per machine. */
export interface MachineFacts {
  pageShift: number;
  /** one past the highest RAM byte */
  ramTop: number;
  /** smallest n with 2^n - 1 covering the last RAM byte (dma_direct_get_required_mask) */
  requiredMaskBits: number;
  /** required mask of a device whose direct path goes through the bypass window (PA + 2^59) */
  windowRequiredMaskBits: number;
  /** swiotlb pool: [start, start + bytes), in the highest RAM below 4 GiB */
  swiotlbStart: number;
  swiotlbSlots: number;
}

export const BYPASS_WINDOW_BASE = 1n << 59n;

export function deriveFacts(cfg: MachineConfig): MachineFacts {
  const ramTop = cfg.ram[cfg.ram.length - 1]!.end;
  // Linux uses the address of the last RAM *page*; for page-aligned RAM the
  // last byte gives the same rounded mask.
  const requiredMaskBits = bitLength(BigInt(ramTop - 1));
  const windowRequiredMaskBits = bitLength(BYPASS_WINDOW_BASE + BigInt(ramTop - 1));
  const swiotlbStart = placeSwiotlb(cfg);
  return {
    pageShift: Math.log2(cfg.pageBytes),
    ramTop,
    requiredMaskBits: Math.max(requiredMaskBits, 1),
    windowRequiredMaskBits,
    swiotlbStart,
    swiotlbSlots: cfg.swiotlbBytes / SWIOTLB_SLOT_BYTES,
  };
}

/** The pool goes at the top of the highest RAM range below 4 GiB (memblock_alloc_low). */
function placeSwiotlb(cfg: MachineConfig): number {
  let best = -1;
  for (const r of cfg.ram) {
    const top = Math.min(r.end, ZONE_DMA32_LIMIT);
    if (top - r.start >= cfg.swiotlbBytes) best = Math.max(best, top - cfg.swiotlbBytes);
  }
  if (best < 0) {
    throw new UserError(`no RAM range below 4G is large enough for a ${formatSize(cfg.swiotlbBytes)} swiotlb pool`);
  }
  // keep slot alignment to the page size
  return best - (best % Math.max(cfg.pageBytes, SWIOTLB_SLOT_BYTES));
}

/** Human-readable `key=value` words of a config, as a machine line prints it. */
export function configWords(cfg: MachineConfig): string {
  const ram = cfg.ram.map((r) => `${formatSize(r.start)}-${formatSize(r.end)}`).join(',');
  return `ram=${ram} policy=${cfg.policy} inval=${cfg.inval} fq=${cfg.fq} swiotlb=${formatSize(cfg.swiotlbBytes)} page=${formatSize(cfg.pageBytes)} swiotlb_map_copy=${cfg.swiotlbMapCopy}`;
}

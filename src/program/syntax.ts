/**
 * The statement table of format v1 (SPEC section 3): for each statement kind,
 * whether it binds a name and the ordered parameters it takes. The parser,
 * printer, validator, generator and minimizer all read this table, so adding
 * a statement kind means one row here and one semantics file in src/exec/ops.
 */
import type { OpName } from './ast.js';

export type ParamKind =
  /** a device name (declared by `dev`) */
  | 'device'
  /** a kmalloc buffer name */
  | 'kbuf'
  /** a kmalloc or alloc_coherent name: anything the CPU can address */
  | 'cpubuf'
  /** an alloc_coherent name */
  | 'coherent'
  /** a map_single / map_page name */
  | 'mapping'
  /** a map_sg name */
  | 'sg'
  /** a mapping or an sg list (sync) */
  | 'stream'
  /** anything with a bus address: coherent, mapping, or S[i] */
  | 'handle'
  /** `[b0 b1 ...]` list of kmalloc buffers */
  | 'buflist'
  /** a byte count or offset (K/M/G, 0x) */
  | 'size'
  /** mask width in bits */
  | 'bits'
  /** a raw bus address (up to 2^64-1) */
  | 'addr'
  | 'dir';

export type KeywordKind = 'width' | 'zone' | 'seed' | 'flag';

export interface Param {
  name: string;
  kind: ParamKind;
  optional?: boolean;
}

export interface KeywordParam {
  /** written as `key=value` (or just `key` for a flag) */
  key: string;
  kind: KeywordKind;
  optional?: boolean;
}

export interface StatementSyntax {
  op: OpName;
  /** 'result': `X = op ...`; 'declares': `dev X ...`; 'none': no name bound */
  binds: 'result' | 'declares' | 'none';
  /** what a bound name refers to afterwards */
  bindsKind?: 'device' | 'kbuf' | 'coherent' | 'mapping' | 'sg';
  params: Param[];
  keywords: KeywordParam[];
}

const dev: Param = { name: 'dev', kind: 'device' };
const bits: Param = { name: 'bits', kind: 'bits' };
const seed: KeywordParam = { key: 'seed', kind: 'seed' };

function row(
  op: OpName,
  binds: StatementSyntax['binds'],
  params: Param[],
  keywords: KeywordParam[] = [],
  bindsKind?: StatementSyntax['bindsKind'],
): StatementSyntax {
  return { op, binds, params, keywords, bindsKind };
}

export const SYNTAX: Readonly<Record<OpName, StatementSyntax>> = {
  dev: row('dev', 'declares', [], [{ key: 'width', kind: 'width' }, { key: 'nomask', kind: 'flag', optional: true }], 'device'),
  set_mask: row('set_mask', 'none', [dev, bits]),
  set_coherent_mask: row('set_coherent_mask', 'none', [dev, bits]),
  set_mask_and_coherent: row('set_mask_and_coherent', 'none', [dev, bits]),
  alloc_coherent: row('alloc_coherent', 'result', [dev, { name: 'size', kind: 'size' }], [], 'coherent'),
  free_coherent: row('free_coherent', 'none', [dev, { name: 'buf', kind: 'coherent' }]),
  kmalloc: row('kmalloc', 'result', [{ name: 'size', kind: 'size' }], [{ key: 'zone', kind: 'zone', optional: true }], 'kbuf'),
  kfree: row('kfree', 'none', [{ name: 'buf', kind: 'kbuf' }]),
  map_single: row('map_single', 'result', mapParams(), [], 'mapping'),
  map_page: row('map_page', 'result', mapParams(), [], 'mapping'),
  unmap_single: row('unmap_single', 'none', unmapParams()),
  unmap_page: row('unmap_page', 'none', unmapParams()),
  map_sg: row('map_sg', 'result', [dev, { name: 'bufs', kind: 'buflist' }, { name: 'dir', kind: 'dir' }], [], 'sg'),
  unmap_sg: row('unmap_sg', 'none', [dev, { name: 'sg', kind: 'sg' }, { name: 'dir', kind: 'dir', optional: true }]),
  mapping_error: row('mapping_error', 'none', [dev, { name: 'map', kind: 'mapping' }]),
  sync_for_cpu: row('sync_for_cpu', 'none', syncParams()),
  sync_for_device: row('sync_for_device', 'none', syncParams()),
  cpu_write: row('cpu_write', 'none', cpuParams(), [seed]),
  cpu_read: row('cpu_read', 'none', cpuParams()),
  dev_write: row('dev_write', 'none', devParams(), [seed]),
  dev_read: row('dev_read', 'none', devParams()),
  dev_write_raw: row('dev_write_raw', 'none', rawParams(), [seed]),
  dev_read_raw: row('dev_read_raw', 'none', rawParams()),
  tick: row('tick', 'none', []),
  unbind: row('unbind', 'none', [dev]),
};

function mapParams(): Param[] {
  return [dev, { name: 'buf', kind: 'kbuf' }, { name: 'off', kind: 'size' }, { name: 'len', kind: 'size' }, { name: 'dir', kind: 'dir' }];
}
/** `unmap_single D M [LEN] [DIR]`: LEN and DIR let a program pass wrong ones. */
function unmapParams(): Param[] {
  return [dev, { name: 'map', kind: 'mapping' }, { name: 'len', kind: 'size', optional: true }, { name: 'dir', kind: 'dir', optional: true }];
}
/**
 * `sync_for_cpu D M [OFF LEN] [DIR]`: the optional range is
 * dma_sync_single_range_for_*; DIR lets a program pass a wrong direction.
 */
function syncParams(): Param[] {
  return [
    dev,
    { name: 'map', kind: 'stream' },
    { name: 'off', kind: 'size', optional: true },
    { name: 'len', kind: 'size', optional: true },
    { name: 'dir', kind: 'dir', optional: true },
  ];
}
function cpuParams(): Param[] {
  return [{ name: 'buf', kind: 'cpubuf' }, { name: 'off', kind: 'size' }, { name: 'len', kind: 'size' }];
}
function devParams(): Param[] {
  return [dev, { name: 'handle', kind: 'handle' }, { name: 'off', kind: 'size' }, { name: 'len', kind: 'size' }];
}
function rawParams(): Param[] {
  return [dev, { name: 'addr', kind: 'addr' }, { name: 'len', kind: 'size' }];
}

export const OP_NAMES = Object.keys(SYNTAX) as OpName[];

export function isOpName(word: string): word is OpName {
  return Object.prototype.hasOwnProperty.call(SYNTAX, word);
}

export const NAME_RE = /^[a-z_][a-z0-9_]*$/;

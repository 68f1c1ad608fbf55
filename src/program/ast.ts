/**
 * What a driver-behaviour program is: data, nothing else. The text format,
 * generator, mutator and minimizer all produce or consume these types; the
 * executor compiles them. Parameter shapes per statement kind are declared in
 * `syntax.ts`.
 */

export type Direction = 'to_device' | 'from_device' | 'bidirectional';
export const DIRECTIONS: readonly Direction[] = ['to_device', 'from_device', 'bidirectional'];

export type Zone = 'dma' | 'dma32' | 'normal';
export const ZONES: readonly Zone[] = ['dma', 'dma32', 'normal'];

/** `S[i]`: the i-th DMA segment that a map_sg returned. */
export interface SegmentRef {
  name: string;
  index: number;
}

/** One argument value; which one a parameter holds is fixed by its kind in syntax.ts. */
export type ArgValue = string | number | bigint | boolean | string[] | SegmentRef | Direction;

export type OpName =
  | 'dev'
  | 'set_mask'
  | 'set_coherent_mask'
  | 'set_mask_and_coherent'
  | 'alloc_coherent'
  | 'free_coherent'
  | 'kmalloc'
  | 'kfree'
  | 'map_single'
  | 'map_page'
  | 'unmap_single'
  | 'unmap_page'
  | 'map_sg'
  | 'unmap_sg'
  | 'mapping_error'
  | 'sync_for_cpu'
  | 'sync_for_device'
  | 'cpu_write'
  | 'cpu_read'
  | 'dev_write'
  | 'dev_read'
  | 'dev_write_raw'
  | 'dev_read_raw'
  | 'tick'
  | 'unbind';

export interface Statement {
  op: OpName;
  /** The name this statement binds (`X = ...`, or the device declared by `dev`). */
  bind?: string;
  /** Arguments by parameter name (see syntax.ts); absent optional ones are undefined. */
  args: Record<string, ArgValue | undefined>;
  /** 1-based source position; 0 for statements that were generated, not parsed. */
  line: number;
  column: number;
  /**
   * 1-based columns of the arguments as written, so that checks after parsing
   * (validate.ts) can point at the offending word. Keyed like `args` (param
   * name or keyword key); each item of a `[b0 b1]` list is also keyed as
   * `bufs[0]`, `bufs[1]`, ...; the bound name's column is keyed `bind`.
   * Absent for generated statements.
   */
  argColumns?: Record<string, number>;
  /** Trailing `# ...` comment text, without the `#`. */
  comment?: string;
}

/** One `key=value` word of a `machine` line, with its 1-based column for error messages. */
export interface MachineWord {
  key: string;
  value: string;
  column: number;
}

export interface Program {
  /** Comment lines before the first statement (corpus metadata), without the leading `# `. */
  header: string[];
  /** `machine` line words in the order written (`ram=0-2G,4G-6G policy=iommu`). */
  machine: MachineWord[];
  /** 1-based line of the machine statement, 0 if none. */
  machineLine: number;
  statements: Statement[];
}

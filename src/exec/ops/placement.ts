/** Checks and facts shared by the statements that map kernel buffers. */
import type { ExecContext } from '../context.js';
import type { BufferState } from '../../oracle/contract.js';
import type { Direction } from '../../program/ast.js';

/**
 * A map of a freed buffer, past its end, or overlapping a live mapping of the
 * same bytes (unless both only go to the device) is a driver bug caught
 * before the layer sees it.
 */
export function checkMappable(ctx: ExecContext, dev: number, b: BufferState, off: number, len: number, dir: Direction): void {
  if (b.freed) {
    ctx.misuse(
      'map-freed-buffer',
      `${ctx.debugName(dev)}: device driver maps memory from invalid area [${b.name} was freed at line ${b.freedLine}]`,
      `${ctx.stmt.op} of ${b.name} after it was freed`,
    );
  }
  if (len === 0 || off + len > b.size) {
    ctx.misuse(
      'map-out-of-bounds',
      `${ctx.debugName(dev)}: device driver maps memory from invalid area [${b.name}+${off} len ${len}, buffer size ${b.size}]`,
      len === 0 ? `${ctx.stmt.op} of zero bytes` : `${ctx.stmt.op} reaches past the end of ${b.name}`,
    );
  }
  for (const other of b.streams) {
    if (dir === 'to_device' && other.dir === 'to_device') continue;
    if (other.overlapWith(b, off, off + len)) {
      // dma-debug's cacheline tracking (5.14+); two bounce slots for the same bytes would overwrite each other
      ctx.misuse(
        'overlapping-mapping',
        `${ctx.debugName(dev)}: cacheline tracking EEXIST, overlapping mappings aren't supported [${b.name} is already mapped ${other.dir} by ${other.name} at line ${other.line}]`,
        `${b.name}[${off}..${off + len}) is mapped again while ${other.name} still maps it`,
        other,
      );
    }
  }
}

/**
 * Where the device must land for a mapping's first byte: the buffer itself
 * (direct, IOMMU) or its bounce slot (the handle minus the DMA offset).
 */
export function targetOf(ctx: ExecContext, dev: number, handle: bigint, phys: number): number {
  return ctx.layer.out.path === 'bounce' ? Number(handle - ctx.layer.dmaOffset(dev)) : phys;
}

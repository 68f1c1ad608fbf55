/** Checks and facts shared by the statements that map kernel buffers. */
import type { ExecContext } from '../context.js';
import type { BufferState } from '../../oracle/contract.js';

/** A map of a freed buffer, or past its end, is a driver bug caught before the layer sees it. */
export function checkMappable(ctx: ExecContext, dev: number, b: BufferState, off: number, len: number): void {
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
}

/**
 * Where the device must land for a mapping's first byte: the buffer itself
 * (direct, IOMMU) or its bounce slot (the handle minus the DMA offset).
 */
export function targetOf(ctx: ExecContext, dev: number, handle: bigint, phys: number): number {
  return ctx.layer.out.path === 'bounce' ? Number(handle - ctx.layer.dmaOffset(dev)) : phys;
}

/** `map_single`/`map_page`, `unmap_single`/`unmap_page` and `mapping_error`. */
import type { ExecContext } from '../context.js';
import type { Direction, Statement } from '../../program/ast.js';
import { HandleState } from '../../oracle/contract.js';
import { DMA_MAPPING_ERROR, MapType } from '../../dma/debug.js';
import { hex } from '../../util/numbers.js';
import { checkRelease, releaseContract, stampCreated } from './lifecycle.js';
import { checkMappable, targetOf } from './placement.js';

export function map_single(ctx: ExecContext, s: Statement): void {
  const d = ctx.device(s.args.dev);
  ctx.requireBound(d);
  const b = ctx.buffer(s.args.buf);
  const off = s.args.off as number;
  const len = s.args.len as number;
  const dir = s.args.dir as Direction;
  const h = new HandleState(s.bind!, 'single', d, len, dir, s.line);
  ctx.handles.set(s.bind!, h);
  ctx.subject = h;
  checkMappable(ctx, d, b, off, len, dir);
  const handle = ctx.layer.map(d, b.phys + off, len, dir);
  ctx.takeLayerOutcome(h);
  ctx.checkLayerError(s.op);
  h.handle = handle;
  if (handle === DMA_MAPPING_ERROR) {
    h.failed = true;
    ctx.note = `DMA_MAPPING_ERROR${logNote(ctx)}`;
    return;
  }
  h.segs = [{ handle, len }];
  h.segParts = [[{ buf: b, bufOff: off, len, targetPhys: targetOf(ctx, d, handle, b.phys + off) }]];
  ctx.m.debug.add(d, handle, len, b.phys + off, MapType.Single, dir);
  b.streams.push(h);
  ctx.liveStreams.add(h);
  stampCreated(ctx, h, ctx.layer.maskBits(d));
  if (ctx.tracing) ctx.note = `${hex(handle)}${ctx.note ? ' ' + ctx.note : ''}`;
}

export const map_page = map_single;

export function unmap_single(ctx: ExecContext, s: Statement): void {
  const d = ctx.device(s.args.dev);
  const h = ctx.handle(s.args.map);
  ctx.requireBound(d);
  const len = (s.args.len as number | undefined) ?? h.len;
  const dir = (s.args.dir as Direction | undefined) ?? h.dir!;
  if (checkRelease(ctx, d, h, s.op, () => ctx.m.debug.checkUnmap(d, h.handle, len, MapType.Single, dir, ctx.debugName(d)))) return;
  ctx.layer.unmap(d, h.handle, len, dir);
  ctx.takeLayerOutcome(h);
  ctx.checkLayerError(s.op, h);
  ctx.checkSamePath(h, s.op);
  releaseContract(ctx, h);
  ctx.note = `ok${ctx.note ? ' ' + ctx.note : ''}`;
}

export const unmap_page = unmap_single;

export function mapping_error(ctx: ExecContext, s: Statement): void {
  const d = ctx.device(s.args.dev);
  const h = ctx.handle(s.args.map);
  if (h.dev !== d) {
    ctx.misuse('foreign-handle', `${ctx.debugName(d)}: dma_mapping_error on ${h.name}, which was mapped for ${ctx.deviceNames[h.dev]}`, `a handle is only valid for the device it was mapped for`, h);
  }
  h.checked = true;
  if (h.failed) {
    ctx.note = `-ENOMEM: ${h.name} failed; the driver takes its error path and skips what uses it`;
    return;
  }
  ctx.m.debug.markChecked(d, h.handle);
  ctx.note = '0 (mapped)';
}

/** Kernel log lines of the call, for the trace. */
export function logNote(ctx: ExecContext): string {
  const log = ctx.layer.out.log;
  return log.length ? ` [${log.join('; ')}]` : '';
}

/** `alloc_coherent` and `free_coherent`. */
import type { ExecContext } from '../context.js';
import type { Statement } from '../../program/ast.js';
import { BufferState, HandleState } from '../../oracle/contract.js';
import { MapType } from '../../dma/debug.js';
import { formatSize, hex } from '../../util/numbers.js';
import { checkRelease, releaseContract, stampCreated } from './lifecycle.js';

export function alloc_coherent(ctx: ExecContext, s: Statement): void {
  const d = ctx.device(s.args.dev);
  ctx.requireBound(d);
  const size = s.args.size as number;
  const h = new HandleState(s.bind!, 'coherent', d, size, undefined, s.line);
  ctx.handles.set(s.bind!, h);
  ctx.subject = h;
  const handle = ctx.layer.allocCoherent(d, size);
  ctx.takeLayerOutcome(h);
  ctx.checkLayerError('alloc_coherent');
  const phys = ctx.layer.lastPhys;
  // the CPU side exists even when the allocation failed (empty), so that later statements resolve; they are skipped
  const buf = new BufferState(s.bind!, 'coherent', Math.max(phys, 0), handle === undefined ? 0 : size, ctx.bytes.takeZeroed(handle === undefined ? 0 : size), s.line);
  ctx.buffers.set(s.bind!, buf);
  if (handle === undefined) {
    h.failed = true;
    h.checked = true; // a driver checks the returned pointer; the statements that use it are its error path
    ctx.note = `NULL${ctx.note ? ' ' + ctx.note : ''}`;
    return;
  }
  h.handle = handle;
  h.segs = [{ handle, len: size }];
  h.segParts = [[{ buf, bufOff: 0, len: size, targetPhys: phys }]];
  h.checked = true;
  ctx.m.debug.add(d, handle, size, phys, MapType.Coherent, 'bidirectional');
  stampCreated(ctx, h, ctx.layer.coherentBits(d));
  if (ctx.tracing) ctx.note = `${hex(handle)} (${formatSize(size)} at phys ${hex(phys)})${ctx.note ? ' ' + ctx.note : ''}`;
}

export function free_coherent(ctx: ExecContext, s: Statement): void {
  const d = ctx.device(s.args.dev);
  const h = ctx.handle(s.args.buf);
  const buf = ctx.buffer(s.args.buf);
  ctx.requireBound(d);
  if (checkRelease(ctx, d, h, 'free_coherent', () => ctx.m.debug.checkUnmap(d, h.handle, h.len, MapType.Coherent, undefined, ctx.debugName(d)))) return;
  ctx.layer.freeCoherent(d, h.handle, buf.phys, h.len);
  ctx.takeLayerOutcome(h);
  ctx.checkLayerError('free_coherent', h);
  ctx.checkSamePath(h, 'free_coherent');
  releaseContract(ctx, h);
  buf.freed = true;
  buf.freedLine = s.line;
  ctx.note = `ok${ctx.note ? ' ' + ctx.note : ''}`;
}

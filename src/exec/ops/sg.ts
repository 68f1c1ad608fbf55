/** `map_sg` and `unmap_sg`: scatter-gather lists. */
import type { ExecContext } from '../context.js';
import type { Direction, Statement } from '../../program/ast.js';
import { HandleState, type Part } from '../../oracle/contract.js';
import { MapType } from '../../dma/debug.js';
import { hex } from '../../util/numbers.js';
import { checkRelease, releaseContract, stampCreated } from './lifecycle.js';
import { checkMappable } from './placement.js';
import { logNote } from './streaming.js';

export function map_sg(ctx: ExecContext, s: Statement): void {
  const d = ctx.device(s.args.dev);
  ctx.requireBound(d);
  const bufs = (s.args.bufs as string[]).map((n) => ctx.buffer(n));
  const dir = s.args.dir as Direction;
  const total = bufs.reduce((n, b) => n + b.size, 0);
  const h = new HandleState(s.bind!, 'sg', d, total, dir, s.line);
  ctx.handles.set(s.bind!, h);
  ctx.subject = h;
  for (const [i, b] of bufs.entries()) {
    if (bufs.indexOf(b) !== i) ctx.misuse('overlapping-mapping', `${ctx.debugName(d)}: cacheline tracking EEXIST, overlapping mappings aren't supported [${b.name} twice in one list]`, `${b.name} appears twice in the scatter list`);
    checkMappable(ctx, d, b, 0, b.size, dir);
  }
  const segs = ctx.layer.mapSg(d, bufs.map((b) => ({ phys: b.phys, len: b.size })), dir);
  ctx.takeLayerOutcome(h);
  ctx.checkLayerError('map_sg');
  h.checked = true; // a failed map_sg returns no segments: nothing to check
  if (segs.length === 0) {
    h.failed = true;
    ctx.note = `0 segments${logNote(ctx)}`;
    return;
  }
  h.segs = segs;
  h.handle = segs[0]!.handle;
  h.segParts = partsOf(ctx, d, bufs, segs);
  // dma-debug keeps one entry per DMA segment, each remembering the list's entry count
  for (const seg of segs) ctx.m.debug.add(d, seg.handle, seg.len, bufs[0]!.phys, MapType.Sg, dir, bufs.length);
  for (const b of bufs) if (!b.streams.includes(h)) b.streams.push(h);
  ctx.liveStreams.add(h);
  stampCreated(ctx, h, ctx.layer.maskBits(d));
  if (ctx.tracing) ctx.note = `${segs.length} segment${segs.length > 1 ? 's' : ''} [${segs.map((g) => `${hex(g.handle)}+${g.len}`).join(' ')}]${ctx.note ? ' ' + ctx.note : ''}`;
}

/**
 * Which buffer bytes each returned segment stands for: segments take whole
 * entries in order (the IOMMU path merges neighbours, dma-direct never does).
 */
function partsOf(ctx: ExecContext, dev: number, bufs: ReturnType<ExecContext['buffer']>[], segs: ReadonlyArray<{ handle: bigint; len: number }>): Part[][] {
  const viaIommu = ctx.layer.out.path === 'iommu';
  const offset = ctx.layer.dmaOffset(dev);
  const out: Part[][] = [];
  let e = 0;
  for (const seg of segs) {
    const parts: Part[] = [];
    let filled = 0;
    while (filled < seg.len && e < bufs.length) {
      const b = bufs[e++]!;
      const target = viaIommu ? b.phys : Number(seg.handle - offset) + filled;
      parts.push({ buf: b, bufOff: 0, len: b.size, targetPhys: target });
      filled += b.size;
    }
    out.push(parts);
  }
  return out;
}

export function unmap_sg(ctx: ExecContext, s: Statement): void {
  const d = ctx.device(s.args.dev);
  const h = ctx.handle(s.args.sg);
  ctx.requireBound(d);
  const dir = (s.args.dir as Direction | undefined) ?? h.dir!;
  const checkSegments = () => {
    if (h.segs.length === 0) return ctx.m.debug.checkUnmap(d, h.handle, h.len, MapType.Sg, dir, ctx.debugName(d));
    for (const seg of h.segs) {
      const report = ctx.m.debug.checkUnmap(d, seg.handle, seg.len, MapType.Sg, dir, ctx.debugName(d));
      if (report) return report;
    }
    return undefined;
  };
  if (checkRelease(ctx, d, h, 'unmap_sg', checkSegments)) return;
  ctx.layer.unmapSg(d, h.segs, dir);
  ctx.takeLayerOutcome(h);
  ctx.checkLayerError('unmap_sg', h);
  ctx.checkSamePath(h, 'unmap_sg');
  releaseContract(ctx, h);
  ctx.note = `ok${ctx.note ? ' ' + ctx.note : ''}`;
}

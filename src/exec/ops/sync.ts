/** `sync_for_cpu` and `sync_for_device`: ownership handovers of streaming mappings. */
import type { ExecContext } from '../context.js';
import type { Direction, Statement } from '../../program/ast.js';
import type { HandleState } from '../../oracle/contract.js';
import { checkOwnDevice, discardDeviceWrites, settleCpuWrites } from './lifecycle.js';

function sync(ctx: ExecContext, s: Statement, forCpu: boolean): void {
  const d = ctx.device(s.args.dev);
  const h = ctx.handle(s.args.map);
  ctx.requireBound(d);
  ctx.subject = h;
  const what = forCpu ? 'sync_for_cpu' : 'sync_for_device';
  checkOwnDevice(ctx, d, h, what);
  const dir = (s.args.dir as Direction | undefined) ?? h.dir!;
  // the sg forms always sync the whole list
  const off = h.kind === 'sg' ? 0 : ((s.args.off as number | undefined) ?? 0);
  const len = h.kind === 'sg' ? h.len : ((s.args.len as number | undefined) ?? h.len);
  if (h.failed) {
    if (h.checked) {
      ctx.skipped = true;
      ctx.note = `skipped: ${h.name} failed and the driver checked it (its error path)`;
      return;
    }
    ctx.misuse('map-error-unchecked', `${ctx.debugName(d)}: device driver failed to check map error [device address=0xffffffffffffffff]`, `${h.name} failed (line ${h.line}) and is synced without a dma_mapping_error check`);
  }
  if (h.released) {
    ctx.misuse('sync-after-unmap', `${ctx.debugName(d)}: device driver tries to sync DMA memory it has not allocated [device address=0x${h.handle.toString(16)}]`, `${what} of ${h.name} after it was released at line ${h.releasedLine}`);
  }
  // every range is checked before any is synced; an sg mapping syncs each returned segment whole
  if (h.kind === 'sg') {
    for (const g of h.segs) checkSyncRange(ctx, d, h, what, g.handle, 0, g.len, dir, forCpu);
    for (const g of h.segs) syncRange(ctx, d, h, what, g.handle, 0, g.len, dir, forCpu);
  } else {
    checkSyncRange(ctx, d, h, what, h.handle, off, len, dir, forCpu);
    syncRange(ctx, d, h, what, h.handle, off, len, dir, forCpu);
  }
  if (forCpu) {
    // another sync_for_cpu copies the bounce slot over the buffer again, CPU writes included
    settleCpuWrites(h);
    h.deviceWrites.length = 0;
    h.handOver('cpu', off, len);
  } else {
    settleCpuWrites(h);
    discardDeviceWrites(h);
    h.handOver('device', off, len);
  }
  if (ctx.tracing) ctx.note = `ok, ${forCpu ? 'the CPU' : 'the device'} owns ${off === 0 && len >= h.len ? h.name : `${h.name}[${off}..${off + len})`}${ctx.note ? ' ' + ctx.note : ''}`;
}

function checkSyncRange(ctx: ExecContext, d: number, h: HandleState, what: string, handle: bigint, off: number, len: number, dir: Direction, forCpu: boolean): void {
  const report = ctx.m.debug.checkSync(d, handle, off, len, dir, forCpu, ctx.debugName(d));
  if (report) ctx.misuse(report.check, report.message, `${what} of ${h.name} does not match its mapping (line ${h.line})`);
}

function syncRange(ctx: ExecContext, d: number, h: HandleState, what: string, handle: bigint, off: number, len: number, dir: Direction, forCpu: boolean): void {
  ctx.layer.sync(d, handle, off, len, dir, forCpu);
  ctx.takeLayerOutcome(h);
  ctx.checkLayerError(what, h);
  ctx.checkSamePath(h, what);
}

export const sync_for_cpu = (ctx: ExecContext, s: Statement) => sync(ctx, s, true);
export const sync_for_device = (ctx: ExecContext, s: Statement) => sync(ctx, s, false);

/** `dev`, the mask setters, `unbind` and `tick`: device life and time. */
import type { ExecContext } from '../context.js';
import type { Statement } from '../../program/ast.js';

export function dev(ctx: ExecContext, s: Statement): void {
  const index = ctx.layer.addDevice(s.args.width as number, s.args.nomask === true);
  ctx.devices.set(s.bind!, index);
  ctx.deviceNames[index] = s.bind!;
  ctx.takeLayerOutcome();
  ctx.note = s.args.nomask
    ? 'no DMA mask: every DMA call fails (dummy ops)'
    : `masks ${ctx.layer.maskBits(index)}/${ctx.layer.coherentBits(index)} bits, domain ${ctx.layer.domainName(index)}`;
}

function setMasks(ctx: ExecContext, s: Statement, streaming: boolean, coherent: boolean): void {
  const d = ctx.device(s.args.dev);
  ctx.requireBound(d);
  const bits = s.args.bits as number;
  let rc = 0;
  if (streaming) {
    rc = ctx.layer.setMask(d, bits, false);
    ctx.takeLayerOutcome();
  }
  // dma_set_mask_and_coherent touches the coherent mask only if the streaming one was accepted
  if (coherent && rc === 0) {
    rc = ctx.layer.setMask(d, bits, true);
    ctx.takeLayerOutcome();
  }
  ctx.note = `${rc === 0 ? 'ok' : '-EIO'}${ctx.note ? ' ' + ctx.note : ''}`;
  ctx.path = '';
}

export const set_mask = (ctx: ExecContext, s: Statement) => setMasks(ctx, s, true, false);
export const set_coherent_mask = (ctx: ExecContext, s: Statement) => setMasks(ctx, s, false, true);
export const set_mask_and_coherent = (ctx: ExecContext, s: Statement) => setMasks(ctx, s, true, true);

/** Driver unbind: anything still mapped or allocated is a leak (dma-debug's bus notifier). */
export function unbind(ctx: ExecContext, s: Statement): void {
  const d = ctx.device(s.args.dev);
  ctx.requireBound(d);
  const pending = ctx.m.debug.pendingFor(d);
  if (pending.count > 0) {
    const leaked = [...ctx.handles.values()].find((h) => h.dev === d && !h.released && !h.failed);
    ctx.misuse(
      'leak',
      `${ctx.debugName(d)}: device driver has pending DMA allocations while released from device [count=${pending.count}]\nOne of leaked entries details: ${pending.example}`,
      `${pending.count} mapping(s) or allocation(s) of ${ctx.deviceNames[d]} were never unmapped or freed${leaked ? ` (e.g. ${leaked.name}, line ${leaked.line})` : ''}`,
      leaked,
    );
  }
  ctx.layer.unbind(d);
  ctx.note = 'ok, no leaks';
}

export function tick(ctx: ExecContext): void {
  ctx.layer.tick();
  ctx.takeLayerOutcome();
  ctx.note = 'flush queues drained';
}

/**
 * What every handle-creating and handle-releasing statement shares: stamping
 * a new handle with the domain and mask it was made under (checking the
 * layer kept the mask), the checks dma-debug makes before a release, and the
 * contract's side of a release.
 */
import type { ExecContext } from '../context.js';
import type { HandleState } from '../../oracle/contract.js';
import type { DebugReport } from '../../dma/debug.js';
import { fitsMask, hex } from '../../util/numbers.js';

/** A successful map/alloc: remember where it was made; its bus range must fit the mask it was made under. */
export function stampCreated(ctx: ExecContext, h: HandleState, maskBits: number): void {
  h.createDomainSerial = ctx.layer.domainSerial(h.dev);
  h.createMaskBits = maskBits;
  for (const seg of h.segs) {
    if (!fitsMask(seg.handle, seg.len, maskBits)) {
      ctx.crash(
        'layer-error',
        `${h.name}: the layer returned ${hex(seg.handle)}+${seg.len}, beyond the device's ${maskBits}-bit mask\nevery handle must be addressable under the mask in force (layer bug)`,
        'layer',
        h,
      );
    }
  }
}

/** Driver bugs a release can show before the layer is even called; returns true when the statement is skipped. */
export function checkRelease(ctx: ExecContext, dev: number, h: HandleState, what: string, debugCheck: () => DebugReport | undefined): boolean {
  ctx.subject = h;
  checkOwnDevice(ctx, dev, h, what);
  if (h.failed) {
    if (h.checked) {
      ctx.skipped = true;
      ctx.note = `skipped: ${h.name} failed and the driver checked it (its error path)`;
      return true;
    }
    const r = debugCheck();
    ctx.misuse(r?.check ?? 'map-error-unchecked', r?.message ?? `${what} of a failed mapping`, `${h.name} failed (line ${h.line}) and the driver never called dma_mapping_error before ${what}`);
  }
  if (h.released) {
    // not asked of dma-debug: a reused address would make it release someone else's entry
    ctx.misuse(
      'double-unmap',
      `${ctx.debugName(h.dev)}: device driver tries to free DMA memory it has not allocated [device address=${hex(h.handle)}] [size=${h.len} bytes]`,
      `${what} of ${h.name}, which was already released at line ${h.releasedLine}`,
    );
  }
  const report = debugCheck();
  if (report) ctx.misuse(report.check, report.message, plainFor(report.check, h, what));
  return false;
}

function plainFor(check: string, h: HandleState, what: string): string {
  switch (check) {
    case 'wrong-size': return `${what} of ${h.name} passes a different size than it was mapped with (line ${h.line})`;
    case 'wrong-direction': return `${what} of ${h.name} passes a different direction than it was mapped with (line ${h.line})`;
    case 'wrong-function': return `${h.name} is released with the wrong function for its kind (mapped at line ${h.line})`;
    case 'map-error-unchecked': return `${h.name} was used without checking dma_mapping_error first`;
    case 'free-unmapped': return `${what} names a DMA address this device never mapped`;
    default: return `${what} of ${h.name} breaks the DMA API`;
  }
}

/** The contract's side of unmap/free: ownership back to the CPU, CPU-written bytes of a bounce-able mapping undefined. */
export function releaseContract(ctx: ExecContext, h: HandleState): void {
  h.released = true;
  h.releasedLine = ctx.line;
  settleCpuWrites(h);
  h.deviceWrites.length = 0;
  h.owner = 'cpu';
  h.ownBytes = null;
  ctx.liveStreams.delete(h);
  for (const p of h.allParts()) {
    const i = p.buf.streams.indexOf(h);
    if (i >= 0) p.buf.streams.splice(i, 1);
  }
}

/**
 * Bytes the CPU wrote into a from_device/bidirectional mapping while it
 * owned it are not carried to a bounce slot; at the next sync (either way)
 * or the unmap, the slot may be copied over them, so the contract no longer
 * promises them.
 */
export function settleCpuWrites(h: HandleState): void {
  for (const w of h.cpuWrites) w.buf.markUndefined(w.lo, w.hi);
  h.cpuWrites.length = 0;
}

/**
 * A sync_for_device of a bidirectional mapping hands the CPU's bytes to the
 * device again; what the device wrote since the last handover to the CPU was
 * never handed over, and a bounce slot gets overwritten with the CPU's copy.
 * The contract stops promising those bytes.
 */
export function discardDeviceWrites(h: HandleState): void {
  if (h.dir === 'bidirectional') for (const w of h.deviceWrites) w.buf.markUndefined(w.lo, w.hi);
  h.deviceWrites.length = 0;
}

/**
 * A release or sync names the device the handle belongs to. dma-debug looks
 * entries up by (device, address), so another device's mapping at the same
 * address (routine with per-device IOMMU domains) would fool it; the
 * contract knows which device the handle came from.
 */
export function checkOwnDevice(ctx: ExecContext, dev: number, h: HandleState, what: string): void {
  if (h.dev === dev) return;
  const sync = what.startsWith('sync');
  ctx.misuse(
    sync ? 'sync-unmapped' : 'free-unmapped',
    `${ctx.debugName(dev)}: device driver tries to ${sync ? 'sync' : 'free'} DMA memory it has not allocated [device address=${hex(h.handle)}] [size=${h.len} bytes]`,
    `${what} names ${ctx.deviceNames[dev]}, but ${h.name} was made for ${ctx.deviceNames[h.dev]} at line ${h.line}`,
  );
}

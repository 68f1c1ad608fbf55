/**
 * `dev_read`/`dev_write` (device DMA through a handle) and their `_raw` forms
 * (a buggy or hostile device driving any bus address). Checks run in the
 * order the verdict precedence of SPEC section 6 sets: failed and released
 * handles, direction, range, the unchecked map error and ownership (driver
 * bugs) before the access; then the bus (faults, where the bytes landed, what
 * they were), which are the layer's.
 */
import { scratch, type ExecContext } from '../context.js';
import type { Statement } from '../../program/ast.js';
import type { HandleState } from '../../oracle/contract.js';
import { AccessStatus, FAULT_REASONS } from '../../iommu/bus.js';
import { fillFromSeed } from '../../program/seed-fill.js';
import { hex } from '../../util/numbers.js';
import { bytesNote, describeMismatch } from './bytes.js';
import { Ev, mark } from '../../machine/events.js';

function access(ctx: ExecContext, s: Statement, write: boolean): void {
  const d = ctx.device(s.args.dev);
  const { h, seg } = ctx.handleRef(s.args.handle);
  ctx.subject = h;
  const off = s.args.off as number;
  const len = s.args.len as number;
  const what = write ? 'dev_write' : 'dev_read';
  if (h.failed) {
    if (h.checked) {
      ctx.skipped = true;
      ctx.note = `skipped: ${h.name} failed and the driver checked it (its error path)`;
      return;
    }
    if (ctx.layer.isNomask(d)) {
      ctx.misuse('nomask-dma', `${ctx.debugName(d)}: DMA on a device without a DMA mask [the map of ${h.name} failed and the error was ignored]`, `${ctx.deviceNames[d]} has no DMA mask, so ${h.name} failed; the driver did DMA with it anyway`);
    }
    ctx.misuse('map-error-unchecked', `${ctx.debugName(d)}: device driver failed to check map error [device address=0xffffffffffffffff] [mapped as single]`, `${h.name} failed (line ${h.line}) and the device was pointed at DMA_MAPPING_ERROR without a dma_mapping_error check`);
  }
  if (h.released) return afterRelease(ctx, d, h, seg, off, len, write);
  if (seg >= h.segs.length) {
    ctx.misuse('segment-out-of-range', `${what} uses ${h.name}[${seg}] but map_sg returned ${h.segs.length} segment(s)`, `the driver used the entry count instead of the count map_sg returned`);
  }
  if (h.dev !== d) {
    ctx.misuse('foreign-handle', `${what}: ${ctx.deviceNames[d]} uses ${h.name}, which was mapped for ${ctx.deviceNames[h.dev]}`, `a handle is only valid for the device it was mapped for`);
  }
  if ((h.dir === 'from_device' && !write) || (h.dir === 'to_device' && write)) {
    ctx.misuse('access-direction', `${what} through ${h.name}, mapped ${h.dir} at line ${h.line}`, `the device ${write ? 'writes' : 'reads'} a mapping the driver made ${h.dir}; map it bidirectional if the device does both`);
  }
  const segLen = h.segLen(seg);
  if (len === 0 || off + len > segLen) {
    ctx.misuse('access-out-of-range', `${what} at ${h.name}+${off} len ${len}: the mapping is ${segLen} bytes`, `the device was told to reach past the end of ${h.name}`);
  }
  if (!h.checked) {
    ctx.misuse('map-error-unchecked', `${ctx.debugName(d)}: device driver failed to check map error [device address=${hex(h.handle)}] [size=${h.len} bytes] [mapped as single]`, `${h.name} is handed to the device before dma_mapping_error was called on it`);
  }
  const mapOff = offsetInMapping(h, seg) + off;
  if (!h.deviceOwns(mapOff, len)) {
    ctx.crash('cpu-owns-violation', `${what} through ${h.name} while the CPU owns it (after sync_for_cpu)\nthe device touches memory the CPU owns; call dma_sync_single_for_device first (driver bug)`, 'driver');
  }

  const addr = h.segs[seg]!.handle + BigInt(off);
  const width = ctx.layer.widthBits(d);
  const bus = ctx.m.bus;
  const status = bus.translate(d, width, addr, len, write);
  ctx.costNs += bus.costNs;
  const label = routeLabel(ctx, d, h);
  // a constant string, not a fresh one from replace(): the executor maps paths to codes on every statement
  ctx.path = label === 'iommu*' ? 'iommu' : label;
  h.note(label);
  const lied = bus.drivenAddr !== addr && h.createMaskBits > width;
  const liedNote = lied ? ` The device drives only ${width} address bits but the driver set a ${h.createMaskBits}-bit mask, so ${hex(addr)} was cut to ${hex(bus.drivenAddr)} (driver bug: it lied about the width).` : '';
  const blame = lied ? 'driver' : 'layer';
  if (status === AccessStatus.Fault) {
    const now = ctx.layer.domainName(d);
    const moved = ctx.layer.domainSerial(d) !== h.createDomainSerial ? ` The device is in domain ${now} now; ${h.name} was made before that, and nothing carried it over.` : '';
    ctx.crash('iommu-fault', `${faultLine(d, write, bus.faultAddr, bus.faultReason)}\n${h.name} is a live, legal ${h.kind} handle (line ${h.line}) but the IOMMU refused the device's ${write ? 'write' : 'read'} at ${hex(addr)} (${blame} bug).${moved}${liedNote}`, blame);
  }
  if (status === AccessStatus.NoMemory) {
    ctx.crash(write ? 'memory-corruption' : 'stale-data', `${what} at bus address ${hex(bus.drivenAddr)}: no memory there (master abort)\nthe device's ${write ? 'data went nowhere' : 'read returned nothing'} although ${h.name} is live and legal (${blame} bug).${liedNote}`, blame);
  }
  const parts = h.partsIn(seg, off, len);
  const landed = landedWhereExpected(ctx, parts);
  if (write) {
    if (!landed) {
      ctx.crash('memory-corruption', `${what} through ${h.name} at ${hex(addr)} landed at phys ${chunkList(ctx)}, expected ${expectedList(parts)}\na device write within a live, legal mapping reached memory outside it (${blame} bug).${liedNote}`, blame);
    }
    const bytes = scratch(len);
    fillFromSeed(bytes, s.args.seed as number);
    bus.write(bytes);
    let done = 0;
    for (const p of parts) {
      p.buf.store(p.bufOff, p.len === len ? bytes : bytes.subarray(done, done + p.len));
      if (h.dir !== undefined) h.deviceWrites.push({ buf: p.buf, lo: p.bufOff, hi: p.bufOff + p.len });
      done += p.len;
    }
    if (ctx.tracing) ctx.note = `ok (${bytesNote(bytes)})`;
    return;
  }
  const got = scratch(len);
  bus.read(got);
  let done = 0;
  mark(ctx.m.v, Ev.OracleDeviceRead);
  for (const p of parts) {
    const bad = p.buf.firstMismatch(p.bufOff, p.len === len ? got : got.subarray(done, done + p.len));
    if (bad >= 0) {
      ctx.crash('stale-data', `${what} through ${h.name}: ${describeMismatch(p.bufOff + bad, got[done + bad]!, p.buf.view[p.bufOff + bad]!)} of ${p.buf.name}${landed ? '' : ` (read from ${chunkList(ctx)}, expected ${expectedList(parts)})`}\nafter a legal handover the device sees other bytes than the CPU gave it (${blame} bug).${liedNote}`, blame);
    }
    done += p.len;
  }
  if (ctx.tracing) ctx.note = `${bytesNote(got)} as expected`;
}

/** A device access through a handle that was already unmapped or freed: the driver's bug; did the IOMMU contain it? */
function afterRelease(ctx: ExecContext, d: number, h: HandleState, seg: number, off: number, len: number, write: boolean): never {
  const addr = (h.segs[seg]?.handle ?? h.handle) + BigInt(off);
  const outcome = rogueAccess(ctx, d, addr, len, write, ctx.stmt.args.seed as number | undefined);
  ctx.crash(
    'dma-after-unmap',
    `DMA-API: device ${write ? 'write' : 'read'} of ${hex(addr)} after ${h.kind === 'coherent' ? 'dma_free_coherent' : 'dma_unmap'} of ${h.name} (line ${h.releasedLine}) — ${outcome}\nthe device used a handle after the driver released it (driver bug)`,
    'driver',
    h,
  );
}

/**
 * A rogue access: counted in the security record as contained (no memory
 * touched) or escaped; an escaped write really changes memory, and the
 * contract stops promising the bytes it hit.
 */
function rogueAccess(ctx: ExecContext, d: number, addr: bigint, len: number, write: boolean, seed: number | undefined): string {
  ctx.security.rogue++;
  const bus = ctx.m.bus;
  const status = bus.translate(d, ctx.layer.widthBits(d), addr, len, write);
  ctx.costNs += bus.costNs;
  ctx.path = bus.route === 'window' ? 'direct' : bus.route;
  if (status !== AccessStatus.Ok) {
    ctx.security.contained++;
    mark(ctx.m.v, Ev.RogueContained);
    return status === AccessStatus.Fault ? `contained by the IOMMU: ${faultLine(d, write, bus.faultAddr, bus.faultReason)}` : `contained: no memory at ${hex(bus.drivenAddr)}`;
  }
  ctx.security.escaped++;
  mark(ctx.m.v, Ev.RogueEscaped);
  const where = chunkList(ctx);
  if (write) {
    const bytes = new Uint8Array(len);
    fillFromSeed(bytes, seed ?? 0);
    forgetOverwritten(ctx);
    bus.write(bytes);
  }
  return `escaped${bus.usedStaleEntry ? ' through a stale IOTLB entry' : ''}: it reached phys ${where}`;
}

function raw(ctx: ExecContext, s: Statement, write: boolean): void {
  const d = ctx.device(s.args.dev);
  const addr = s.args.addr as bigint;
  const len = s.args.len as number;
  const inside = liveHandleCovering(ctx, d, addr, len);
  if (inside) {
    // the device addresses one of its own live mappings by number: not rogue, and not judged as a handle access
    const bus = ctx.m.bus;
    const status = bus.translate(d, ctx.layer.widthBits(d), addr, len, write);
    ctx.costNs += bus.costNs;
    if (status === AccessStatus.Ok && write) {
      const bytes = new Uint8Array(len);
      fillFromSeed(bytes, s.args.seed as number);
      forgetOverwritten(ctx);
      bus.write(bytes);
    }
    ctx.note = `inside live ${inside.name}: ${status === AccessStatus.Ok ? 'ok' : 'refused'}`;
    return;
  }
  ctx.note = `rogue: ${rogueAccess(ctx, d, addr, len, write, s.args.seed as number | undefined)}`;
}

export const dev_write = (ctx: ExecContext, s: Statement) => access(ctx, s, true);
export const dev_read = (ctx: ExecContext, s: Statement) => access(ctx, s, false);
export const dev_write_raw = (ctx: ExecContext, s: Statement) => raw(ctx, s, true);
export const dev_read_raw = (ctx: ExecContext, s: Statement) => raw(ctx, s, false);

// ---- helpers -------------------------------------------------------------

function offsetInMapping(h: HandleState, seg: number): number {
  let n = 0;
  for (let i = 0; i < seg; i++) n += h.segLen(i);
  return n;
}

/** How the access was resolved, for traces and signatures; '*' = not the domain the handle was made in. */
function routeLabel(ctx: ExecContext, d: number, h: HandleState): string {
  const route = ctx.m.bus.route;
  // without translation the device reaches whatever the handle names: a bounce slot stays a bounce slot
  if (route !== 'iommu') return h.history[0] === 'bounce' ? 'bounce' : 'direct';
  return ctx.layer.domainSerial(d) === h.createDomainSerial ? 'iommu' : 'iommu*';
}

export function faultLine(d: number, write: boolean, addr: bigint, reason: number): string {
  const bdf = `00:${(d + 1).toString(16).padStart(2, '0')}.0`;
  return `DMAR: [DMA ${write ? 'Write' : 'Read'}] Request device [${bdf}] fault addr ${addr.toString(16)} [fault reason ${String(reason).padStart(2, '0')}] ${FAULT_REASONS[reason] ?? 'unknown'}`;
}

function landedWhereExpected(ctx: ExecContext, parts: ReturnType<HandleState['partsIn']>): boolean {
  const bus = ctx.m.bus;
  // the expected parts merged into contiguous runs (as the bus merges its chunks), compared run by run
  let chunk = 0;
  let i = 0;
  while (i < parts.length) {
    const start = parts[i]!.targetPhys;
    let len = parts[i]!.len;
    for (i++; i < parts.length && start + len === parts[i]!.targetPhys; i++) len += parts[i]!.len;
    if (chunk >= bus.chunkPhys.length || bus.chunkPhys[chunk] !== start || bus.chunkLen[chunk] !== len) return false;
    chunk++;
  }
  return chunk === bus.chunkPhys.length;
}

function chunkList(ctx: ExecContext): string {
  const bus = ctx.m.bus;
  return bus.chunkPhys.map((p, i) => `${hex(p)}+${bus.chunkLen[i]}`).join(', ');
}

function expectedList(parts: ReturnType<HandleState['partsIn']>): string {
  return parts.map((p) => `${hex(p.targetPhys)}+${p.len} (${p.buf.name})`).join(', ');
}

/** The live handle of this device whose bus range holds [addr, addr+len), if any. */
function liveHandleCovering(ctx: ExecContext, d: number, addr: bigint, len: number): HandleState | undefined {
  for (const h of ctx.handles.values()) {
    if (h.dev !== d || h.failed || h.released) continue;
    for (const seg of h.segs) {
      if (addr >= seg.handle && addr + BigInt(len) <= seg.handle + BigInt(seg.len)) return h;
    }
  }
  return undefined;
}

/** Before an unjudged write lands: every contract byte in the chunks it will hit becomes undefined. */
function forgetOverwritten(ctx: ExecContext): void {
  const bus = ctx.m.bus;
  for (let i = 0; i < bus.chunkPhys.length; i++) {
    const lo = bus.chunkPhys[i]!;
    const hi = lo + bus.chunkLen[i]!;
    for (const b of ctx.buffers.values()) {
      const a = Math.max(lo, b.phys);
      const z = Math.min(hi, b.phys + b.size);
      if (a < z && !b.freed) b.markUndefined(a - b.phys, z - b.phys);
    }
    for (const h of ctx.liveStreams) {
      for (const p of h.allParts()) {
        const a = Math.max(lo, p.targetPhys);
        const z = Math.min(hi, p.targetPhys + p.len);
        if (a < z) p.buf.markUndefined(p.bufOff + (a - p.targetPhys), p.bufOff + (z - p.targetPhys));
      }
    }
  }
}

/** `cpu_write` and `cpu_read`: the CPU touching a kernel or coherent buffer. */
import { scratch, type ExecContext } from '../context.js';
import type { Statement } from '../../program/ast.js';
import type { BufferState } from '../../oracle/contract.js';
import { fillFromSeed } from '../../program/seed-fill.js';
import { hex } from '../../util/numbers.js';
import { bytesNote, describeMismatch } from './bytes.js';
import { Ev, mark } from '../../machine/events.js';

/** Common checks; returns the buffer, or undefined when the statement is skipped. */
function cpuTarget(ctx: ExecContext, s: Statement, writing: boolean): BufferState | undefined {
  const b = ctx.buffer(s.args.buf);
  const off = s.args.off as number;
  const len = s.args.len as number;
  const h = ctx.handles.get(b.name);
  if (h?.failed) {
    ctx.skipped = true;
    ctx.note = `skipped: ${b.name} is NULL (the driver's error path)`;
    return undefined;
  }
  if (b.freed) {
    ctx.misuse('cpu-use-after-free', `BUG: KASAN: use-after-free in ${writing ? 'cpu_write' : 'cpu_read'} [${b.name} freed at line ${b.freedLine}]`, `the CPU touches ${b.name} after it was freed`);
  }
  if (off + len > b.size) {
    ctx.misuse('cpu-out-of-range', `BUG: KASAN: slab-out-of-bounds in ${writing ? 'cpu_write' : 'cpu_read'} [${b.name}+${off} len ${len}, size ${b.size}]`, `the CPU touches bytes past the end of ${b.name}`);
  }
  for (const m of b.streams) {
    const ov = m.overlapWith(b, off, off + len);
    if (ov && !m.cpuOwns(ov.mapOff, ov.len)) {
      ctx.crash(
        'cpu-owns-violation',
        `DMA-API: cpu touching an active dma mapped cacheline [${m.name}, mapped ${m.dir} at line ${m.line}]\nthe CPU ${writing ? 'writes' : 'reads'} ${b.name}[${off}..${off + len}) while the device owns ${m.name}; call dma_sync_single_for_cpu (or unmap) first (driver bug)`,
        'driver',
        m,
      );
    }
  }
  return b;
}

export function cpu_write(ctx: ExecContext, s: Statement): void {
  const b = cpuTarget(ctx, s, true);
  if (!b) return;
  const off = s.args.off as number;
  const len = s.args.len as number;
  const bytes = scratch(len);
  fillFromSeed(bytes, s.args.seed as number);
  ctx.m.mem.write(b.phys + off, bytes);
  b.store(off, bytes);
  for (const m of b.streams) {
    if (m.dir !== 'to_device' && m.overlapWith(b, off, off + len)) m.cpuWrites.push({ buf: b, lo: off, hi: off + len });
  }
  if (ctx.tracing) ctx.note = `ok (${bytesNote(bytes)})`;
}

export function cpu_read(ctx: ExecContext, s: Statement): void {
  const b = cpuTarget(ctx, s, false);
  if (!b) return;
  const off = s.args.off as number;
  const len = s.args.len as number;
  const actual = scratch(len);
  ctx.m.mem.read(b.phys + off, actual);
  mark(ctx.m.v, Ev.OracleCpuRead);
  const bad = b.firstMismatch(off, actual);
  if (bad >= 0) {
    const subject = b.streams[0] ?? [...ctx.handles.values()].find((h) => h.allParts().some((p) => p.buf === b));
    ctx.crash(
      'stale-data',
      `cpu_read ${b.name}: ${describeMismatch(off + bad, actual[bad]!, b.view[off + bad]!)} at phys ${hex(b.phys + off + bad)}\nafter a legal handover the CPU sees other bytes than the DMA API promises (layer bug)`,
      'layer',
      subject,
    );
  }
  if (ctx.tracing) ctx.note = `${bytesNote(actual)} as expected`;
}

/** `kmalloc` and `kfree`: driver-owned kernel memory. */
import type { ExecContext } from '../context.js';
import type { Statement, Zone } from '../../program/ast.js';
import { ExtentKind } from '../../machine/page-allocator.js';
import { BufferState } from '../../oracle/contract.js';
import { Crash } from '../../oracle/verdict.js';
import { formatSize, hex } from '../../util/numbers.js';

export function kmalloc(ctx: ExecContext, s: Statement): void {
  const size = s.args.size as number;
  const zone = (s.args.zone as Zone | undefined) ?? 'normal';
  const phys = ctx.m.pages.alloc(size, zone, ExtentKind.Kmalloc);
  if (phys < 0) throw new Crash('hang', 'model', `kmalloc of ${formatSize(size)} found no free RAM: the program exhausted the simulated memory (budget)`);
  // kmalloc memory holds whatever was there; the contract takes that as the buffer's previous contents
  const view = ctx.bytes.take(size);
  ctx.m.mem.read(phys, view);
  ctx.buffers.set(s.bind!, new BufferState(s.bind!, 'kbuf', phys, size, view, s.line));
  if (ctx.tracing) ctx.note = `phys ${hex(phys)}`;
}

export function kfree(ctx: ExecContext, s: Statement): void {
  const b = ctx.buffer(s.args.buf);
  if (b.freed) {
    ctx.misuse('double-free', `BUG: KASAN: double-free in kfree [${b.name} was freed at line ${b.freedLine}]`, `${b.name} is freed twice`);
  }
  const live = b.streams[0];
  if (live) {
    ctx.misuse(
      'free-mapped-buffer',
      `${ctx.debugName(live.dev)}: device driver frees memory that is still DMA-mapped [mapping ${live.name}, line ${live.line}]`,
      `${b.name} is freed while ${live.name} still maps it; the device may still write into freed memory`,
      live,
    );
  }
  ctx.m.pages.free(b.phys);
  b.freed = true;
  b.freedLine = s.line;
  ctx.note = 'ok';
}

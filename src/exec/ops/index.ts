/** Statement kind -> its semantics. One entry per row of src/program/syntax.ts. */
import type { OpName, Statement } from '../../program/ast.js';
import type { ExecContext } from '../context.js';
import * as devices from './devices.js';
import * as kmalloc from './kmalloc.js';
import * as coherent from './coherent.js';
import * as streaming from './streaming.js';
import * as sg from './sg.js';
import * as sync from './sync.js';
import * as cpu from './cpu.js';
import * as deviceAccess from './device-access.js';

export type OpFn = (ctx: ExecContext, s: Statement) => void;

export const OPS: Readonly<Record<OpName, OpFn>> = {
  dev: devices.dev,
  set_mask: devices.set_mask,
  set_coherent_mask: devices.set_coherent_mask,
  set_mask_and_coherent: devices.set_mask_and_coherent,
  unbind: devices.unbind,
  tick: devices.tick,
  kmalloc: kmalloc.kmalloc,
  kfree: kmalloc.kfree,
  alloc_coherent: coherent.alloc_coherent,
  free_coherent: coherent.free_coherent,
  map_single: streaming.map_single,
  map_page: streaming.map_page,
  unmap_single: streaming.unmap_single,
  unmap_page: streaming.unmap_page,
  mapping_error: streaming.mapping_error,
  map_sg: sg.map_sg,
  unmap_sg: sg.unmap_sg,
  sync_for_cpu: sync.sync_for_cpu,
  sync_for_device: sync.sync_for_device,
  cpu_write: cpu.cpu_write,
  cpu_read: cpu.cpu_read,
  dev_write: deviceAccess.dev_write,
  dev_read: deviceAccess.dev_read,
  dev_write_raw: deviceAccess.dev_write_raw,
  dev_read_raw: deviceAccess.dev_read_raw,
};

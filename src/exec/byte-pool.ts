/**
 * Byte arrays for the contract's copy of each buffer (kmalloc, coherent),
 * reused from one run on a machine to the next instead of allocated anew.
 * Each run of a fuzz program allocates several 2-64 KiB arrays, memory
 * outside the JS heap that V8 frees with background sweeping and counts
 * towards full collections; with two workers that background work took
 * CPU from the other worker.
 *
 * A run's arrays stay valid until the next run on the same machine begins
 * (`ExecContext` releases them when it is created): nothing of a run's
 * contract outlives its verdict.
 */
import type { Machine } from '../machine/machine.js';

/** Arrays larger than this are not kept (a program may kmalloc anything up to the RAM size). */
const POOLED_BYTES_MAX = 1 << 20;
/** All kept arrays together stay below this. */
const POOL_BYTES_MAX = 64 << 20;

export class BytePool {
  private readonly free = new Map<number, Uint8Array[]>();
  private readonly lent: Uint8Array[] = [];
  private keptBytes = 0;

  /** `size` bytes of unspecified contents, lent until `releaseAll`. */
  take(size: number): Uint8Array {
    const a = this.free.get(size)?.pop();
    if (a !== undefined) {
      this.keptBytes -= size;
      this.lent.push(a);
      return a;
    }
    const fresh = new Uint8Array(size);
    if (size <= POOLED_BYTES_MAX) this.lent.push(fresh);
    return fresh;
  }

  /** `size` zero bytes. */
  takeZeroed(size: number): Uint8Array {
    return this.take(size).fill(0);
  }

  /** Every lent array is free again. */
  releaseAll(): void {
    for (const a of this.lent) {
      if (this.keptBytes + a.length > POOL_BYTES_MAX) break;
      let list = this.free.get(a.length);
      if (list === undefined) this.free.set(a.length, (list = []));
      list.push(a);
      this.keptBytes += a.length;
    }
    this.lent.length = 0;
  }
}

const pools = new WeakMap<Machine, BytePool>();

/** The pool of runs on this machine. */
export function bytePoolOf(m: Machine): BytePool {
  let p = pools.get(m);
  if (p === undefined) pools.set(m, (p = new BytePool()));
  return p;
}

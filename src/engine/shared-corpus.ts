/**
 * The coverage corpus as workers see it: an append-only log of intent lists
 * in SharedArrayBuffers. The coordinator appends the programs that found new
 * coverage between epochs; a task names only how many entries its epoch's
 * snapshot holds. Each worker decodes an entry once, the first time a
 * snapshot reaches it, instead of receiving the whole corpus as a structured
 * clone with every task (which cost the coordinator and the workers more
 * than a tenth of their time once the corpus held a few hundred programs).
 *
 * Layout: `index` holds Int32 start offsets (in intents) with one more slot
 * than there are entries, so entry i spans [index[i], index[i+1]); `data`
 * holds five Int32 fields (k, a, b, c, d) per intent. When a buffer is full
 * the writer copies the log into buffers twice as large; a snapshot already
 * sent keeps the old ones, whose prefix is the same.
 */
import { intent, type Intent } from '../program/generate.js';
import { assert } from '../util/assert.js';

const FIELDS = 5;

/** What a task carries: the log's buffers and the length of its snapshot. */
export interface CorpusSnapshot {
  index: SharedArrayBuffer;
  data: SharedArrayBuffer;
  length: number;
}

/** The coordinator's side: appends entries and hands out snapshots. */
export class SharedCorpusWriter {
  private index: Int32Array;
  private data: Int32Array;
  private entries = 0;

  constructor(initialEntries = 1024, initialIntents = 64 * 1024) {
    this.index = new Int32Array(new SharedArrayBuffer((initialEntries + 1) * 4));
    this.data = new Int32Array(new SharedArrayBuffer(initialIntents * FIELDS * 4));
  }

  get length(): number {
    return this.entries;
  }

  append(intents: readonly Intent[]): void {
    this.appendPacked(packIntents(intents));
  }

  /** Appends an entry already packed by `packIntents` (how workers ship their finds). */
  appendPacked(packed: Int32Array): void {
    const start = this.index[this.entries]!;
    const end = start + packed.length / FIELDS;
    if (this.entries + 2 > this.index.length) this.index = grown(this.index, (this.entries + 2) * 2);
    if (end * FIELDS > this.data.length) this.data = grown(this.data, end * FIELDS * 2);
    this.data.set(packed, start * FIELDS);
    this.entries++;
    this.index[this.entries] = end;
  }

  /** The corpus as it is now, for the tasks of one epoch. */
  snapshot(): CorpusSnapshot {
    return { index: this.index.buffer as SharedArrayBuffer, data: this.data.buffer as SharedArrayBuffer, length: this.entries };
  }
}

/**
 * Intents as one Int32Array, five fields (k, a, b, c, d) each: the log's own
 * layout, and what a worker sends for a find (a typed array crosses a thread
 * as one copy; an array of objects is cloned field by field).
 */
export function packIntents(intents: readonly Intent[]): Int32Array {
  const out = new Int32Array(intents.length * FIELDS);
  let at = 0;
  for (const it of intents) {
    out[at] = it.k;
    out[at + 1] = it.a;
    out[at + 2] = it.b;
    out[at + 3] = it.c;
    out[at + 4] = it.d;
    at += FIELDS;
  }
  return out;
}

function grown(a: Int32Array, length: number): Int32Array {
  const b = new Int32Array(new SharedArrayBuffer(length * 4));
  b.set(a);
  return b;
}

/**
 * A worker's side: the entries decoded so far. The log only grows, so a
 * decoded entry stays valid for every later snapshot; with two epochs in
 * flight a worker may get an older, shorter snapshot after a newer one.
 */
export class SharedCorpusReader {
  private readonly decoded: Intent[][] = [];

  /** The first `snap.length` entries of the log. */
  entries(snap: CorpusSnapshot): readonly (readonly Intent[])[] {
    if (snap.length > this.decoded.length) {
      const index = new Int32Array(snap.index);
      const data = new Int32Array(snap.data);
      assert(snap.length < index.length, 'corpus snapshot longer than its index');
      for (let e = this.decoded.length; e < snap.length; e++) {
        const out: Intent[] = [];
        for (let at = index[e]! * FIELDS, end = index[e + 1]! * FIELDS; at < end; at += FIELDS) {
          out.push(intent(data[at]!, data[at + 1]!, data[at + 2]!, data[at + 3]!, data[at + 4]!));
        }
        this.decoded.push(out);
      }
    }
    return snap.length === this.decoded.length ? this.decoded : this.decoded.slice(0, snap.length);
  }
}

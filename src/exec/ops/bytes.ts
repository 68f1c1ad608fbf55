/** How byte ranges appear in traces and messages. */
import { hex } from '../../util/numbers.js';

/** The first few bytes in hex, as a person scans a dump. */
export function bytesNote(bytes: Uint8Array): string {
  const head = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
  return `${bytes.length} bytes: ${head}${bytes.length > 8 ? ' ...' : ''}`;
}

export function describeMismatch(offset: number, got: number, want: number): string {
  return `byte ${offset} (${hex(offset)}) is ${hex(got)}, the contract says ${hex(want)}`;
}

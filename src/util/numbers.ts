/**
 * Numbers as users write them: decimal, `0x` hex, with an optional K/M/G/T
 * suffix meaning powers of two (SPEC section 2). One parser for program text,
 * machine lines and CLI flags, so every place accepts the same spellings.
 */

const SUFFIX_SHIFT: Record<string, bigint> = { K: 10n, M: 20n, G: 30n, T: 40n };

const NUMBER_RE = /^(0x[0-9a-fA-F]+|[0-9]+)([KMGTkmgt]?)$/;

/** Parses a size/offset/address; returns undefined when the text is not a number. */
export function parseBigNumber(text: string): bigint | undefined {
  const m = NUMBER_RE.exec(text);
  if (!m) return undefined;
  const base = BigInt(m[1]!);
  const suffix = m[2]!.toUpperCase();
  return suffix ? base << SUFFIX_SHIFT[suffix]! : base;
}

/** Like parseBigNumber, for values that must stay exact as a JS number (< 2^53). */
export function parseNumber(text: string): number | undefined {
  const v = parseBigNumber(text);
  if (v === undefined || v > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
  return Number(v);
}

/** Prints a size the way a person would write it: 4K, 2G, 0x1800, 512. */
export function formatSize(value: number | bigint): string {
  const v = BigInt(value);
  if (v === 0n) return '0';
  for (const [suffix, shift] of [['T', 40n], ['G', 30n], ['M', 20n], ['K', 10n]] as const) {
    if (v % (1n << shift) === 0n) return `${v >> shift}${suffix}`;
  }
  return v >= 4096n ? `0x${v.toString(16)}` : v.toString();
}

/** Hex for addresses, as the kernel prints them. */
export function hex(value: number | bigint): string {
  return `0x${BigInt(value).toString(16)}`;
}

/** 2^53 - 1 as a bigint: at or below it, a bigint converts to a number exactly. */
const MAX_SAFE_BIG = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * DMA_BIT_MASK(0..63), built once: masks are asked for on every map and
 * every device access, and building one costs two bigint allocations.
 */
const BIT_MASKS: readonly bigint[] = Array.from({ length: 64 }, (_, bits) => (1n << BigInt(bits)) - 1n);
const ALL_ONES = (1n << 64n) - 1n;

/** All-ones mask of `bits` low bits as a bigint (DMA_BIT_MASK). */
export function bitMask(bits: number): bigint {
  if (bits >= 64) return ALL_ONES;
  // a non-integer or negative width is not in the table: compute it (BigInt() throws for a fraction, as before)
  return BIT_MASKS[bits] ?? (1n << BigInt(bits)) - 1n;
}

/**
 * a + len > limit for a bigint a, a number len and a safe-integer limit,
 * without bigint arithmetic when a and len are safe integers: the double sum
 * is exact, or (when it rounds) already beyond any safe limit. Bounds checks
 * on every device access and every dma-direct unmap/sync use it.
 */
export function sumAbove(a: bigint, len: number, limit: number): boolean {
  if (a >= 0n && a <= MAX_SAFE_BIG && Number.isSafeInteger(len)) return Number(a) + len > limit;
  return a + BigInt(len) > BigInt(limit);
}

/** Smallest n such that value < 2^n (number of significant bits; 0 for 0). */
export function bitLength(value: bigint): number {
  return value === 0n ? 0 : value.toString(2).length;
}

/** True when every byte of [start, start+len) is addressable with a `bits`-bit mask. */
export function fitsMask(start: bigint, len: number, bits: number): boolean {
  // Fast path without bigint arithmetic (this runs on every dma-direct map and
  // every new handle): when start and start + len are safe integers the
  // double sum is exact, and 2^bits is exact for a whole bits below 64, so
  // start + len - 1 <= 2^bits - 1 is decided exactly; anything else takes the
  // bigint path below.
  const n = Math.max(len, 1);
  if (start >= 0n && start <= MAX_SAFE_BIG && Number.isSafeInteger(n)) {
    const end = Number(start) + n;
    if (end <= Number.MAX_SAFE_INTEGER) {
      if (bits >= 64) return true;
      if (bits >= 0 && Number.isInteger(bits)) return end <= 2 ** bits;
    }
  }
  if (bits >= 64) return start + BigInt(Math.max(len, 1)) - 1n < 1n << 64n;
  return start + BigInt(Math.max(len, 1)) - 1n <= bitMask(bits);
}

export const ALL_ONES_64 = (1n << 64n) - 1n;

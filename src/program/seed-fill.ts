/**
 * The deterministic byte pattern behind `seed=N` (SPEC section 3).
 *
 * Byte i of a fill with seed N (i counted from the first byte the statement
 * writes) depends only on (N, i): it is byte i % 4, little-endian, of the
 * 32-bit word W(N, floor(i / 4)), where W(N, k) is the (k+1)-th output of
 * Tommy Ettinger's mulberry32 generator seeded with N. mulberry32 advances
 * its state by adding a constant, so W can be computed for any k directly,
 * which lets a fill be split (page by page, say) without changing a byte.
 * In C, with all arithmetic on uint32_t (wrapping mod 2^32):
 *
 *     uint32_t seed_word(uint32_t seed, uint32_t k) {
 *         uint32_t z = seed + (k + 1) * 0x6D2B79F5u;
 *         z = (z ^ (z >> 15)) * (z | 1u);
 *         z ^= z + (z ^ (z >> 7)) * (z | 61u);
 *         return z ^ (z >> 14);
 *     }
 *     uint8_t seed_byte(uint32_t seed, uint64_t i) {
 *         return seed_word(seed, (uint32_t)(i / 4)) >> (8 * (i % 4));
 *     }
 *
 * (k wraps mod 2^32, so the pattern repeats every 16 GiB.) Check values:
 * W(0, 0) = 0x4434b462, so seed=0 starts 62 b4 34 44; seed=7 starts
 * 2c 15 ff 02 12 7f dc 0f (pinned in test/program-format.test.ts).
 */

const GOLDEN = 0x6d2b79f5;

/** W(seed, k): the (k+1)-th mulberry32 output for `seed`, as an unsigned 32-bit number. */
export function seedWord(seed: number, k: number): number {
  // Math.imul and `|0` reduce any integer below 2^53 exactly mod 2^32, so a
  // huge k wraps the same way as the C code's uint32_t.
  let z = (seed + Math.imul((k + 1) | 0, GOLDEN)) | 0;
  z = Math.imul(z ^ (z >>> 15), z | 1);
  z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
  return (z ^ (z >>> 14)) >>> 0;
}

/** Byte `index` (0-based, from the start of the fill) of the pattern for `seed`. */
export function seedByte(seed: number, index: number): number {
  return (seedWord(seed, Math.floor(index / 4)) >>> (8 * (index % 4))) & 0xff;
}

/**
 * Fills `dst` with the pattern for `seed`, starting at pattern byte
 * `firstIndex` (0 for a whole fill): dst[j] = seedByte(seed, firstIndex + j).
 */
export function fillFromSeed(dst: Uint8Array, seed: number, firstIndex = 0): void {
  let j = 0;
  let i = firstIndex;
  // Unaligned head: bytes of a word the fill starts inside.
  while (j < dst.length && i % 4 !== 0) dst[j++] = seedByte(seed, i++);
  // Whole words, one generator step per 4 bytes.
  let k = i / 4;
  for (; j + 4 <= dst.length; j += 4, k++) {
    const w = seedWord(seed, k);
    dst[j] = w & 0xff;
    dst[j + 1] = (w >>> 8) & 0xff;
    dst[j + 2] = (w >>> 16) & 0xff;
    dst[j + 3] = w >>> 24;
  }
  i = k * 4;
  while (j < dst.length) dst[j++] = seedByte(seed, i++);
}

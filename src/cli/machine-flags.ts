/**
 * Machine configuration from CLI flags (SPEC section 2: CLI flags win over a
 * program's machine line). Each flag is validated on its own so that an
 * error names the flag.
 */
import type { Argv } from 'yargs';
import type { MachineWord } from '../program/ast.js';
import { applyMachineWords, DEFAULT_CONFIG, deriveFacts, flagText } from '../machine/config.js';
import { UserError } from '../util/errors.js';

const FLAGS = [
  ['ram', 'ram', 'RAM ranges START-END, e.g. 0-2G,4G-6G'],
  ['inval', 'inval', 'IOTLB invalidation on unmap: strict or lazy'],
  ['fq', 'fq', 'flush-queue length in lazy mode'],
  ['swiotlb', 'swiotlb', 'swiotlb pool size, e.g. 4M'],
  ['page', 'page', 'page size, e.g. 4K'],
  ['swiotlb-map-copy', 'swiotlb_map_copy', 'what a from_device map copies into a bounce slot: always (5.18+) or dir (5.4)'],
] as const;

export function withMachineFlags<T>(y: Argv<T>): Argv<T> {
  let out = y;
  for (const [flag, , describe] of FLAGS) out = out.option(flag, { type: 'string', describe, group: 'Machine:' }) as Argv<T>;
  return out;
}

/** The machine words the flags give, each checked; errors name the flag. */
export function machineOverrides(argv: Record<string, unknown>): MachineWord[] {
  const words: MachineWord[] = [];
  for (const [flag, key] of FLAGS) {
    const value = argv[flag];
    if (value === undefined) continue;
    const word = { key, value: String(value), column: 0 };
    try {
      applyMachineWords(DEFAULT_CONFIG, [word]);
    } catch (e) {
      if (e instanceof UserError) throw new UserError(`--${flag}: ${e.message}`);
      throw e;
    }
    words.push(word);
  }
  // each flag is fine alone; together (over the defaults) they must still leave room for the swiotlb pool
  try {
    deriveFacts(applyMachineWords(DEFAULT_CONFIG, words));
  } catch (e) {
    if (e instanceof UserError) throw new UserError(`${flagText(words) || 'the default machine'}: ${e.message}`);
    throw e;
  }
  return words;
}

/**
 * Mutation of programs at the intent level (see generate.ts): insert,
 * delete, duplicate, splice with another corpus entry, and re-parameterize.
 * Because the interpreter re-derives every statement from the intents, a
 * mutant's handles are always consistent, and a mutant of a legal program is
 * legal.
 */
import type { Intent } from './generate.js';
import type { Rng } from '../engine/seeds.js';

export type MutationKind = 'insert' | 'delete' | 'duplicate' | 'splice' | 'reparam';
const KINDS: readonly MutationKind[] = ['insert', 'delete', 'duplicate', 'splice', 'reparam'];

export function randomIntent(rng: Rng): Intent {
  return { k: rng.below(1001), a: rng.below(65), b: rng.below(65), c: rng.below(65), d: rng.below(65) };
}

/** One to four mutations of `base`; `other` is a second corpus entry for splicing. */
export function mutateIntents(base: readonly Intent[], other: readonly Intent[], rng: Rng, maxIntents: number): Intent[] {
  let out = base.map((i) => ({ ...i }));
  const rounds = 1 + rng.below(4);
  for (let r = 0; r < rounds; r++) {
    const kind = KINDS[rng.below(KINDS.length)]!;
    const at = rng.below(out.length + 1);
    switch (kind) {
      case 'insert':
        out.splice(at, 0, randomIntent(rng));
        break;
      case 'delete':
        if (out.length > 1) out.splice(Math.min(at, out.length - 1), 1);
        break;
      case 'duplicate': {
        const len = 1 + rng.below(Math.min(8, out.length || 1));
        out.splice(at, 0, ...out.slice(at, at + len).map((i) => ({ ...i })));
        break;
      }
      case 'splice': {
        const cut = rng.below(other.length + 1);
        out = [...out.slice(0, at), ...other.slice(cut).map((i) => ({ ...i }))];
        break;
      }
      case 'reparam': {
        if (out.length === 0) break;
        const i = out[Math.min(at, out.length - 1)]!;
        const field = (['k', 'a', 'b', 'c', 'd'] as const)[rng.below(5)]!;
        i[field] = field === 'k' ? rng.below(1001) : rng.below(65);
        break;
      }
    }
  }
  return out.slice(0, maxIntents);
}

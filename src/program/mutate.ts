/**
 * Mutation of programs at the intent level (see generate.ts): insert,
 * delete, duplicate, splice with another corpus entry, and re-parameterize.
 * Because the interpreter re-derives every statement from the intents, a
 * mutant's handles are always consistent, and a mutant of a legal program is
 * legal.
 */
import { copyIntent, intent, type Intent } from './generate.js';
import type { Rng } from '../engine/seeds.js';

export type MutationKind = 'insert' | 'delete' | 'duplicate' | 'splice' | 'reparam';
const KINDS: readonly MutationKind[] = ['insert', 'delete', 'duplicate', 'splice', 'reparam'];

export function randomIntent(rng: Rng): Intent {
  return intent(rng.below(1001), rng.below(65), rng.below(65), rng.below(65), rng.below(65));
}

/** One to four mutations of `base`; `other` is a second corpus entry for splicing. */
export function mutateIntents(base: readonly Intent[], other: readonly Intent[], rng: Rng, maxIntents: number): Intent[] {
  let out = base.map((i) => copyIntent(i));
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
        out.splice(at, 0, ...out.slice(at, at + len).map((i) => copyIntent(i)));
        break;
      }
      case 'splice': {
        const cut = rng.below(other.length + 1);
        out = [...out.slice(0, at), ...other.slice(cut).map((i) => copyIntent(i))];
        break;
      }
      case 'reparam': {
        if (out.length === 0) break;
        // a new intent rather than a store into the old one: intents are never written after they are
        // built, so V8 keeps their fields constant, and code that read them is not thrown away
        const idx = Math.min(at, out.length - 1);
        const i = out[idx]!;
        const field = rng.below(5);
        const v = field === 0 ? rng.below(1001) : rng.below(65);
        out[idx] = intent(field === 0 ? v : i.k, field === 1 ? v : i.a, field === 2 ? v : i.b, field === 3 ? v : i.c, field === 4 ? v : i.d);
        break;
      }
    }
  }
  return out.slice(0, maxIntents);
}

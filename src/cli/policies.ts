/** `--policy P` (repeatable, or `all`) resolved against a program's own machine line. */
import { BUILTIN_POLICY_NAMES } from '../policy/registry.js';

/** The policy specs to run a program under: the flags if given, else the program's machine line. */
export function policySpecs(flags: readonly string[] | undefined, programPolicy: string): string[] {
  if (!flags || flags.length === 0) return [programPolicy];
  const out: string[] = [];
  for (const f of flags.flatMap((x) => String(x).split(','))) {
    for (const name of f === 'all' ? BUILTIN_POLICY_NAMES : [f]) if (!out.includes(name)) out.push(name);
  }
  return out;
}

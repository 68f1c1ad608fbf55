/**
 * The names a statement uses and binds, read from the statement table, and
 * renaming them: what the minimizer needs to know which statements belong
 * together and to give a result canonical names.
 */
import type { SegmentRef, Statement } from './ast.js';
import { SYNTAX } from './syntax.js';

const NAME_KINDS = new Set(['device', 'kbuf', 'cpubuf', 'coherent', 'mapping', 'sg', 'stream', 'handle']);

/** Names a statement refers to (not the one it binds). */
export function namesUsed(s: Statement): string[] {
  const out: string[] = [];
  for (const p of SYNTAX[s.op].params) {
    const v = s.args[p.name];
    if (v === undefined) continue;
    if (p.kind === 'buflist') out.push(...(v as string[]));
    else if (p.kind === 'handle' && typeof v === 'object') out.push((v as SegmentRef).name);
    else if (NAME_KINDS.has(p.kind)) out.push(v as string);
  }
  return out;
}

/** A copy of the statement with names replaced through `map` (names not in it stay). */
export function renameStatement(s: Statement, map: ReadonlyMap<string, string>): Statement {
  const r = (n: string) => map.get(n) ?? n;
  const args: Statement['args'] = { ...s.args };
  for (const p of SYNTAX[s.op].params) {
    const v = args[p.name];
    if (v === undefined) continue;
    if (p.kind === 'buflist') args[p.name] = (v as string[]).map(r);
    else if (p.kind === 'handle' && typeof v === 'object') args[p.name] = { name: r((v as SegmentRef).name), index: (v as SegmentRef).index };
    else if (NAME_KINDS.has(p.kind)) args[p.name] = r(v as string);
  }
  return { ...s, bind: s.bind === undefined ? undefined : r(s.bind), args };
}

/** The letter canonical names use for what a statement binds: d0, b0, c0, m0, s0. */
export function canonicalPrefix(s: Statement): string {
  switch (SYNTAX[s.op].bindsKind) {
    case 'device': return 'd';
    case 'kbuf': return 'b';
    case 'coherent': return 'c';
    case 'mapping': return 'm';
    case 'sg': return 's';
    default: return 'x';
  }
}

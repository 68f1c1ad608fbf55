/**
 * The shape of an object read from a JSON file a user can hand us (a run's
 * summary.json): which fields it must have, of which type. Readers check
 * what they are about to read, so that a file that parses but holds the
 * wrong things is a usage error naming the field, not a TypeError later.
 */

/** A field's type: required, or optional with `?` (absent or null is then fine). */
export type FieldKind = 'string' | 'number' | 'boolean' | 'string?' | 'number?' | 'boolean?';

/** Why `e` is not an object with these fields (` is not an object`, `.file is not a string`), or undefined. */
export function wrongField(e: unknown, fields: Readonly<Record<string, FieldKind>>): string | undefined {
  if (typeof e !== 'object' || e === null || Array.isArray(e)) return ' is not an object';
  const o = e as Record<string, unknown>;
  for (const [key, kind] of Object.entries(fields)) {
    const optional = kind.endsWith('?');
    const type = kind.replace('?', '');
    if (optional && (o[key] === undefined || o[key] === null)) continue;
    if (typeof o[key] !== type) return `.${key} is not a ${type}`;
  }
  return undefined;
}

/** A cost table from a JSON file: any subset of the default table's keys, numbers in simulated ns. */
import { DEFAULT_COSTS, type CostTable } from './cost.js';
import { UserError } from '../util/errors.js';
import { lineOfKey, readJsonFile } from '../util/json-file.js';

export function loadCostFile(file: string): CostTable {
  const { value, text } = readJsonFile(file, 'cost table');
  return costsFrom(value, file, text);
}

/** Validates an override object against the table's keys; with the file's text, a bad entry's message gives its line. */
export function costsFrom(data: unknown, where: string, text?: string): CostTable {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new UserError('expected a JSON object of cost names to nanoseconds', where);
  const out: CostTable = { ...DEFAULT_COSTS };
  for (const [k, v] of Object.entries(data as Record<string, unknown>)) {
    const line = text === undefined ? undefined : lineOfKey(text, k);
    if (!Object.hasOwn(DEFAULT_COSTS, k)) throw new UserError(`unknown cost '${k}' (expected one of: ${Object.keys(DEFAULT_COSTS).join(', ')})`, where, line);
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new UserError(`cost '${k}' must be a non-negative number of ns, got ${typeof v === 'number' ? String(v) : JSON.stringify(v)}`, where, line);
    (out as unknown as Record<string, number>)[k] = v;
  }
  return out;
}

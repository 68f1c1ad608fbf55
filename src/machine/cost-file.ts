/** A cost table from a JSON file: any subset of the default table's keys, numbers in simulated ns. */
import fs from 'node:fs';
import { DEFAULT_COSTS, type CostTable } from './cost.js';
import { UserError } from '../util/errors.js';

export function loadCostFile(file: string): CostTable {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read cost table: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, file);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new UserError(`expected a JSON object of cost names to nanoseconds: ${(e as Error).message}`, file);
  }
  return costsFrom(data, file);
}

/** Validates an override object against the table's keys. */
export function costsFrom(data: unknown, where: string): CostTable {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new UserError('expected a JSON object of cost names to nanoseconds', where);
  const out: CostTable = { ...DEFAULT_COSTS };
  for (const [k, v] of Object.entries(data as Record<string, unknown>)) {
    if (!(k in DEFAULT_COSTS)) throw new UserError(`unknown cost '${k}' (expected one of: ${Object.keys(DEFAULT_COSTS).join(', ')})`, where);
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new UserError(`cost '${k}' must be a non-negative number of ns, got ${JSON.stringify(v)}`, where);
    (out as unknown as Record<string, number>)[k] = v;
  }
  return out;
}

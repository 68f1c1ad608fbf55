/**
 * The order of a signature's reports: the shorter program first, then the
 * earlier by coordinates (epoch, batch, index). The first report in this
 * order is the same whatever the worker count or timing: a worker reports a
 * signature the first time it sees it and again only with a report that
 * precedes the one it sent, in whatever order its batches reach it (a batch
 * run again after its worker died comes late), so the worker that ran the
 * first report sent it, and the coordinator keeps the first it receives.
 */
import type { FoundCrash } from './protocol.js';

export type ReportRank = Pick<FoundCrash, 'statements' | 'coords'>;

export function precedes(a: ReportRank, b: ReportRank): boolean {
  if (a.statements !== b.statements) return a.statements < b.statements;
  const x = a.coords;
  const y = b.coords;
  if (x.epoch !== y.epoch) return x.epoch < y.epoch;
  if (x.batch !== y.batch) return x.batch < y.batch;
  return x.index < y.index;
}

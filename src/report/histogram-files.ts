/**
 * A report's histogram files: for every histogram, `hist/<stem>.hgrm` (the
 * standard percentile-distribution text) and `hist/<stem>.hdr` (the
 * compressed base64 encoding, which `report` decodes to re-render). The
 * summary indexes them with their key statistics.
 */
import fs from 'node:fs';
import path from 'node:path';
import type * as hdr from 'hdr-histogram-js';
import { decode, encode, fileStem, parseKey, statsOf, toHgrm, type HistKey, type HistStats } from './histograms.js';
import { UserError } from '../util/errors.js';
import { makeDirs } from '../util/make-dirs.js';

export interface HistogramIndexEntry extends HistKey, HistStats {
  key: string;
  /** relative to the report directory */
  hgrm: string;
  encoded: string;
}

export function writeHistogramFiles(dir: string, hists: ReadonlyMap<string, hdr.Histogram>): HistogramIndexEntry[] {
  const histDir = path.join(dir, 'hist');
  makeDirs(histDir);
  const out: HistogramIndexEntry[] = [];
  for (const key of [...hists.keys()].sort()) {
    const h = hists.get(key)!;
    if (h.totalCount === 0) continue;
    const stem = fileStem(key);
    fs.writeFileSync(path.join(histDir, `${stem}.hgrm`), toHgrm(h));
    fs.writeFileSync(path.join(histDir, `${stem}.hdr`), encode(h) + '\n');
    out.push({ key, ...parseKey(key), ...statsOf(h), hgrm: `hist/${stem}.hgrm`, encoded: `hist/${stem}.hdr` });
  }
  return out;
}

/** Reads every indexed histogram back from its encoded file; a missing or corrupt one is a UserError naming it. */
export function readHistogramFiles(dir: string, index: readonly HistogramIndexEntry[]): Map<string, hdr.Histogram> {
  const out = new Map<string, hdr.Histogram>();
  for (const e of index) {
    const file = path.join(dir, e.encoded);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8').trim();
    } catch (err) {
      throw new UserError(`histogram file missing (${(err as NodeJS.ErrnoException).code ?? 'unreadable'}); expected the encoded histogram for ${e.key}`, file);
    }
    let h: hdr.Histogram;
    try {
      h = decode(text);
    } catch (err) {
      throw new UserError(`corrupt histogram file: expected compressed base64 HdrHistogram data (${(err as Error).message})`, file);
    }
    if (h.totalCount !== e.count) throw new UserError(`corrupt histogram file: it holds ${h.totalCount} values, the summary says ${e.count}`, file);
    out.set(e.key, h);
  }
  return out;
}

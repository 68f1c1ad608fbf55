/**
 * The report on the thread's programs (replay --report): the cost model puts
 * the IOMMU path above bypass for allocation, map and unmap, and the security
 * table shows a rogue device escaping without an IOMMU and contained by a
 * strict one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dmafuzz } from './cli.js';

test('replay --report of the thread programs: iommu costs more than direct; rogue escapes under direct, contained under iommu strict', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmafuzz-replay-report-'));
  const r = dmafuzz(['replay', 'test/fixtures/mask-games-rogue.dmafuzz', 'test/fixtures/sata-nv.dmafuzz', '--policy', 'direct', '--policy', 'iommu', '--json', '--report', dir]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /report written: .*index\.html/);
  const summary = JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8'));
  const p50 = (policy: string, op: string, p: string) => {
    const h = summary.histograms.find((x: { key: string }) => x.key === `${policy}|${op}|${p}|modelled`);
    assert.ok(h, `no histogram ${policy}|${op}|${p}`);
    return h.p50 as number;
  };
  for (const op of ['alloc_coherent', 'free_coherent', 'map_single', 'unmap_single']) {
    assert.ok(p50('iommu', op, 'iommu') > p50('direct', op, 'direct'), `${op}: iommu ${p50('iommu', op, 'iommu')} ns vs direct ${p50('direct', op, 'direct')} ns`);
  }
  // the cost model's own sanity totals: a strict one-page unmap is 810 ns, a direct one 10 ns
  assert.equal(p50('iommu', 'unmap_single', 'iommu') >= 810, true);
  assert.equal(p50('direct', 'free_coherent', 'direct'), 10);
  const sec = (policy: string) => summary.security.find((s: { policy: string }) => s.policy === policy);
  assert.deepEqual({ rogue: sec('direct').rogue, contained: sec('direct').contained, escaped: sec('direct').escaped }, { rogue: 1, contained: 0, escaped: 1 });
  assert.deepEqual({ rogue: sec('iommu').rogue, contained: sec('iommu').contained, escaped: sec('iommu').escaped }, { rogue: 1, contained: 1, escaped: 0 });
  assert.equal(sec('iommu').inval, 'strict');
  const html = fs.readFileSync(path.join(dir, 'index.html'), 'utf8');
  assert.match(html, /data-points/);
  for (const e of summary.histograms) assert.ok(fs.existsSync(path.join(dir, e.hgrm)) && fs.existsSync(path.join(dir, e.encoded)));
  // re-rendering from the files works on a replay report too
  assert.equal(dmafuzz(['report', dir]).code, 0);
  fs.rmSync(dir, { recursive: true, force: true });
});

/** fuzz --nightly (dated dirs, comparison, junit.xml) and --costs through the real binary. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dmafuzz } from './cli.js';
import { compare, junitXml } from '../src/report/nightly.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmafuzz-nightly-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const corpus = path.join(dir, 'corpus');
const out = path.join(dir, 'reports');

test('two nightlies: dated directories, a comparison with the previous one, junit.xml per policy', () => {
  const args = ['fuzz', '--nightly', '--runs', '256', '--seed', '4', '--workers', '2', '--corpus', corpus, '--out', out, '--policy', 'iommu', '--policy', 'intel-2019', '--mode', 'legal'];
  const first = dmafuzz(args);
  assert.equal(first.code, 1, first.stderr);
  const day = new Date().toISOString().slice(0, 10);
  const firstDir = path.join(out, `nightly-${day}`);
  assert.ok(fs.existsSync(path.join(firstDir, 'summary.json')));
  const junit1 = fs.readFileSync(path.join(firstDir, 'junit.xml'), 'utf8');
  assert.match(junit1, /<testsuites name="dmafuzz" tests="2" failures="1">/);
  assert.match(junit1, /<testcase classname="dmafuzz.nightly" name="iommu" time="[\d.]+"><\/testcase>/, 'iommu passes: legal programs never crash it');
  assert.match(junit1, /<testcase classname="dmafuzz.nightly" name="intel-2019"[^>]*>\s*<failure message="\d+ new crash signature\(s\)" type="new-crash">intel-2019\//);
  const cmp1 = JSON.parse(fs.readFileSync(path.join(firstDir, 'comparison.json'), 'utf8'));
  assert.equal(cmp1.previous, null);
  assert.match(first.stderr, /nightly comparison with \(no previous nightly\)/);

  // the same run again: everything known, nothing new or vanished, the same modelled latencies
  const second = dmafuzz(args);
  assert.equal(second.code, 0, second.stderr);
  const secondDir = path.join(out, `nightly-${day}-2`);
  const cmp2 = JSON.parse(fs.readFileSync(path.join(secondDir, 'comparison.json'), 'utf8'));
  assert.equal(cmp2.previous, `nightly-${day}`);
  assert.deepEqual(cmp2.newSignatures, []);
  assert.deepEqual(cmp2.vanishedSignatures, []);
  assert.deepEqual(cmp2.latencyChanges, []);
  assert.match(fs.readFileSync(path.join(secondDir, 'junit.xml'), 'utf8'), /failures="0"/);
});

test('compare reports new and vanished signatures and latency moves beyond the threshold', () => {
  const h = (policy: string, p50: number) => ({ policy, op: 'unmap_single', path: 'iommu', kind: 'modelled', p50, p99: p50, p999: p50, count: 10 });
  const prev = { runId: 'a', config: { policies: ['iommu'] }, crashes: [{ signature: 'iommu/x', policy: 'iommu', new: true, kind: 'k', blame: 'layer', file: 'f' }], histograms: [h('iommu', 810)] };
  const cur = { runId: 'b', config: { policies: ['iommu'] }, crashes: [{ signature: 'iommu/y', policy: 'iommu', new: true, kind: 'k', blame: 'layer', file: 'g' }], histograms: [h('iommu', 1000)] };
  const c = compare(prev, cur, 0.1);
  assert.deepEqual(c.newSignatures, ['iommu/y']);
  assert.deepEqual(c.vanishedSignatures, ['iommu/x']);
  assert.equal(c.latencyChanges.length, 3);
  assert.equal(c.latencyChanges[0]!.before, 810);
  assert.equal(compare(prev, { ...cur, histograms: [h('iommu', 850)] }, 0.1).latencyChanges.length, 0, '5% is within the threshold');
  assert.match(junitXml(cur, 1), /<failure message="1 new crash signature\(s\)" type="new-crash">iommu\/y \(layer\) g<\/failure>/);
});

test('--costs overrides the cost table; a bad cost file is a usage error', () => {
  const costs = path.join(dir, 'costs.json');
  fs.writeFileSync(costs, JSON.stringify({ iotlbInvalNs: 5000 }));
  const r = dmafuzz(['fuzz', '--json', '--runs', '64', '--seed', '1', '--policy', 'iommu', '--costs', costs, '--corpus', path.join(dir, 'c2'), '--out', path.join(dir, 'r2')]);
  const summary = JSON.parse(r.stdout);
  const unmap = summary.histograms.find((x: { key: string }) => x.key === 'iommu|unmap_single|iommu|modelled');
  assert.ok(unmap, 'an unmap_single histogram');
  // a one-page strict unmap: call 50 + page-table clear 30 + invalidation 5000 + IOVA free 30 = 5110,
  // within the histogram's 3-significant-digit resolution (buckets of 4 ns at this size)
  assert.ok(Math.abs(unmap.min - 5110) < 8, `min ${unmap.min}`);
  // each message names the file and the line (and the column, where JSON itself is broken)
  for (const [text, expect] of [
    ['{\n  "iotlbInvalNs": 5000,\n  "iotlbInvalidate": 5\n}\n', /costs\.json:3: unknown cost 'iotlbInvalidate' \(expected one of: directMapNs/],
    ['{\n  "iotlbInvalNs": -3\n}\n', /costs\.json:2: cost 'iotlbInvalNs' must be a non-negative number of ns, got -3/],
    ['{\n  "iotlbInvalNs": 5000,\n}\n', /costs\.json:3:1: cost table is not valid JSON: Expected double-quoted property name/],
    ['{ not json', /costs\.json:1:3: cost table is not valid JSON: Expected property name or '}'/],
    ['[1, 2]', /costs\.json: expected a JSON object of cost names to nanoseconds/],
    // names every object has were taken for cost names; a number too large for a double read "got null"
    ['{"constructor": 1}', /costs\.json:1: unknown cost 'constructor'/],
    ['{"toString": 1}', /costs\.json:1: unknown cost 'toString'/],
    ['{"iotlbInvalNs": 1e400}', /costs\.json:1: cost 'iotlbInvalNs' must be a non-negative number of ns, got Infinity/],
  ] as Array<[string, RegExp]>) {
    fs.writeFileSync(costs, text);
    const bad = dmafuzz(['fuzz', '--runs', '8', '--costs', costs, '--corpus', path.join(dir, 'c3'), '--out', path.join(dir, 'r3')]);
    assert.equal(bad.code, 2, text);
    assert.match(bad.stderr, expect);
    assert.equal(fs.existsSync(path.join(dir, 'c3')), false, 'a refused run makes no directory');
  }
});

test('an earlier nightly whose summary cannot be read is passed over, and the run still ends with its own results', () => {
  const outDir = path.join(dir, 'broken-nightlies');
  const args = ['fuzz', '--nightly', '--runs', '64', '--seed', '4', '--workers', '1', '--corpus', path.join(dir, 'broken-corpus'), '--out', outDir, '--policy', 'intel-2019', '--mode', 'legal'];
  const first = dmafuzz(args);
  assert.equal(first.code, 1, first.stderr);
  const firstRun = JSON.parse(fs.readFileSync(path.join(outDir, `nightly-${new Date().toISOString().slice(0, 10)}`, 'summary.json'), 'utf8')).runId;
  // a newer nightly whose summary was cut short (a full disk): before this, the run ended with exit 70 and no junit.xml
  const broken = path.join(outDir, 'nightly-2000-01-01');
  fs.mkdirSync(broken);
  fs.writeFileSync(path.join(broken, 'summary.json'), '{"runId": "nightly-2000-01-01",\n "crashes": [');
  // and one that parses but is not a summary the comparison can read (it was a TypeError in compare)
  const odd = path.join(outDir, 'nightly-2000-01-02');
  fs.mkdirSync(odd);
  fs.writeFileSync(path.join(odd, 'summary.json'), JSON.stringify({ runId: 'odd', config: { policies: [] }, crashes: [null], histograms: [] }));
  fs.rmSync(path.join(dir, 'broken-corpus'), { recursive: true });
  const second = dmafuzz(args);
  assert.equal(second.code, 1, second.stderr);
  assert.match(second.stderr, /passed over an earlier nightly: .*nightly-2000-01-01\/summary\.json:2:14: summary is not valid JSON/);
  const secondDir = fs.readdirSync(outDir).filter((d) => d.endsWith('-2'))[0]!;
  const cmp = JSON.parse(fs.readFileSync(path.join(outDir, secondDir, 'comparison.json'), 'utf8'));
  assert.equal(cmp.previous, firstRun, 'compared with the newest nightly that reads');
  assert.equal(cmp.skipped.length, 2);
  assert.match(second.stderr, /passed over an earlier nightly: .*nightly-2000-01-02\/summary\.json: not a dmafuzz summary: crashes\[0\] lacks signature/);
  assert.match(fs.readFileSync(path.join(outDir, secondDir, 'junit.xml'), 'utf8'), /<testsuites name="dmafuzz" tests="1" failures="1">/);
});

/**
 * `reports/<run-id>/` end to end: a real `fuzz` run writes summary.json, the
 * histogram files (.hgrm text and .hdr encodings) and a self-contained
 * index.html; the page draws every chart in real headless Chromium without an
 * error; `dmafuzz report DIR` re-renders it, and refuses (exit 2, naming the
 * file, old page untouched) when an input is missing or corrupt.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { dmafuzz, ROOT } from './cli.js';
import { decode } from '../src/report/histograms.js';
import { readHistogramFiles, type HistogramIndexEntry } from '../src/report/histogram-files.js';
import { renderReport, type ReportSummary } from '../src/report/html.js';
import * as hdr from 'hdr-histogram-js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const ARTIFACTS = path.join(ROOT, 'test-artifacts');

interface Summary extends ReportSummary {
  config: ReportSummary['config'];
  versions: { node: string; dmafuzz: string };
  timeline: NonNullable<ReportSummary['timeline']>;
  crashes: NonNullable<ReportSummary['crashes']>;
  security: NonNullable<ReportSummary['security']>;
  histogramCounts: { merged: number; shippedByWorkers: number };
  histograms: HistogramIndexEntry[];
}

let run: { dir: string; summary: Summary } | undefined;
const scratchDirs: string[] = [];
after(() => {
  for (const d of scratchDirs) fs.rmSync(d, { recursive: true, force: true });
});

/** One real fuzz run shared by the tests below (a few seconds). */
function fuzzRun(): { dir: string; summary: Summary } {
  if (run) return run;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dmafuzz-report-'));
  scratchDirs.push(tmp);
  const out = path.join(tmp, 'reports');
  const r = dmafuzz(['fuzz', '--runs', '256', '--seed', '2', '--workers', '2', '--corpus', path.join(tmp, 'corpus'), '--out', out], { timeoutMs: 180_000 });
  assert.ok(r.code === 0 || r.code === 1, `fuzz failed (${r.code}): ${r.stderr}`);
  const dirs = fs.readdirSync(out);
  assert.equal(dirs.length, 1, `one run directory: ${dirs.join(', ')}`);
  const dir = path.join(out, dirs[0]!);
  run = { dir, summary: JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8')) as Summary };
  return run;
}

/** A scratch copy of the run's report directory, to break things in. */
function copyOfRun(name: string): string {
  const { dir } = fuzzRun();
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), `dmafuzz-report-${name}-`));
  scratchDirs.push(parent);
  const copy = path.join(parent, path.basename(dir));
  fs.cpSync(dir, copy, { recursive: true });
  return copy;
}

const HGRM_HEADER = /^\s*Value\s+Percentile\s+TotalCount\s+1\/\(1-Percentile\)\s*$/;
const HGRM_ROW = /^\s*(\d+(?:\.\d+)?)\s+(\d+(?:\.\d+)?)\s+(\d+)(?:\s+(\d+(?:\.\d+)?|Infinity))?\s*$/;
const HGRM_MEAN = /^#\[Mean\s+=\s+\d+(?:\.\d+)?, StdDeviation\s+=\s+\d+(?:\.\d+)?\]$/;
const HGRM_MAX = /^#\[Max\s+=\s+\d+(?:\.\d+)?, Total count\s+=\s+(\d+)\]$/;
const HGRM_BUCKETS = /^#\[Buckets\s+=\s+\d+, SubBuckets\s+=\s+\d+\]$/;

/** Checks the HdrHistogram percentile-distribution text and returns its total count. */
function checkHgrm(text: string, file: string): number {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  assert.match(lines[0]!, HGRM_HEADER, `${file}: header`);
  const footer = lines.slice(-3);
  assert.match(footer[0]!, HGRM_MEAN, `${file}: mean/stddev footer`);
  assert.match(footer[1]!, HGRM_MAX, `${file}: max/total footer`);
  assert.match(footer[2]!, HGRM_BUCKETS, `${file}: buckets footer`);
  const rows = lines.slice(1, -3);
  assert.ok(rows.length > 0, `${file}: no percentile rows`);
  let lastValue = -Infinity;
  let lastPct = -Infinity;
  let lastCount = 0;
  for (const row of rows) {
    const m = HGRM_ROW.exec(row);
    assert.ok(m, `${file}: not a percentile row: '${row}'`);
    const [value, pct, count] = [Number(m[1]), Number(m[2]), Number(m[3])];
    assert.ok(pct >= 0 && pct <= 1, `${file}: percentile out of range: '${row}'`);
    assert.ok(value >= lastValue && pct >= lastPct && count >= lastCount, `${file}: rows not monotonic at '${row}'`);
    [lastValue, lastPct, lastCount] = [value, pct, count];
  }
  assert.equal(lastPct, 1, `${file}: the last row is the 100th percentile`);
  const total = Number(HGRM_MAX.exec(footer[1]!)![1]);
  assert.equal(lastCount, total, `${file}: the last row's TotalCount is the total`);
  return total;
}

test('fuzz writes summary.json, .hgrm/.hdr per histogram and a self-contained index.html', () => {
  const { dir, summary } = fuzzRun();
  for (const k of ['config', 'versions', 'timeline', 'crashes', 'security', 'histograms', 'histogramCounts'] as const) assert.ok(k in summary, `summary.json has ${k}`);
  assert.equal(summary.config.seed, 2);
  assert.equal(summary.config.workers, 2);
  assert.ok(summary.config.policies.length > 0);
  assert.equal(typeof summary.versions.node, 'string');
  assert.ok(Array.isArray(summary.timeline) && summary.timeline.length > 0, 'a fuzz run has a timeline');
  assert.ok(Array.isArray(summary.crashes) && Array.isArray(summary.security));
  assert.ok(summary.histograms.length > 0, 'histograms are indexed');
  assert.ok(summary.histograms.some((e) => e.kind === 'modelled') && summary.histograms.some((e) => e.kind === 'measured'));

  let sum = 0;
  for (const e of summary.histograms) {
    const hgrm = path.join(dir, e.hgrm);
    assert.equal(checkHgrm(fs.readFileSync(hgrm, 'utf8'), hgrm), e.count, `${hgrm}: Total count equals the index's count`);
    const h = decode(fs.readFileSync(path.join(dir, e.encoded), 'utf8').trim());
    assert.equal(h.totalCount, e.count, `${e.encoded} decodes to the index's count`);
    assert.equal(h.maxValue, e.max, `${e.encoded}: max`);
    sum += e.count;
  }
  assert.equal(readHistogramFiles(dir, summary.histograms).size, summary.histograms.length);
  assert.equal(fs.readdirSync(path.join(dir, 'hist')).length, summary.histograms.length * 2, 'hist/ holds exactly the indexed files');
  assert.equal(summary.histogramCounts.merged, summary.histogramCounts.shippedByWorkers, 'the coordinator merged every value the workers shipped');
  assert.equal(summary.histogramCounts.merged, sum, 'the index counts add up to the merged count');

  const html = fs.readFileSync(path.join(dir, 'index.html'), 'utf8');
  assert.match(html, /^<!doctype html>/i);
  assert.doesNotMatch(html, /<script[^>]*\bsrc\s*=/i, 'no external scripts');
  assert.doesNotMatch(html, /<link[^>]*\bhref\s*=\s*["']?(https?:)?\/\//i, 'no external stylesheets');
  assert.doesNotMatch(html, /(src|href)\s*=\s*["']?https?:/i, 'no network references');
  assert.doesNotMatch(html, /@import|url\(\s*["']?https?:/i, 'no CSS imports');
  assert.match(html, /var uPlot=/, 'uPlot is inlined');
  assert.ok(Number(/data-charts-total="(\d+)"/.exec(html)?.[1]) > 0, 'the page has charts');
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.includes('.tmp')), [], 'no temp files left');
});

test('index.html draws every chart in headless Chromium without errors', async (t) => {
  if (!fs.existsSync(CHROMIUM)) {
    if (process.env.CI) assert.fail(`${CHROMIUM} is missing: CI must install chromium (.ci/run does)`);
    t.skip(`${CHROMIUM} not installed (apt-get install chromium); skipping the browser check`);
    return;
  }
  const { dir, summary } = fuzzRun();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console.error: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    // self-contained: anything but the file itself is refused and reported
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file:')) return route.continue();
      problems.push(`network request: ${url}`);
      return route.abort();
    });
    await page.goto(`file://${path.join(dir, 'index.html')}`);
    await page.waitForFunction(() => document.body.dataset.chartsDrawn !== undefined && document.body.dataset.chartsDrawn === document.body.dataset.chartsTotal, null, { timeout: 30_000 });
    const state = await page.evaluate(() => ({
      drawn: Number(document.body.dataset.chartsDrawn),
      total: Number(document.body.dataset.chartsTotal),
      charts: [...document.querySelectorAll<HTMLElement>('[data-chart]')].map((el) => ({
        id: el.id,
        points: Number(el.dataset.points),
        error: el.dataset.error ?? null,
        canvas: Boolean(el.querySelector('canvas')),
      })),
      sections: Object.fromEntries(['crashes', 'security', 'timeline', 'latency'].map((id) => [id, Boolean(document.getElementById(id))])),
    }));
    assert.deepEqual(problems, [], 'no console errors, page errors or network requests');
    assert.ok(state.drawn > 0, 'charts drawn');
    assert.equal(state.charts.length, state.total, 'every chart has an element');
    for (const c of state.charts) {
      assert.equal(c.error, null, `${c.id}: ${c.error}`);
      assert.ok(c.canvas, `${c.id}: has a canvas`);
      assert.ok(c.points > 0, `${c.id}: drew ${c.points} points`);
    }
    assert.deepEqual(state.sections, { crashes: true, security: true, timeline: true, latency: true });
    // one percentile chart per policy x statement kind with modelled data, one measured chart per policy, two timeline charts
    const modelled = new Set(summary.histograms.filter((e) => e.kind === 'modelled').map((e) => `${e.policy}|${e.op}`));
    const measured = new Set(summary.histograms.filter((e) => e.kind === 'measured').map((e) => e.policy));
    assert.equal(state.total, modelled.size + measured.size + 2);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'report.png'), fullPage: true });
  } finally {
    await browser.close();
  }
});

test('report DIR re-renders index.html; a missing or corrupt input exits 2 naming it and leaves the page alone', async (t) => {
  await t.test('re-render', () => {
    const dir = copyOfRun('ok');
    const file = path.join(dir, 'index.html');
    const before = fs.readFileSync(file);
    const past = new Date(Date.now() - 3_600_000);
    fs.utimesSync(file, past, past);
    const r = dmafuzz(['report', dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(fs.statSync(file).mtimeMs > past.getTime() + 1000, 'index.html rewritten');
    assert.deepEqual(fs.readFileSync(file), before, 'the same page as the fuzz run wrote');
    assert.deepEqual(fs.readdirSync(dir).filter((f) => f.includes('.tmp')), [], 'no temp files left');
  });

  const broken = (name: string, breakIt: (dir: string) => string, expect: RegExp) =>
    t.test(name, () => {
      const dir = copyOfRun(name.replace(/\W+/g, '-'));
      const file = path.join(dir, 'index.html');
      const before = fs.readFileSync(file);
      const mtime = fs.statSync(file).mtimeMs;
      const named = breakIt(dir);
      const r = dmafuzz(['report', dir]);
      assert.equal(r.code, 2, `exit 2; stderr: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
      assert.ok(r.stderr.includes(named), `stderr names ${named}: ${r.stderr}`);
      assert.match(r.stderr, expect);
      assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
      assert.deepEqual(fs.readFileSync(file), before, 'index.html unchanged');
      assert.equal(fs.statSync(file).mtimeMs, mtime, 'index.html not rewritten');
      assert.deepEqual(fs.readdirSync(dir).filter((f) => f.includes('.tmp')), [], 'no temp files left');
    });

  const someHdr = (dir: string) => path.join(dir, fuzzRun().summary.histograms[Math.floor(fuzzRun().summary.histograms.length / 2)]!.encoded);
  await broken('a deleted .hdr', (dir) => {
    const f = someHdr(dir);
    fs.rmSync(f);
    return f;
  }, /missing/);
  await broken('a corrupt .hdr', (dir) => {
    const f = someHdr(dir);
    fs.writeFileSync(f, 'garbage, not an HdrHistogram \x00\x01\x02\n');
    return f;
  }, /corrupt/);
  await broken('a .hdr of another histogram', (dir) => {
    const { histograms } = fuzzRun().summary;
    const a = histograms.find((e) => e.count > 1)!;
    const b = histograms.find((e) => e.count !== a.count)!;
    fs.copyFileSync(path.join(dir, b.encoded), path.join(dir, a.encoded));
    return path.join(dir, a.encoded);
  }, /corrupt/);
  await broken('a missing summary.json', (dir) => {
    const f = path.join(dir, 'summary.json');
    fs.rmSync(f);
    return f;
  }, /summary/);
  await broken('an unparseable summary.json', (dir) => {
    const f = path.join(dir, 'summary.json');
    fs.writeFileSync(f, '{"runId": "x",\n "config": ');
    return f;
  }, /summary\.json:2:12: summary is not valid JSON: Unexpected end of JSON input/);
  await broken('a summary.json that is not a summary', (dir) => {
    const f = path.join(dir, 'summary.json');
    fs.writeFileSync(f, '{"hello": "world"}\n');
    return f;
  }, /not a dmafuzz summary/);

  // a summary.json whose lists hold the wrong things: each was a TypeError (exit 70) while rendering
  for (const [what, mutate, expect] of [
    ['a crash that is not an object', (j: Record<string, unknown>) => (j.crashes = [null]), /crashes\[0\] is not an object/],
    ['a crash whose file is a number', (j: Record<string, unknown>) => (j.crashes = [{ signature: 's', kind: 'k', blame: 'layer', policy: 'p', file: 5 }]), /crashes\[0\]\.file is not a string/],
    ['a security row without its policy', (j: Record<string, unknown>) => (j.security = [{}]), /security\[0\]\.policy is not a string/],
    ['a timeline of numbers', (j: Record<string, unknown>) => (j.timeline = [5]), /timeline\[0\] is not an object/],
    ['histogram counts that are a number', (j: Record<string, unknown>) => (j.histogramCounts = 5), /histogramCounts is not an object/],
  ] as Array<[string, (j: Record<string, unknown>) => void, RegExp]>) {
    await broken(what, (dir) => {
      const f = path.join(dir, 'summary.json');
      const j = JSON.parse(fs.readFileSync(f, 'utf8')) as Record<string, unknown>;
      mutate(j);
      fs.writeFileSync(f, JSON.stringify(j));
      return f;
    }, expect);
  }

  await t.test('a directory that is not there', () => {
    const missing = path.join(os.tmpdir(), `dmafuzz-no-such-report-${process.pid}`);
    const r = dmafuzz(['report', missing]);
    assert.equal(r.code, 2);
    assert.ok(r.stderr.includes(missing), r.stderr);
  });
});

/** A summary with nothing in it: what a replay-written or empty run looks like. */
function emptySummary(over: Partial<ReportSummary> = {}): ReportSummary {
  return { runId: 'empty-run', config: { seed: 7, workers: 1, policies: ['direct', 'iommu'], mode: 'all' }, timeline: [], crashes: [], security: [], histograms: [], ...over };
}

test('empty sections render as "none", with no charts', () => {
  const html = renderReport(emptySummary(), new Map());
  for (const id of ['crashes', 'security', 'latency']) {
    const section = new RegExp(`<section id="${id}">[\\s\\S]*?</section>`).exec(html)?.[0] ?? '';
    assert.match(section, /class="none">none</, `${id} says none`);
  }
  assert.match(/<section id="timeline">[\s\S]*?<\/section>/.exec(html)![0], /class="none">none</);
  assert.match(html, /data-charts-total="0"/);
  // a summary without the optional fields at all renders too
  const bare = renderReport({ runId: 'bare', config: { seed: 1, workers: 1, policies: [], mode: 'all' }, histograms: [] }, new Map());
  assert.match(bare, /data-charts-total="0"/);
});

test('every text put into the page is escaped, including inside the chart data', () => {
  const evil = '</script><img src=x onerror=alert(1)>';
  const h = hdr.build();
  h.recordValue(100);
  h.recordValue(2000);
  const key = `${evil}|map_single|iommu|modelled`;
  const html = renderReport(
    emptySummary({
      runId: evil,
      config: { seed: 1, workers: 1, policies: [evil], mode: 'all' },
      crashes: [{ signature: evil, kind: 'layer-error', blame: 'layer', policy: evil, message: `${evil}\nsecond line`, repro: `# ${evil}\n`, file: evil }],
      security: [{ policy: evil, inval: 'strict', rogue: 2, contained: 1, escaped: 1, containedShare: 0.5 }],
      histograms: [{ key, policy: evil, op: 'map_single', path: 'iommu', kind: 'modelled', count: 2, min: 100, mean: 1050, p50: 100, p90: 2000, p99: 2000, p999: 2000, max: 2000, hgrm: 'hist/x.hgrm', encoded: 'hist/x.hdr' }],
    }),
    new Map([[key, h]]),
  );
  assert.ok(!html.includes('<img'), 'no injected element');
  assert.ok(html.includes('&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;'), 'shown escaped');
  // the only </script> tags close the page's own three scripts
  assert.equal(html.match(/<\/script>/g)!.length, 3);
  assert.match(html, /data-charts-total="1"/);
});

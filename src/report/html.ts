/**
 * `reports/<run-id>/index.html`: one self-contained page (no network needed
 * to open it) for a kernel developer: the run at a glance, the crashes with
 * their minimized repros and C exports, the security table, throughput and
 * coverage over time, and the latency percentile plots (HdrHistogram style:
 * x = 1/(1-p) on a log axis) per policy, `modelled` (simulated ns per
 * statement kind, one line per path) apart from `measured` (the simulator's
 * own wall-clock speed).
 *
 * Charts are drawn by uPlot, read from node_modules at render time and
 * inlined with its stylesheet. Every chart records its point count in
 * `data-points` once drawn, and `body[data-charts-drawn]` counts the charts
 * drawn so far (`body[data-charts-total]` says how many there are), so a test
 * can prove the page drew.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import * as hdr from 'hdr-histogram-js';
import type { HistogramIndexEntry } from './histogram-files.js';
import { loadProgramText } from '../exec/load.js';
import { programToC } from '../corpus/export-c.js';
import { UserError } from '../util/errors.js';

/** The parts of `summary.json` (src/engine/summary.ts) the page shows; everything optional is rendered as "none"/"-". */
export interface ReportSummary {
  runId: string;
  config: { seed: number; workers: number; policies: string[]; mode: string; machine?: unknown; seconds?: number | null; runs?: number | null };
  versions?: { node?: string; dmafuzz?: string };
  elapsedSeconds?: number;
  stopReason?: string;
  programs?: number;
  runs?: number;
  statements?: number;
  programsPerSecond?: number;
  statementsPerSecond?: number;
  coverageBits?: number;
  corpusSize?: number;
  timeline?: Array<{ t: number; programs: number; statements: number; coverage: number; crashes: number }>;
  crashes?: ReportCrash[];
  security?: Array<{ policy: string; inval: string; rogue: number; contained: number; escaped: number; containedShare: number | null }>;
  histogramCounts?: { merged: number; shippedByWorkers: number };
  histograms: HistogramIndexEntry[];
}

export interface ReportCrash {
  signature: string;
  kind: string;
  blame: string;
  policy: string;
  new?: boolean;
  file?: string;
  firstSeenSeconds?: number;
  statements?: number;
  storedStatements?: number;
  minimized?: boolean;
  message?: string;
  repro?: string;
}

const PATH_COLORS: Record<string, string> = { direct: '#1f77b4', bounce: '#e6a000', iommu: '#d62728' };
const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#e6a000', '#17becf', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22'];
const PATH_ORDER = ['direct', 'bounce', 'iommu'];
/** Statement kinds in the order a reader of the bypass question wants them: mapping first, bookkeeping last. */
const OP_ORDER = [
  'map_single', 'unmap_single', 'map_page', 'unmap_page', 'map_sg', 'unmap_sg', 'alloc_coherent', 'free_coherent',
  'sync_for_device', 'sync_for_cpu', 'dev_read', 'dev_write', 'dev_read_raw', 'dev_write_raw', 'cpu_read', 'cpu_write',
  'mapping_error', 'set_mask', 'set_coherent_mask', 'set_mask_and_coherent', 'kmalloc', 'kfree', 'dev', 'tick', 'unbind',
];
/** Points per factor of two of 1/(1-p): 4 gives smooth curves at a few dozen points per line. */
const STEPS_PER_OCTAVE = 4;
/** How many statement kinds a measured chart shows at first (the slowest by p99); the legend shows the rest. */
const MEASURED_SHOWN = 6;

// ---------------------------------------------------------------- escaping

export function escapeHtml(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON that is safe inside a <script> element. */
function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** Library text inlined into <script>/<style>: no early end tag. */
function inlineSafe(text: string, tag: 'script' | 'style'): string {
  return text.replace(new RegExp(`</${tag}`, 'gi'), `<\\/${tag}`);
}

let assets: { js: string; css: string; version: string } | undefined;

/** uPlot's minified build and stylesheet, read from node_modules (once per process). */
function uplotAssets(): { js: string; css: string; version: string } {
  if (!assets) {
    const require = createRequire(import.meta.url);
    const jsFile = require.resolve('uplot/dist/uPlot.iife.min.js');
    const cssFile = require.resolve('uplot/dist/uPlot.min.css');
    const pkg = JSON.parse(fs.readFileSync(path.join(path.dirname(jsFile), '..', 'package.json'), 'utf8')) as { version: string };
    assets = { js: fs.readFileSync(jsFile, 'utf8'), css: fs.readFileSync(cssFile, 'utf8'), version: pkg.version };
  }
  return assets;
}

// ---------------------------------------------------------------- formatting (server side)

function fmtNum(n: number | undefined | null, digits = 0): string {
  if (n === undefined || n === null || !Number.isFinite(n)) return '-';
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export function fmtNs(ns: number): string {
  if (ns < 1e3) return `${Math.round(ns)} ns`;
  if (ns < 1e6) return `${+(ns / 1e3).toPrecision(3)} µs`;
  if (ns < 1e9) return `${+(ns / 1e6).toPrecision(3)} ms`;
  return `${+(ns / 1e9).toPrecision(3)} s`;
}

function byOrder(order: readonly string[]): (a: string, b: string) => number {
  const rank = (s: string) => {
    const i = order.indexOf(s);
    return i < 0 ? order.length : i;
  };
  return (a, b) => rank(a) - rank(b) || a.localeCompare(b);
}

// ---------------------------------------------------------------- chart data

interface SeriesSpec {
  label: string;
  color: string;
  width?: number;
  show?: boolean;
  scale?: string;
  /** drawn as steps (a rate over the interval ending at each x) */
  step?: boolean;
  data: Array<number | null>;
}

export interface ChartSpec {
  id: string;
  type: 'percentile' | 'time';
  title: string;
  yLabel: string;
  y2Label?: string;
  width: number;
  height: number;
  x: number[];
  series: SeriesSpec[];
}

/** x = 1/(1-p) from 1 (p = 0) up to each histogram's count (where its max is drawn), 4 steps per octave, plus every count. */
function percentileGrid(counts: readonly number[]): number[] {
  const top = Math.max(1, ...counts);
  const xs = new Set<number>(counts.filter((c) => c >= 1));
  for (let i = 0; ; i++) {
    const x = 2 ** (i / STEPS_PER_OCTAVE);
    if (x >= top) break;
    xs.add(x);
  }
  return [...xs].sort((a, b) => a - b);
}

/** The value at percentile 100(1 - 1/x) for every x of the grid, the max at x = count, null beyond. */
export function percentileCurve(h: hdr.Histogram, xs: readonly number[]): Array<number | null> {
  const n = h.totalCount;
  return xs.map((x) => (x > n ? null : x === n ? h.maxValue : h.getValueAtPercentile(100 * (1 - 1 / x))));
}

function percentileChart(id: string, title: string, yLabel: string, lines: Array<{ label: string; color: string; h: hdr.Histogram; width?: number; show?: boolean }>, width: number, height: number): ChartSpec {
  const x = percentileGrid(lines.map((l) => l.h.totalCount));
  return {
    id,
    type: 'percentile',
    title,
    yLabel,
    width,
    height,
    x,
    series: lines.map((l) => ({ label: l.label, color: l.color, width: l.width, show: l.show, data: percentileCurve(l.h, x) })),
  };
}

function histogramLabel(name: string, h: hdr.Histogram): string {
  return `${name} (n=${fmtNum(h.totalCount)}, p99 ${fmtNs(h.getValueAtPercentile(99))})`;
}

// ---------------------------------------------------------------- sections

function header(s: ReportSummary, policies: string[]): string {
  const crashes = s.crashes ?? [];
  const layer = crashes.filter((c) => c.blame === 'layer').length;
  const fresh = crashes.filter((c) => c.new).length;
  const machine = Array.isArray(s.config.machine) && s.config.machine.length ? (s.config.machine as unknown[]).map((w) => (typeof w === 'object' && w ? `${(w as { key?: string }).key}=${(w as { value?: string }).value}` : String(w))).join(' ') : 'defaults';
  const limit = s.config.runs ? `${fmtNum(s.config.runs)} programs` : s.config.seconds ? `${fmtNum(s.config.seconds)} s` : '-';
  const facts: Array<[string, string]> = [
    ['seed', `${escapeHtml(s.config.seed)} <span class="dim">(mode ${escapeHtml(s.config.mode)}, ${escapeHtml(s.config.workers)} workers, limit ${escapeHtml(limit)}, stopped by ${escapeHtml(s.stopReason ?? '-')})</span>`],
    ['policies', policies.map((p) => `<code>${escapeHtml(p)}</code>`).join(' ')],
    ['machine', `<code>${escapeHtml(machine)}</code>`],
    ['programs', `${fmtNum(s.programs)} in ${fmtNum(s.elapsedSeconds, 1)} s: <b>${fmtNum(s.programsPerSecond)} programs/s</b>, ${fmtNum((s.statementsPerSecond ?? NaN) / 1000)}k statements/s <span class="dim">(${fmtNum(s.runs)} runs, ${fmtNum(s.statements)} statements)</span>`],
    ['coverage', `<b>${fmtNum(s.coverageBits)} bits</b>, corpus ${fmtNum(s.corpusSize)} programs`],
    ['crashes', crashes.length ? `<b>${crashes.length} signatures</b>: <span class="blame-layer">${layer} layer</span>, ${crashes.length - layer} driver; ${fresh} new` : 'none'],
  ];
  return `<header>
<h1>dmafuzz report <code>${escapeHtml(s.runId)}</code></h1>
<dl class="facts">${facts.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${v}</dd>`).join('')}</dl>
<nav><a href="#crashes">crashes</a> · <a href="#security">security</a> · <a href="#timeline">throughput and coverage</a> · <a href="#latency">latency</a>${policies.map((p) => ` · <a href="#latency-${escapeHtml(anchor(p))}">${escapeHtml(p)}</a>`).join('')}</nav>
</header>`;
}

function anchor(s: string): string {
  return s.replace(/[^A-Za-z0-9_-]/g, '_');
}

function verdictComment(c: ReportCrash): string[] {
  return [`verdict under ${c.policy}: crash ${c.kind} (blame: ${c.blame})`, ...(c.message ?? '').split('\n'), `signature: ${c.signature}`].map((l) => l.replace(/\*\//g, '* /'));
}

/** The crash's repro as C, or why not (a repro that doesn't parse shouldn't sink the report). */
function cExport(c: ReportCrash): string {
  if (!c.repro) return '(no repro)';
  try {
    return programToC(loadProgramText(c.repro, c.file ?? `${c.signature}.dmafuzz`).program, verdictComment(c));
  } catch (e) {
    return `(C export unavailable: ${(e as Error).message})`;
  }
}

function crashRows(crashes: ReportCrash[], from: number): string {
  return crashes
    .map((c, i) => {
      const firstLine = (c.message ?? '').split('\n')[0] ?? '';
      const stmts = c.statements !== undefined ? `${fmtNum(c.statements)} → ${fmtNum(c.storedStatements)}${c.minimized === false ? ' <span class="dim">(not minimized)</span>' : ''}` : '-';
      const file = c.file ? `<code class="file" title="${escapeHtml(c.file)}">${escapeHtml(path.basename(c.file))}</code>` : '-';
      return `<tr class="crash">
<td class="num">${from + i}</td><td><code>${escapeHtml(c.signature)}</code></td><td>${escapeHtml(c.policy)}</td><td>${escapeHtml(c.kind)}</td>
<td class="blame-${escapeHtml(anchor(c.blame))}">${escapeHtml(c.blame)}</td><td>${c.new ? '<b>new</b>' : 'known'}</td>
<td class="num">${fmtNum(c.firstSeenSeconds, 1)}</td><td class="num">${stmts}</td><td>${file}</td>
</tr>
<tr class="crash-detail"><td></td><td colspan="8"><details><summary>${escapeHtml(firstLine || '(no message)')}</summary>
<h4>Verdict</h4><pre>${escapeHtml(c.message ?? '')}</pre>
<div class="repro"><div><h4>Minimized repro <span class="dim">(dmafuzz replay FILE)</span></h4><pre>${escapeHtml(c.repro ?? '(none)')}</pre></div>
<div><h4>C export</h4><pre>${escapeHtml(cExport(c))}</pre></div></div>
</details></td></tr>`;
    })
    .join('\n');
}

function crashTable(crashes: ReportCrash[], from: number): string {
  return `<table class="crashes"><thead><tr><th>#</th><th>signature</th><th>policy</th><th>kind</th><th>blame</th><th></th><th>first seen (s)</th><th>statements (found → stored)</th><th>corpus file</th></tr></thead>
<tbody>${crashRows(crashes, from)}</tbody></table>`;
}

function crashesSection(s: ReportSummary, policies: string[]): string {
  const crashes = [...(s.crashes ?? [])].sort((a, b) => byOrder(policies)(a.policy, b.policy) || a.signature.localeCompare(b.signature));
  if (!crashes.length) return `<section id="crashes"><h2>Crashes</h2><p class="none">none</p></section>`;
  const layer = crashes.filter((c) => c.blame === 'layer');
  const other = crashes.filter((c) => c.blame !== 'layer');
  const layerHtml = layer.length ? crashTable(layer, 1) : '<p class="none">none</p>';
  const otherHtml = other.length
    ? `<details class="driver"><summary>${other.length} signature${other.length === 1 ? '' : 's'} blamed on the driver program (contract violations the layer caught or suffered): show</summary>${crashTable(other, layer.length + 1)}</details>`
    : '<p class="none">none</p>';
  return `<section id="crashes"><h2>Crashes <span class="dim">(${crashes.length} signatures; open a row's message for the verdict, the minimized repro and its C export)</span></h2>
<h3 class="plain">Layer bugs: ${layer.length}</h3>
${layerHtml}
<h3 class="plain">Driver bugs: ${other.length}</h3>
${otherHtml}
</section>`;
}

function securitySection(s: ReportSummary, policies: string[]): string {
  const rows = [...(s.security ?? [])].sort((a, b) => byOrder(policies)(a.policy, b.policy) || a.inval.localeCompare(b.inval));
  const intro = `<p class="dim">Rogue device accesses: raw bus addresses and accesses after unmap, outside any live mapping. Contained: no memory touched (IOMMU fault, or nothing there); escaped: memory reached.</p>`;
  if (!rows.length) return `<section id="security"><h2>Security</h2>${intro}<p class="none">none</p></section>`;
  const body = rows.map((r) => {
    const share = r.rogue ? r.contained / r.rogue : null;
    const bar = share === null ? '<span class="dim">no rogue accesses</span>' : `<span class="bar"><span style="width:${(share * 100).toFixed(1)}%"></span></span> ${(share * 100).toFixed(1)}%`;
    return `<tr><td>${escapeHtml(r.policy)}</td><td>${escapeHtml(r.inval)}</td><td class="num">${fmtNum(r.rogue)}</td><td class="num">${fmtNum(r.contained)}</td><td class="num${r.escaped ? ' escaped' : ''}">${fmtNum(r.escaped)}</td><td>${bar}</td></tr>`;
  });
  return `<section id="security"><h2>Security</h2>${intro}
<table class="security"><thead><tr><th>policy</th><th>invalidation</th><th>rogue</th><th>contained</th><th>escaped</th><th>contained share</th></tr></thead>
<tbody>${body.join('\n')}</tbody></table></section>`;
}

function timelineCharts(s: ReportSummary): ChartSpec[] {
  const tl = s.timeline ?? [];
  if (!tl.length) return [];
  // the run starts from nothing at t = 0
  const pts = tl[0]!.t > 0 ? [{ t: 0, programs: 0, statements: 0, coverage: 0, crashes: 0 }, ...tl] : tl;
  const x = pts.map((p) => p.t);
  // the rate over (t[i-1], t[i]] is drawn at t[i] as a step; the first one also at t[0], so the step starts there
  const rate = (k: 'programs' | 'statements') => {
    const r = pts.map((p, i) => (i === 0 ? null : (p[k] - pts[i - 1]![k]) / Math.max(p.t - pts[i - 1]!.t, 1e-9)));
    if (r.length > 1) r[0] = r[1]!;
    return r;
  };
  return [
    {
      id: 'timeline-throughput',
      type: 'time',
      title: 'Throughput (per interval)',
      yLabel: 'programs/s',
      y2Label: 'statements/s',
      width: 620,
      height: 280,
      x,
      series: [
        { label: 'programs/s', color: '#1f77b4', width: 2, step: true, data: rate('programs') },
        { label: 'statements/s', color: '#7f7f7f', width: 1, scale: 'y2', step: true, data: rate('statements') },
      ],
    },
    {
      id: 'timeline-coverage',
      type: 'time',
      title: 'Coverage and crash signatures',
      yLabel: 'coverage bits',
      y2Label: 'crash signatures',
      width: 620,
      height: 280,
      x,
      series: [
        { label: 'coverage bits', color: '#2ca02c', width: 2, data: pts.map((p) => p.coverage) },
        { label: 'crash signatures', color: '#d62728', width: 2, scale: 'y2', data: pts.map((p) => p.crashes) },
      ],
    },
  ];
}

interface LatencyGroup {
  policy: string;
  modelled: ChartSpec[];
  measured?: ChartSpec;
}

function latencyGroups(s: ReportSummary, histograms: ReadonlyMap<string, hdr.Histogram>, policies: string[]): LatencyGroup[] {
  const entries = s.histograms.filter((e) => histograms.get(e.key)?.totalCount);
  return policies
    .map((policy) => {
      const mine = entries.filter((e) => e.policy === policy);
      const ops = [...new Set(mine.filter((e) => e.kind === 'modelled').map((e) => e.op))].sort(byOrder(OP_ORDER));
      const modelled = ops.map((op) => {
        const lines = mine
          .filter((e) => e.kind === 'modelled' && e.op === op)
          .sort((a, b) => byOrder(PATH_ORDER)(a.path, b.path))
          .map((e, i) => ({ label: histogramLabel(e.path, histograms.get(e.key)!), color: PATH_COLORS[e.path] ?? PALETTE[(i + 3) % PALETTE.length]!, h: histograms.get(e.key)!, width: 2 }));
        return percentileChart(`modelled-${anchor(policy)}-${anchor(op)}`, op, 'modelled ns', lines, 400, 230);
      });
      const measuredEntries = mine.filter((e) => e.kind === 'measured').sort((a, b) => byOrder(OP_ORDER)(a.op, b.op));
      let measured: ChartSpec | undefined;
      if (measuredEntries.length) {
        const all = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: 3 });
        for (const e of measuredEntries) all.add(histograms.get(e.key)!);
        const slowest = new Set([...measuredEntries].sort((a, b) => histograms.get(b.key)!.getValueAtPercentile(99) - histograms.get(a.key)!.getValueAtPercentile(99)).slice(0, MEASURED_SHOWN).map((e) => e.key));
        measured = percentileChart(
          `measured-${anchor(policy)}`,
          `${policy}: simulator wall-clock per statement (engine speed, not the model)`,
          'wall-clock ns',
          [
            { label: histogramLabel('all statements', all), color: '#000', h: all, width: 3 },
            ...measuredEntries.map((e, i) => ({ label: histogramLabel(e.op, histograms.get(e.key)!), color: PALETTE[i % PALETTE.length]!, h: histograms.get(e.key)!, width: 1, show: slowest.has(e.key) })),
          ],
          1240,
          340,
        );
      }
      return { policy, modelled, measured };
    })
    .filter((g) => g.modelled.length || g.measured);
}

function chartSlot(c: ChartSpec, cls = 'chart'): string {
  return `<figure class="${cls}" id="${escapeHtml(c.id)}" data-chart="${escapeHtml(c.id)}" data-points="0"><figcaption>${escapeHtml(c.title)}</figcaption></figure>`;
}

function latencySection(groups: LatencyGroup[]): string {
  const intro = `<p class="dim">Percentile plots in the HdrHistogram style: x is 1/(1−p) on a log axis, so the tail gets room; each line ends at its max. <b>Modelled</b>: simulated ns per statement from the cost table, one line per path the mapping layer took (direct, bounce, iommu): what the IOMMU costs against bypass. <b>Measured</b>: the simulator's own wall-clock time per statement, the engine's speed, not the model. Click a legend entry to hide or show its line.</p>`;
  if (!groups.length) return `<section id="latency"><h2>Latency</h2>${intro}<p class="none">none</p></section>`;
  const parts = groups.map(
    (g) => `<section class="policy" id="latency-${escapeHtml(anchor(g.policy))}"><h3>${escapeHtml(g.policy)}</h3>
<h4>Modelled cost by statement kind <span class="dim">(simulated ns; lines: direct, bounce, iommu)</span></h4>
${g.modelled.length ? `<div class="grid">${g.modelled.map((c) => chartSlot(c)).join('\n')}</div>` : '<p class="none">none</p>'}
<h4>Measured: engine speed <span class="dim">(simulator wall-clock ns, not the model)</span></h4>
${g.measured ? chartSlot(g.measured, 'chart wide measured') : '<p class="none">none</p>'}
</section>`,
  );
  return `<section id="latency"><h2>Latency</h2>${intro}${parts.join('\n')}</section>`;
}

// ---------------------------------------------------------------- page

const CSS = `
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;margin:0 auto;padding:12px 20px 40px;max-width:1300px;background:#fff}
h1{font-size:20px;margin:4px 0 8px}h2{font-size:17px;margin:26px 0 8px;border-bottom:1px solid #ddd;padding-bottom:3px}
h3{font-size:16px;margin:20px 0 4px;padding:4px 8px;background:#f0f2f5;border-left:4px solid #556}h3.plain{background:none;border:none;padding:0;font-size:14px;margin:12px 0 4px}details.driver>summary{cursor:pointer;color:#1f5fa8;margin:4px 0}h4{font-size:13px;margin:10px 0 4px}
code,pre{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:12px}
pre{background:#f7f7f7;border:1px solid #e3e3e3;padding:6px 8px;overflow:auto;max-height:420px;margin:2px 0 6px}
.dim{color:#777;font-weight:normal}.none{color:#777;font-style:italic}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:0 0 8px}dl.facts dt{color:#555;font-weight:600}dl.facts dd{margin:0}
nav{font-size:13px;margin:6px 0}nav a{color:#1f5fa8}
table{border-collapse:collapse;font-size:13px}th,td{padding:3px 8px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}th{background:#f5f5f5;font-weight:600}
td.num{text-align:right;white-space:nowrap}.blame-layer{color:#b00;font-weight:600}.blame-driver{color:#666}.escaped{color:#b00;font-weight:600}
table.crashes{width:100%}tr.crash td{border-bottom:none;padding-top:5px}tr.crash-detail td{padding-top:0;font-size:12px}
tr.crash-detail summary{cursor:pointer;color:#444;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;max-width:1150px}
code.file{color:#555;white-space:nowrap}tr.crash td:nth-child(2) code{white-space:nowrap}.repro{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1.4fr);gap:12px}
.bar{display:inline-block;width:120px;height:10px;background:#f3d2d2;vertical-align:middle}.bar span{display:block;height:100%;background:#3a9a48}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(410px,1fr));gap:6px 10px}
figure.chart{margin:0;min-height:120px}figure.chart figcaption{font-family:ui-monospace,monospace;font-size:12px;font-weight:600}
.timeline{display:flex;flex-wrap:wrap;gap:16px}.timeline figure.chart{flex:0 1 620px;min-width:300px}.uplot .u-title{font-size:13px;font-weight:600}.uplot .u-legend{font-size:11px}
figure.chart[data-error]{outline:2px solid #b00}
footer{margin-top:30px;color:#888;font-size:12px}
`;

/** Runs in the page: draws every chart with uPlot and records what it drew. */
const PAGE_JS = `
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var drawn = 0;
  document.body.dataset.chartsDrawn = '0';
  function fmtNs(v) {
    if (v == null) return '-';
    if (v < 1) return +v.toPrecision(1) + ' ns';
    if (v < 1e3) return Math.round(v) + ' ns';
    if (v < 1e6) return +(v / 1e3).toPrecision(3) + ' \\u00b5s';
    if (v < 1e9) return +(v / 1e6).toPrecision(3) + ' ms';
    return +(v / 1e9).toPrecision(3) + ' s';
  }
  function fmtCount(v) {
    if (v == null) return '-';
    if (Math.abs(v) >= 1e6) return +(v / 1e6).toPrecision(3) + 'M';
    if (Math.abs(v) >= 1e4) return +(v / 1e3).toPrecision(3) + 'k';
    return String(+v.toPrecision(4));
  }
  function pct(x) {
    if (x == null) return '-';
    return parseFloat((100 - 100 / x).toFixed(4)) + '%';
  }
  function xSplits(u) {
    // 0% (the min, at the left edge) only while there is room beside 50%
    var max = u.scales.x.max, out = max > 1000 ? [2] : [1, 2];
    for (var x = 10; x <= max * 1.0001; x *= 10) out.push(x);
    return out.filter(function (x) { return x >= u.scales.x.min && x <= max * 1.0001; });
  }
  function ySplitsLog(u, i, min, max) {
    var out = [];
    var lo = Math.floor(Math.log10(min)), hi = Math.ceil(Math.log10(max));
    var steps = hi - lo <= 2 ? [1, 2, 5] : [1];
    for (var d = lo; d <= hi; d++) steps.forEach(function (m) { var v = m * Math.pow(10, d); if (v >= min * 0.9999 && v <= max * 1.0001) out.push(v); });
    return out;
  }
  // uPlot thins labels on log axes; the splits given are the ones wanted
  function keepAll(u, splits) { return splits; }
  function countPoints(spec) {
    var n = 0;
    spec.series.forEach(function (s) { s.data.forEach(function (v) { if (v != null) n++; }); });
    return n;
  }
  function opts(spec, el) {
    var points = countPoints(spec);
    var once = false;
    var o = {
      width: spec.width,
      height: spec.height,
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
      hooks: {
        draw: [function () {
          if (once) return;
          once = true;
          el.dataset.points = String(points);
          document.body.dataset.chartsDrawn = String(++drawn);
        }]
      },
      series: [{}],
      axes: [],
      scales: {}
    };
    if (spec.type === 'percentile') {
      var xmax = spec.x[spec.x.length - 1] || 1;
      var top = Math.pow(10, Math.max(1, Math.ceil(Math.log10(xmax) - 1e-9)));
      o.scales.x = { time: false, distr: 3, log: 10, range: function () { return [1, top]; } };
      o.scales.y = { distr: 3, log: 10 };
      o.series[0] = { label: 'p', value: function (u, v) { return pct(v); } };
      o.axes = [
        { label: 'percentile', splits: xSplits, filter: keepAll, values: function (u, s) { return s.map(pct); }, size: 36 },
        { label: spec.yLabel, splits: ySplitsLog, filter: keepAll, values: function (u, s) { return s.map(fmtNs); }, size: 64 }
      ];
      spec.series.forEach(function (s) {
        o.series.push({ label: s.label, stroke: s.color, width: s.width || 1.5, show: s.show !== false, spanGaps: false,
          value: function (u, v) { return fmtNs(v); }, points: { show: points < 400, size: 3 } });
      });
    } else {
      // counts and rates: from zero
      var fromZero = function (u, min, max) { return [0, max > 0 ? max * 1.08 : 1]; };
      o.scales.x = { time: false };
      o.scales.y = { range: fromZero };
      o.series[0] = { label: 't (s)', value: function (u, v) { return v == null ? '-' : v.toFixed(1) + ' s'; } };
      // whole-number ticks: these are counts and rates of whole things
      var incrs = [];
      for (var d = 1; d <= 1e12; d *= 10) incrs.push(d, 2 * d, 5 * d);
      o.axes = [{ label: 'seconds since start', size: 36 }, { label: spec.yLabel, incrs: incrs, values: function (u, s) { return s.map(fmtCount); }, size: 60 }];
      if (spec.y2Label) {
        o.scales.y2 = { range: fromZero };
        o.axes.push({ scale: 'y2', side: 1, label: spec.y2Label, grid: { show: false }, incrs: incrs, values: function (u, s) { return s.map(fmtCount); }, size: 60 });
      }
      spec.series.forEach(function (s) {
        var ser = { label: s.label, stroke: s.color, width: s.width || 1.5, scale: s.scale || 'y', value: function (u, v) { return fmtCount(v); }, points: { show: spec.x.length < 60, size: 5 } };
        if (s.step) ser.paths = uPlot.paths.stepped({ align: -1 });
        o.series.push(ser);
      });
    }
    return o;
  }
  data.charts.forEach(function (spec) {
    var el = document.getElementById(spec.id);
    if (!el) { console.error('dmafuzz report: no element for chart ' + spec.id); return; }
    try {
      var width = Math.min(spec.width, Math.max(280, el.clientWidth || spec.width));
      var o = opts(spec, el);
      o.width = width;
      new uPlot(o, [spec.x].concat(spec.series.map(function (s) { return s.data; })), el);
    } catch (e) {
      el.dataset.error = String(e && e.message || e);
      console.error('dmafuzz report: chart ' + spec.id + ' failed: ' + (e && e.stack || e));
    }
  });
})();
`;

/** The page for one run: `histograms` holds the decoded histogram of every key in `summary.histograms`. */
export function renderReport(summary: ReportSummary, histograms: ReadonlyMap<string, hdr.Histogram>): string {
  const lib = uplotAssets();
  const policies = [...(summary.config.policies ?? [])];
  for (const p of [...summary.histograms.map((e) => e.policy), ...(summary.crashes ?? []).map((c) => c.policy), ...(summary.security ?? []).map((r) => r.policy)]) {
    if (!policies.includes(p)) policies.push(p);
  }
  const timeline = timelineCharts(summary);
  const groups = latencyGroups(summary, histograms, policies);
  const charts = [...timeline, ...groups.flatMap((g) => [...g.modelled, ...(g.measured ? [g.measured] : [])])];
  const timelineHtml = timeline.length
    ? `<div class="timeline">${timeline.map((c) => chartSlot(c, 'chart wide')).join('\n')}</div>`
    : '<p class="none">none</p>';
  const counts = summary.histogramCounts;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>dmafuzz report ${escapeHtml(summary.runId)}</title>
<style>/* uPlot ${escapeHtml(lib.version)} (MIT) */
${inlineSafe(lib.css, 'style')}</style>
<style>${CSS}</style>
</head>
<body data-charts-total="${charts.length}">
${header(summary, policies)}
${crashesSection(summary, policies)}
${securitySection(summary, policies)}
<section id="timeline"><h2>Throughput and coverage over time</h2>
${timelineHtml}
</section>
${latencySection(groups)}
<footer>dmafuzz ${escapeHtml(summary.versions?.dmafuzz ?? '')} on node ${escapeHtml(summary.versions?.node ?? '')}; ${escapeHtml(fmtNum(summary.histograms.length))} histograms${counts ? `, ${escapeHtml(fmtNum(counts.merged))} values` : ''}; the raw data is in summary.json and hist/*.hgrm, hist/*.hdr beside this page; charts by uPlot ${escapeHtml(lib.version)}.</footer>
<script>${inlineSafe(lib.js, 'script')}</script>
<script type="application/json" id="report-data">${scriptJson({ charts })}</script>
<script>${PAGE_JS}</script>
</body>
</html>
`;
}

/** Renders first, then writes DIR/index.html atomically (temp file + rename): a failure leaves the old page as it was. */
export function writeReportHtml(dir: string, summary: ReportSummary, histograms: ReadonlyMap<string, hdr.Histogram>): string {
  const html = renderReport(summary, histograms);
  const file = path.join(dir, 'index.html');
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  try {
    fs.writeFileSync(tmp, html);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw new UserError(`cannot write: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, file);
  }
  return file;
}

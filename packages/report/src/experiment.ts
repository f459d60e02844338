import { join } from 'node:path';
import { LatencyHistogram, isRedlineError, readRunResult, writeFileAtomic, writeJsonAtomic, type RunResult } from '@redline/core';
import { compareRuns, type CompareOptions, type CompareResult, type MetricComparison } from './compare.js';
import { writeCompareHtml } from './compare-html.js';
import { escapeHtml as h, fmtBytes, fmtChange, fmtMs, fmtNum, fmtPct } from './format.js';
import { pageHtml } from './report-html.js';

/** What an experiment varies between its arms. */
export type ExperimentKind = 'protocols' | 'encodings';

/** File names an experiment writes into its directory, next to one run directory per arm (and repetition). */
export const EXPERIMENT_FILE = 'experiment.json';
export const EXPERIMENT_HTML = 'experiment.html';

/** One arm as given: its label (`h1`, `gzip`) and its run directories (one per repetition). */
export interface ExperimentArmInput {
  label: string;
  dirs: string[];
}

/** One arm's numbers, every repetition pooled. Per-request values divide by all requests of the arm. */
export interface ExperimentArm {
  label: string;
  dirs: string[];
  /** Status of each run (`completed`, `interrupted`, `aborted`). */
  statuses: string[];
  requests: number;
  errors: number;
  /** errors / requests (0 without requests). */
  errorRate: number;
  /** Completed requests per second (`summary.throughput`), runs weighted by their length. */
  throughput: number;
  /** Corrected latency percentiles of the merged histograms, ms; null when nothing was timed. */
  latencyMs: { p50: number; p90: number; p99: number; p999: number } | null;
  /** Generator CPU (every thread of the runner process) per request, µs. */
  generatorCpuUsPerRequest: number | null;
  /** The target's CPU per request over the loaded seconds, µs; null when the target was not probed. */
  targetCpuUsPerRequest: number | null;
  /** Bytes on the wire: request bytes sent per request, response bytes received per response. */
  sentBytesPerRequest: number | null;
  receivedBytesPerResponse: number | null;
  dataSentBytes: number;
  dataReceivedBytes: number;
  /**
   * Connections the generator opened: HTTP/2 connections (`summary.http2.connections`), or, for
   * HTTP/1.1, the responses whose request paid a TCP connect (`summary.timings.connect` > 0); null
   * when neither was recorded.
   */
  connections: number | null;
  connectionsFrom: 'http2' | 'connect-phase' | null;
  /** The doctor's findings of the arm's runs (not `no-problem`), most severe first, at most 8. */
  findings: { category: string; severity: string; title: string }[];
  /** Share of the target's busy CPU in node:zlib, when a run of the arm has a compression-cpu finding. */
  zlibCpuShare: number | null;
}

/** An arm against the first arm, with compare's statistics (bootstrap intervals and verdicts). */
export interface ExperimentComparison {
  base: string;
  candidate: string;
  /** compare.html of the pair (absolute path), when written. */
  html: string | null;
  metrics: MetricComparison[];
  notCompared: CompareResult['notCompared'];
  warnings: string[];
  /** Why the pair could not be compared at all (e.g. an arm without responses); metrics are then empty. */
  error?: string;
}

/** `experiment.json`: the side-by-side numbers of every arm and each arm's comparison with the first. */
export interface ExperimentResult {
  kind: 'experiment';
  experiment: ExperimentKind;
  arms: ExperimentArm[];
  comparisons: ExperimentComparison[];
  warnings: string[];
}

/** Options of {@link summarizeExperiment}. */
export interface ExperimentOptions {
  /** Passed to compareRuns for every pair (noise threshold, seed, iterations, appRoot). */
  compare?: Omit<CompareOptions, 'force'>;
  /** Where to write each pair's compare.html (`compare-<candidate>-vs-<base>.html`); none when absent. */
  htmlDir?: string;
}

function loadedSeconds(r: RunResult): { from: number; to: number } {
  const loaded = r.timeseries.filter((p) => p.requests > 0);
  return { from: (loaded[0]?.t ?? 1) - 1, to: loaded.at(-1)?.t ?? Number.POSITIVE_INFINITY };
}

/** Core-seconds of the generator over its per-second self-checks. */
const generatorCoreSeconds = (r: RunResult): number => r.generator.seconds.reduce((a, s) => a + s.cpuCores, 0);

/** Core-seconds of the target over the loaded seconds, or null without samples. */
function targetCoreSeconds(r: RunResult): number | null {
  const samples = r.target?.samples ?? [];
  if (samples.length === 0) return null;
  const { from, to } = loadedSeconds(r);
  let sum = 0;
  for (const s of samples) if (s.t > from && s.t <= to) sum += s.cpuUser + s.cpuSystem;
  return sum;
}

/** A connect phase of at least this (ms) is a new connection; a reused one records 0 (the histogram's 1 µs). */
const MIN_CONNECT_MS = 0.005;

function connectionsOf(r: RunResult): { n: number; from: 'http2' | 'connect-phase' } | null {
  if (r.summary.http2) return { n: r.summary.http2.connections, from: 'http2' };
  const enc = r.histograms.timings?.connect;
  if (enc === undefined || enc === '') return null;
  let n = 0;
  for (const [ms, count] of LatencyHistogram.decode(enc).buckets()) if (ms >= MIN_CONNECT_MS) n += count;
  return { n, from: 'connect-phase' };
}

const SEVERITY_RANK: Record<string, number> = { high: 0, medium: 1, low: 2, info: 3 };

function armOf(label: string, dirs: string[], results: RunResult[]): ExperimentArm {
  const sum = (f: (r: RunResult) => number): number => results.reduce((a, r) => a + f(r), 0);
  const requests = sum((r) => r.summary.requests);
  const errors = sum((r) => r.summary.errors);
  const seconds = sum((r) => r.summary.durationMs / 1000);
  const responses = sum((r) => r.summary.latency?.count ?? 0);
  const latency = LatencyHistogram.mergeEncoded(results.map((r) => r.histograms.latency).filter((e) => e !== ''));
  const target = results.map(targetCoreSeconds);
  const conns = results.map(connectionsOf);
  const perRequest = (coreSeconds: number): number | null => (requests > 0 ? (coreSeconds * 1e6) / requests : null);
  const findings = results
    .flatMap((r) => r.findings)
    .filter((f) => f.category !== 'no-problem')
    .sort((a, b) => (SEVERITY_RANK[a.severity] ?? 9) - (SEVERITY_RANK[b.severity] ?? 9) || b.confidence - a.confidence);
  const zlib = findings.find((f) => f.category === 'compression-cpu')?.evidence.find((e) => e.metric === 'target.cpu.zlib_share')?.value;
  // One finding per category (repetitions of an arm find the same things), most severe first.
  const firstOfCategory = findings.filter((f, i) => findings.findIndex((g) => g.category === f.category) === i);
  return {
    label,
    dirs,
    statuses: results.map((r) => r.status),
    requests,
    errors,
    errorRate: requests > 0 ? errors / requests : 0,
    throughput: seconds > 0 ? sum((r) => r.summary.throughput * (r.summary.durationMs / 1000)) / seconds : 0,
    latencyMs: latency.count === 0 ? null : { p50: latency.percentileMs(50), p90: latency.percentileMs(90), p99: latency.percentileMs(99), p999: latency.percentileMs(99.9) },
    generatorCpuUsPerRequest: perRequest(sum(generatorCoreSeconds)),
    targetCpuUsPerRequest: target.every((t) => t !== null) ? perRequest(target.reduce<number>((a, t) => a + (t ?? 0), 0)) : null,
    sentBytesPerRequest: requests > 0 ? sum((r) => r.summary.dataSentBytes) / requests : null,
    receivedBytesPerResponse: responses > 0 ? sum((r) => r.summary.dataReceivedBytes) / responses : null,
    dataSentBytes: sum((r) => r.summary.dataSentBytes),
    dataReceivedBytes: sum((r) => r.summary.dataReceivedBytes),
    connections: conns.every((c) => c !== null) ? conns.reduce((a, c) => a + (c?.n ?? 0), 0) : null,
    connectionsFrom: conns[0]?.from ?? null,
    findings: firstOfCategory.slice(0, 8).map((f) => ({ category: f.category, severity: f.severity, title: f.title })),
    zlibCpuShare: zlib ?? null,
  };
}

/** Checks that say an arm did not test what it was meant to (the server ignored the protocol or the coding). */
function armWarnings(kind: ExperimentKind, arms: ExperimentArm[], results: RunResult[][]): string[] {
  const out: string[] = [];
  arms.forEach((a, i) => {
    if (a.requests === 0 || a.latencyMs === null) out.push(`The ${a.label} arm got no response: it measured nothing and is not compared.`);
    if (kind === 'protocols' && a.label === 'h2' && results[i]!.some((r) => r.summary.http2 === undefined)) out.push('The h2 arm opened no HTTP/2 connection (do the scenario\'s requests set their own protocol?).');
  });
  if (kind === 'encodings') {
    const identity = arms.find((a) => a.label === 'identity');
    for (const a of arms) {
      if (identity === undefined || a === identity || a.receivedBytesPerResponse === null || identity.receivedBytesPerResponse === null) continue;
      if (a.receivedBytesPerResponse >= identity.receivedBytesPerResponse * 0.98) {
        out.push(`The server did not compress for ${a.label}: ${fmtBytes(a.receivedBytesPerResponse)} per response vs ${fmtBytes(identity.receivedBytesPerResponse)} with identity.`);
      }
    }
  }
  return out;
}

const fileLabel = (s: string): string => s.replace(/[^A-Za-z0-9._-]/g, '_');

/**
 * Reads every arm's run directories and puts them side by side: throughput, latency percentiles,
 * generator and target CPU per request, bytes on the wire, connections, the doctor's findings; then
 * compares each arm with the first through {@link compareRuns} (hierarchical bootstrap, verdicts),
 * writing each pair's compare.html into `htmlDir` when given. Throws REDLINE_ERR_BAD_RUN_DIR for a
 * bad run directory; a pair that cannot be compared is recorded with its reason.
 */
export async function summarizeExperiment(kind: ExperimentKind, inputs: ExperimentArmInput[], opts: ExperimentOptions = {}): Promise<ExperimentResult> {
  const results: RunResult[][] = [];
  for (const a of inputs) {
    const rs: RunResult[] = [];
    for (const d of a.dirs) rs.push(await readRunResult(d));
    results.push(rs);
  }
  const arms = inputs.map((a, i) => armOf(a.label, a.dirs, results[i]!));
  const warnings = armWarnings(kind, arms, results);
  const comparisons: ExperimentComparison[] = [];
  const base = inputs[0];
  for (let i = 1; base !== undefined && i < inputs.length; i++) {
    const cand = inputs[i]!;
    if (arms[0]!.latencyMs === null || arms[i]!.latencyMs === null) {
      comparisons.push({ base: base.label, candidate: cand.label, html: null, metrics: [], notCompared: [], warnings: [], error: 'an arm got no response' });
      continue;
    }
    try {
      const cmp = await compareRuns(base.dirs, cand.dirs, { ...(opts.compare ?? {}), force: false });
      const html = opts.htmlDir !== undefined ? await writeCompareHtml(cmp, join(opts.htmlDir, `compare-${fileLabel(cand.label)}-vs-${fileLabel(base.label)}.html`), { title: `Redline · ${cand.label} vs ${base.label}` }) : null;
      comparisons.push({ base: base.label, candidate: cand.label, html, metrics: cmp.metrics, notCompared: cmp.notCompared, warnings: cmp.warnings });
    } catch (err) {
      if (!isRedlineError(err)) throw err;
      comparisons.push({ base: base.label, candidate: cand.label, html: null, metrics: [], notCompared: [], warnings: [], error: err.message });
    }
  }
  return { kind: 'experiment', experiment: kind, arms, comparisons, warnings };
}

/** One row of the side-by-side table: a label, each arm's value, and the compare metric behind it (if any). */
interface Row {
  label: string;
  value: (a: ExperimentArm) => string;
  metric?: MetricComparison['metric'];
}

const us = (v: number | null): string => (v === null ? '–' : v >= 1000 ? `${fmtNum(v / 1000, 2)} ms` : `${fmtNum(v, 1)} µs`);

function rows(x: ExperimentResult): Row[] {
  const lat = (k: 'p50' | 'p90' | 'p99' | 'p999') => (a: ExperimentArm) => (a.latencyMs === null ? '–' : fmtMs(a.latencyMs[k]));
  const out: Row[] = [
    { label: 'throughput', value: (a) => `${fmtNum(a.throughput, 1)}/s`, metric: 'throughput' },
    { label: 'latency p50', value: lat('p50'), metric: 'p50' },
    { label: 'latency p90', value: lat('p90'), metric: 'p90' },
    { label: 'latency p99', value: lat('p99'), metric: 'p99' },
    { label: 'latency p99.9', value: lat('p999'), metric: 'p99.9' },
    { label: 'error rate', value: (a) => fmtPct(a.errorRate, 2), metric: 'errorRate' },
    { label: 'generator CPU / request', value: (a) => us(a.generatorCpuUsPerRequest) },
    { label: 'target CPU / request', value: (a) => us(a.targetCpuUsPerRequest) },
    { label: 'bytes sent / request', value: (a) => (a.sentBytesPerRequest === null ? '–' : fmtBytes(a.sentBytesPerRequest)) },
    { label: 'bytes received / response', value: (a) => (a.receivedBytesPerResponse === null ? '–' : fmtBytes(a.receivedBytesPerResponse)) },
    { label: 'connections opened', value: (a) => (a.connections === null ? '–' : fmtNum(a.connections)) },
  ];
  if (x.experiment === 'encodings') out.push({ label: 'target CPU in zlib', value: (a) => (a.zlibCpuShare === null ? '–' : fmtPct(a.zlibCpuShare, 0)) });
  return out;
}

/** The change and verdict of a compare metric for the arm at `index` (> 0) against the first arm. */
function verdictOf(x: ExperimentResult, index: number, metric: MetricComparison['metric'] | undefined): MetricComparison | undefined {
  if (index === 0 || metric === undefined) return undefined;
  const label = x.arms[index]?.label;
  return x.comparisons.find((c) => c.candidate === label)?.metrics.find((m) => m.metric === metric);
}

const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');
const width = (s: string): number => s.replace(ANSI, '').length;
const pad = (s: string, n: number, right = false): string => (right ? ' '.repeat(Math.max(0, n - width(s))) + s : s + ' '.repeat(Math.max(0, n - width(s))));

/**
 * The experiment as a terminal table: one column per arm; for the arms after the first, compare's
 * change against the first arm and its verdict next to each compared metric. Then findings per arm,
 * and the warnings.
 */
export function renderExperimentTable(x: ExperimentResult, opts: { color?: boolean } = {}): string {
  const paint = (code: string, s: string): string => (opts.color ? `\u001b[${code}m${s}\u001b[0m` : s);
  const mark = (m: MetricComparison | undefined): string => {
    if (m === undefined) return '';
    const verdict = m.verdict === 'regressed' ? paint('31', 'worse') : m.verdict === 'improved' ? paint('32', 'better') : paint('2', '~');
    return ` (${fmtChange(m.change)} ${verdict})`;
  };
  const header = ['', ...x.arms.map((a) => a.label)];
  const table = rows(x).map((r) => [r.label, ...x.arms.map((a, i) => `${r.value(a)}${mark(verdictOf(x, i, r.metric))}`)]);
  const widths = header.map((hd, i) => Math.max(width(hd), ...table.map((r) => width(r[i]!))));
  const line = (cells: string[]): string => cells.map((c, i) => pad(c, widths[i]!, i > 0)).join('   ').trimEnd();
  const runs = x.arms[0]?.dirs.length ?? 0;
  const lines = [paint('1', `${x.experiment === 'protocols' ? 'Protocol' : 'Encoding'} experiment: ${x.arms.map((a) => a.label).join(' vs ')} (${runs} run${runs === 1 ? '' : 's'} per arm, interleaved)`), ''];
  lines.push(line(header.map((c) => paint('1', c))));
  lines.push(widths.map((w) => '─'.repeat(w)).join('   '));
  for (const r of table) lines.push(line(r));
  lines.push('');
  lines.push(paint('2', `(change vs ${x.arms[0]?.label ?? 'the first arm'} with compare's 95 % bootstrap interval: better/worse when it clears the noise band, ~ otherwise; CPU, bytes and connections are point values)`));
  for (const c of x.comparisons) {
    if (c.error !== undefined) lines.push(paint('33', `${c.candidate} vs ${c.base}: not compared (${c.error})`));
    else {
      const moved = c.metrics.filter((m) => m.verdict !== 'no change').map((m) => `${m.label} ${fmtChange(m.change)} [${m.ci ? `${fmtChange(m.ci.low)}, ${fmtChange(m.ci.high)}` : 'n/a'}] ${m.verdict}`);
      lines.push(`${c.candidate} vs ${c.base}: ${moved.length ? moved.join('; ') : 'no change beyond noise'}`);
    }
  }
  for (const a of x.arms) {
    const top = a.findings.filter((f) => f.severity !== 'info').slice(0, 3);
    if (top.length) lines.push(`${a.label} findings: ${top.map((f) => `${f.severity.toUpperCase()} ${f.title}`).join(' | ')}`);
  }
  for (const w of x.warnings) lines.push(paint('33', `warning: ${w}`));
  return lines.join('\n') + '\n';
}

/** experiment.html: the side-by-side table, each arm's findings, links to the pairs' compare pages. */
export function renderExperimentHtml(x: ExperimentResult, generatedAt = new Date()): string {
  const cell = (r: Row, a: ExperimentArm, i: number): string => {
    const m = verdictOf(x, i, r.metric);
    const cls = m === undefined || m.verdict === 'no change' ? '' : m.verdict === 'regressed' ? 'worse' : 'better';
    const note = m === undefined ? '' : `<div class="note change ${cls}">${h(fmtChange(m.change))}${m.ci ? ` [${h(fmtChange(m.ci.low))}, ${h(fmtChange(m.ci.high))}]` : ''} · ${h(m.verdict)}</div>`;
    return `<td class="num">${h(r.value(a))}${note}</td>`;
  };
  const body = rows(x)
    .map((r) => `<tr><td>${h(r.label)}</td>${x.arms.map((a, i) => cell(r, a, i)).join('')}</tr>`)
    .join('');
  const pairs = x.comparisons
    .map((c) => `<li>${h(c.candidate)} vs ${h(c.base)}: ${c.html ? `<a href="${h(c.html.split('/').at(-1) ?? '')}">compare page</a>` : h(`not compared (${c.error ?? 'no page'})`)}${c.warnings.length ? `<div class="note">${c.warnings.map((w) => h(w)).join('<br>')}</div>` : ''}</li>`)
    .join('');
  const findings = x.arms
    .map((a) => `<h3>${h(a.label)}</h3>${a.findings.length ? `<ul>${a.findings.map((f) => `<li><b>${h(f.severity)}</b> ${h(f.title)}</li>`).join('')}</ul>` : '<p class="note">no findings beyond "no problem"</p>'}<p class="note">${a.dirs.map((d) => `<code>${h(d)}</code>`).join(' ')}</p>`)
    .join('');
  const warnings = x.warnings.map((w) => `<div class="alert warn">${h(w)}</div>`).join('');
  const title = `${x.experiment === 'protocols' ? 'Protocol' : 'Encoding'} experiment: ${x.arms.map((a) => a.label).join(' vs ')}`;
  const html = `<header class="top"><div class="brand">Redline experiment</div><h1>${h(title)}</h1>
<div class="meta"><span>${h(String(x.arms[0]?.dirs.length ?? 0))} run(s) per arm, interleaved</span><span>changes against ${h(x.arms[0]?.label ?? '')}, 95 % hierarchical bootstrap intervals as in compare</span></div></header>
<main><section id="arms"><h2>Side by side</h2>${warnings ? `<div class="alerts">${warnings}</div>` : ''}
<table class="data"><thead><tr><th>metric</th>${x.arms.map((a) => `<th class="num">${h(a.label)}</th>`).join('')}</tr></thead><tbody>${body}</tbody></table>
<p class="hint">CPU per request is core time over all requests of the arm (generator: the whole runner process; target: the probe's samples over the loaded seconds). Bytes are on the wire (compressed bodies, HTTP/2 frames). Connections: HTTP/2 connections opened, or HTTP/1.1 responses that paid a TCP connect.</p></section>
<section id="pairs"><h2>Comparisons</h2><ul>${pairs}</ul></section>
<section id="findings"><h2>Findings by arm</h2>${findings}</section></main>
<footer>Generated by Redline on ${h(generatedAt.toISOString().replace('T', ' ').slice(0, 19))} UTC · self-contained, works offline</footer>`;
  return pageHtml(`Redline · ${title}`, html, {}, []);
}

/** Writes `experiment.json` and `experiment.html` into `dir`; returns both paths. */
export async function writeExperiment(x: ExperimentResult, dir: string): Promise<{ json: string; html: string }> {
  const json = join(dir, EXPERIMENT_FILE);
  const html = join(dir, EXPERIMENT_HTML);
  await writeJsonAtomic(json, x);
  await writeFileAtomic(html, renderExperimentHtml(x));
  return { json, html };
}

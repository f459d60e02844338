// Trace exemplars on the report's latency chart, checked in headless Chromium: a traced run directory
// (traces.json from the real analysis, traces.otlp.json) → report.html; the kept traces are marks on
// the latency chart at their time and latency, and clicking one opens that trace's waterfall.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeJsonAtomic } from '@redline/core';
import { analyzeTraces, spansToOtlpJson, TRACES_FILE, TRACES_OTLP_FILE, type KeptRecord, type Span, type TracesFile } from '@redline/trace';
import type { Browser } from 'playwright-core';
import { exemplarsHtml, MAX_EXEMPLARS, renderReportHtml, writeReport } from '../src/index.ts';
import { launchChromium, openFile } from './helpers/browser.ts';
import { runDirFactory } from './helpers/run-dirs.ts';
import { syntheticRun } from './helpers/synthetic-run.ts';

const TAG = 'abcdef01';
const NAME = 'GET /products';

/** One kept request completing at second `t` with latency `ms`: a server span with a pool wait and a query inside. */
function keptRequest(runStartMs: number, i: number, t: number, ms: number, reason: KeptRecord['reason']): { record: KeptRecord; spans: Span[] } {
  const traceId = `${TAG}${i.toString(16).padStart(24, '0')}`;
  const endAtMs = runStartMs + t * 1000;
  const sentAtMs = endAtMs - ms;
  const sid = (n: number): string => `${n}${i.toString(16).padStart(15, '0')}`;
  const base = { traceId, service: 'svc', scope: 'test', statusCode: 0 };
  const server: Span = { ...base, spanId: sid(1), parentSpanId: '1000000000000001', name: 'GET', kind: 2, startMs: sentAtMs + 0.2, endMs: endAtMs - 0.2, attributes: { 'http.request.method': 'GET', 'url.path': '/products' } };
  // The tail waits for a pool client; the baseline does not.
  const waitMs = reason === 'tail' ? ms * 0.7 : 0.1;
  const connect: Span = { ...base, spanId: sid(2), parentSpanId: server.spanId, name: 'pg-pool.connect', kind: 1, startMs: server.startMs + 0.1, endMs: server.startMs + 0.1 + waitMs, attributes: {} };
  const query: Span = { ...base, spanId: sid(3), parentSpanId: server.spanId, name: 'pg.query:SELECT', kind: 3, startMs: connect.endMs, endMs: server.endMs - 0.1, attributes: { 'db.system': 'postgresql', 'db.statement': 'SELECT id, price FROM products WHERE id = $1' } };
  return { record: { traceId, name: NAME, latencyMs: ms, sentAtMs, endAtMs, delayMs: 0, status: 200, reason }, spans: [server, connect, query] };
}

let browser: Browser;
let runDir = '';
let tracesFile: TracesFile;
let spans: Span[] = [];

before(async () => {
  const result = syntheticRun({ durationS: 20, ratePerSec: 100, names: [NAME], withTarget: false, stall: false });
  const runStartMs = Date.parse(result.startedAt);
  const kept = [];
  // Baseline around 12 ms every second; a tail request (80–200 ms) every other second.
  for (let t = 1; t <= 19; t++) {
    kept.push(keptRequest(runStartMs, kept.length + 1, t + 0.3, 11 + (t % 3), 'baseline'));
    if (t % 2 === 0) kept.push(keptRequest(runStartMs, kept.length + 1, t + 0.6, 80 + t * 6, 'tail'));
  }
  const records = kept.map((k) => k.record);
  spans = kept.flatMap((k) => k.spans);
  tracesFile = {
    sampleRatio: 0.25,
    samplePerSecond: 50,
    runStartMs,
    analysis: analyzeTraces(records, spans, { percentiles: { [NAME]: { p50Ms: 12, p99Ms: 150 } } }),
    records,
    receiver: { payloads: 1, spansReceived: spans.length, serverSpans: records.length, spansKept: spans.length, tracesKept: records.length, rejected: { garbage: 0, oversized: 0, unknownTraceSpans: 0, unsupported: 0 }, spansDropped: 0, lastPayloadAt: null },
    notes: [],
    spansSaved: spans.length,
  };
  runDir = await runDirFactory('redline-exemplars-')('traced', result);
  await writeJsonAtomic(join(runDir, TRACES_FILE), tracesFile);
  await writeFile(join(runDir, TRACES_OTLP_FILE), JSON.stringify(spansToOtlpJson(spans)));
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
});

describe('trace exemplars on the latency chart', () => {
  it('marks every kept trace at its time and latency; clicking a tail mark opens its waterfall', async () => {
    const out = await writeReport(runDir);
    const { page, problems } = await openFile(browser, out);
    // REDLINE_SCREENSHOT_DIR=dir keeps screenshots to look at.
    const shot = async (name: string): Promise<void> => {
      if (process.env.REDLINE_SCREENSHOT_DIR) await page.screenshot({ path: join(process.env.REDLINE_SCREENSHOT_DIR, name) });
    };
    try {
      await page.locator('[data-chart="latency"]').scrollIntoViewIfNeeded();
      const marks = (await page.evaluate('window.RedlineTraces.marks()')) as Array<{ traceId: string; reason: string; w: boolean; x: number; y: number }>;
      assert.equal(marks.length, tracesFile.records.length);
      assert.ok(marks.every((m) => m.w));
      // Later seconds are further right; slower requests higher up.
      const tails = tracesFile.records.filter((r) => r.reason === 'tail').sort((a, b) => a.endAtMs - b.endAtMs);
      const at = (id: string): { x: number; y: number } => marks.find((m) => m.traceId === id)!;
      for (let i = 1; i < tails.length; i++) {
        assert.ok(at(tails[i]!.traceId).x > at(tails[i - 1]!.traceId).x);
        assert.ok(at(tails[i]!.traceId).y < at(tails[i - 1]!.traceId).y, 'a slower tail request is drawn higher');
      }
      const slowest = tails[tails.length - 1]!;
      const m = at(slowest.traceId);
      // The mark is painted: the latency chart's canvas is purple-ish there.
      const rgba = (await page.evaluate(`(() => {
        const c = document.querySelector('[data-chart="latency"] canvas');
        const r = c.getBoundingClientRect();
        const k = c.width / r.width;
        return [...c.getContext('2d').getImageData(Math.round((${m.x} - r.left) * k), Math.round((${m.y} - r.top) * k), 1, 1).data];
      })()`)) as number[];
      assert.ok(rgba[3]! > 0 && rgba[2]! > rgba[1]! + 60, `pixel at the slowest mark: ${rgba.join(',')}`);
      assert.equal(await page.locator('#trace-exemplar-view .waterfall').count(), 0);
      await page.mouse.click(m.x, m.y);
      await page.waitForSelector(`#trace-exemplar-view[data-open-trace="${slowest.traceId}"] .waterfall`, { timeout: 10_000 });
      const heading = await page.locator('#trace-exemplar-view .waterfall h3').textContent();
      assert.ok(heading?.startsWith(`Tail trace: ${NAME}`) && heading.includes(slowest.traceId), heading ?? '');
      // Its spans, the pool wait on the critical path.
      assert.ok((await page.locator('#trace-exemplar-view .waterfall rect.crit').count()) >= 2);
      assert.match((await page.locator('#trace-exemplar-view .waterfall').innerHTML()) ?? '', /pg-pool connect/);
      await shot('exemplars-waterfall.png');
      // Clicking a baseline mark replaces the open waterfall.
      const base = tracesFile.records.find((r) => r.reason === 'baseline')!;
      await page.locator('[data-chart="latency"]').scrollIntoViewIfNeeded();
      await shot('exemplars-chart.png');
      const b = (await page.evaluate('window.RedlineTraces.marks()')) as Array<{ traceId: string; x: number; y: number }>;
      const bm = b.find((x) => x.traceId === base.traceId)!;
      await page.mouse.click(bm.x, bm.y);
      await page.waitForSelector(`#trace-exemplar-view[data-open-trace="${base.traceId}"] .waterfall`, { timeout: 10_000 });
      assert.equal(await page.locator('#trace-exemplar-view .waterfall').count(), 1);
      assert.deepEqual(problems, []);
    } finally {
      await page.close();
    }
  });

  it('without spans the marks are drawn but open nothing; the page stays bounded', () => {
    const html = exemplarsHtml(tracesFile, new Map(), tracesFile.runStartMs!);
    const points = JSON.parse(/<script type="application\/json" id="redline-exemplars">(.*?)<\/script>/s.exec(html)![1]!) as Array<{ w: boolean; t: number }>;
    assert.equal(points.length, tracesFile.records.length);
    assert.ok(points.every((p) => !p.w));
    assert.doesNotMatch(html, /<template/);
    assert.match(html, /have no spans or did not fit the page/);
    // Many more kept requests than the page shows: at most MAX_EXEMPLARS, tail first.
    const many = { ...tracesFile, records: Array.from({ length: MAX_EXEMPLARS + 200 }, (_, i) => ({ ...tracesFile.records[0]!, traceId: `${TAG}${(i + 1000).toString(16).padStart(24, '0')}`, reason: (i % 4 === 0 ? 'tail' : 'baseline') as KeptRecord['reason'] })) };
    const pts = JSON.parse(/id="redline-exemplars">(.*?)<\/script>/s.exec(exemplarsHtml(many, new Map(), 0))![1]!) as Array<{ reason: string }>;
    assert.equal(pts.length, MAX_EXEMPLARS);
    assert.equal(pts.filter((p) => p.reason === 'tail').length, 200);
    // An untraced run has no exemplars at all.
    assert.doesNotMatch(renderReportHtml(syntheticRun({ durationS: 5 })), /id="redline-exemplars"/);
  });
});

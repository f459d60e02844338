import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chromium, type Browser } from 'playwright-core';
import { isRedlineError } from '@redline/core';
import { fitUsl, readUslCsv, renderSearchSvg, renderUslSvg, searchCapacity, type UslFit } from '../src/index.ts';
import { queueSimRunner } from './fixtures/queue-sim.ts';

const SDM91 = new URL('./fixtures/sdm91.csv', import.meta.url).pathname;
const LAUNCH_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'];

let browser: Browser;
let fit: UslFit;

before(async () => {
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: LAUNCH_ARGS, timeout: 30_000 });
  fit = fitUsl(readUslCsv(SDM91), { bootstrapIterations: 300 });
});
after(async () => {
  await browser?.close();
});

interface Drawn {
  parseError: boolean;
  points: Array<{ x: number; y: number }>;
  curveLength: number;
  bandBox: { width: number; height: number } | null;
  kneeX: number | null;
  kneeOnCurve: boolean;
  redlineY: number | null;
  redlineText: string | null;
  plot: { left: number; right: number; top: number; bottom: number };
}

// Runs inside Chromium; a string so neither the DOM types nor the test transpiler's helpers leak in.
const MEASURE_SCRIPT = `(() => {
  const q = (sel) => document.querySelector(sel);
  const box = (el) => (el ? el.getBoundingClientRect() : null);
  const xAxis = box(q('[data-role="x-axis"]'));
  const yAxis = box(q('[data-role="y-axis"]'));
  const curve = q('[data-role="fit-curve"]');
  const kneeCircle = q('[data-role="knee"] circle');
  const kneeLine = q('[data-role="knee"] line');
  const redline = q('[data-role="redline"] line');
  const band = box(q('[data-role="ci-band"]'));
  let kneeOnCurve = false;
  if (curve && kneeCircle) {
    // Widen a copy of the curve's stroke a little so "on the curve" tolerates rounding to 0.01 px.
    const probe = curve.cloneNode();
    probe.setAttribute('stroke-width', '4');
    curve.parentNode.appendChild(probe);
    kneeOnCurve = probe.isPointInStroke(new DOMPoint(kneeCircle.cx.baseVal.value, kneeCircle.cy.baseVal.value));
    probe.remove();
  }
  return {
    parseError: document.getElementsByTagName('parsererror').length > 0,
    points: [...document.querySelectorAll('[data-role="point"]')].map((c) => {
      const r = c.getBoundingClientRect();
      return { x: r.x + r.width / 2, y: r.y + r.height / 2 };
    }),
    curveLength: curve ? curve.getTotalLength() : 0,
    bandBox: band ? { width: band.width, height: band.height } : null,
    kneeX: kneeLine ? kneeLine.x1.baseVal.value : null,
    kneeOnCurve,
    redlineY: redline ? redline.y1.baseVal.value : null,
    redlineText: q('[data-role="redline"] text')?.textContent ?? null,
    plot: { left: yAxis.x, right: xAxis.right, top: yAxis.y, bottom: xAxis.y },
  };
})()`;

/** Loads the SVG as a standalone document in Chromium and measures what it drew. */
async function draw(svg: string): Promise<Drawn> {
  const page = await browser.newPage();
  try {
    await page.goto(`data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`);
    return (await page.evaluate(MEASURE_SCRIPT)) as Drawn;
  } finally {
    await page.close();
  }
}

describe('renderUslSvg in Chromium', () => {
  it('draws the measured points, fitted curve, confidence band, knee and redline where they belong', async () => {
    const svg = renderUslSvg({ points: fit.points, fit, redline: { throughput: 1700, label: 'redline 1700/s at p(99)<100' }, title: 'SDM91 <fit> & band' });
    const d = await draw(svg);
    assert.equal(d.parseError, false, 'the SVG is well-formed XML');
    assert.equal(d.points.length, fit.points.length);
    for (const p of d.points) {
      assert.ok(p.x >= d.plot.left - 1 && p.x <= d.plot.right + 1 && p.y >= d.plot.top - 1 && p.y <= d.plot.bottom + 1, `point ${JSON.stringify(p)} inside the plot`);
    }
    // Points are drawn in data order: x grows with concurrency; the first point (65/s) is lowest on screen.
    for (let i = 1; i < d.points.length; i++) assert.ok(d.points[i]!.x > d.points[i - 1]!.x);
    assert.ok(d.points[0]!.y > Math.max(...d.points.slice(1).map((p) => p.y)));
    assert.ok(d.curveLength > 200, `curve length ${d.curveLength}`);
    assert.ok(d.bandBox && d.bandBox.width > 200 && d.bandBox.height > 50, `band ${JSON.stringify(d.bandBox)}`);
    // The knee (N_max = 96) lies between the points measured at N = 72 and N = 108, on the curve.
    assert.ok(d.kneeX !== null && d.kneeX > d.points[3]!.x && d.kneeX < d.points[4]!.x, `knee x ${d.kneeX}`);
    assert.equal(d.kneeOnCurve, true);
    // The redline at 1700/s sits between the points measured at 1652/s (N=36) and 1702/s (N=216).
    assert.ok(d.redlineY !== null && d.redlineY < d.points[2]!.y && d.redlineY > d.points[6]!.y, `redline y ${d.redlineY}`);
    assert.equal(d.redlineText, 'redline 1700/s at p(99)<100');
  });

  it('draws a capacity search with its redline at the maximum sustainable throughput', async () => {
    const result = await searchCapacity(queueSimRunner({ servers: 8, serviceMs: 20 }), {
      model: 'open',
      slo: 'p(99)<100',
      startLevel: 50,
      maxLevel: 5000,
      stepDurationMs: 10_000,
      maxDurationMs: 600_000,
    });
    const d = await draw(renderSearchSvg(result));
    assert.equal(d.parseError, false);
    assert.equal(d.points.length, result.steps.length);
    assert.ok(d.redlineText?.startsWith(`redline ${Number(result.maxSustainable!.throughput.toPrecision(6))}/s`));
    assert.ok(d.kneeX !== null);
  });

  it('draws points alone when the fit did not converge', async () => {
    const failed = fitUsl(readUslCsv(SDM91), { maxIterations: 1 });
    const svg = renderUslSvg({ points: failed.points, fit: failed });
    assert.ok(!svg.includes('data-role="fit-curve"') && !svg.includes('data-role="ci-band"'));
    const d = await draw(svg);
    assert.equal(d.points.length, 7);
    assert.equal(d.curveLength, 0);
  });
});

describe('renderUslSvg input checks', () => {
  it('escapes the title', () => {
    const svg = renderUslSvg({ points: fit.points, title: 'a <b> & "c"' });
    assert.ok(svg.includes('a &lt;b&gt; &amp; &quot;c&quot;'));
  });

  it('rejects an empty point list and an out-of-range size', () => {
    assert.throws(
      () => renderUslSvg({ points: [] }),
      (err: unknown) => isRedlineError(err, 'REDLINE_ERR_INVALID_ARGUMENT') && err.message === 'a USL chart needs at least one measured point',
    );
    assert.throws(
      () => renderUslSvg({ points: fit.points, width: 50 }),
      (err: unknown) => isRedlineError(err, 'REDLINE_ERR_INVALID_ARGUMENT') && err.message === 'width must be between 200 and 4000 pixels, got 50',
    );
  });
});

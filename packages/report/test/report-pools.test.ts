import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import type { RunResult, StatsSeries } from '@redline/core';
import { poolChartData, renderReportHtml } from '../src/index.ts';
import { chartPixels, launchChromium, openFile } from './helpers/browser.ts';
import { syntheticRun } from './helpers/synthetic-run.ts';

const dir = mkdtempSync(join(tmpdir(), 'redline-report-pools-'));
let browser: Browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => {
  await browser.close();
});

/** A pg pool of 4 that runs dry in seconds 11–20 (6 callers waiting, 120 ms acquire wait), idle otherwise. */
function starvedPool(durationS: number): StatsSeries {
  const samples = [];
  for (let t = 1; t <= durationS; t++) {
    const dry = t > 10 && t <= 20;
    samples.push({
      t,
      values: {
        size: 4, max: 4, inUse: dry ? 4 : 1, idle: dry ? 0 : 3, waiting: dry ? 6 : 0,
        inUseMax: dry ? 4 : 2, waitingMax: dry ? 9 : 0, inUseMean: dry ? 4 : 1.5, waitingMean: dry ? 6 : 0,
        acquireRequests: 40, acquires: t === 5 ? 0 : 40, releases: 40,
        waitMeanMs: dry ? 120 : 0.4, waitP99Ms: dry ? 260 : 1.2, holdMeanMs: dry ? 95 : 30,
      },
    });
  }
  return { name: 'pg 127.0.0.1:5432/shop', meta: { driver: 'pg', host: '127.0.0.1', port: 5432, database: 'shop', max: 4 }, serverMaxConnections: 97, samples };
}

function runWithPool(): RunResult {
  const r = syntheticRun({ durationS: 30 });
  r.target!.pools = [starvedPool(30)];
  return r;
}

describe('pool gauges on the report timeline', () => {
  it('chart data: one series per pool, wait and hold only in seconds that acquired or released', () => {
    const [p] = poolChartData(runWithPool());
    assert.ok(p);
    assert.equal(p.max, 4);
    assert.equal(p.serverMaxConnections, 97);
    assert.equal(p.t.length, 30);
    assert.equal(p.waitingMean[14], 6);
    assert.equal(p.inUseMean[14], 4);
    assert.equal(p.waitMeanMs[4], null, 'second 5 completed no acquisition: no wait, not 0 ms');
    assert.equal(p.waitMeanMs[14], 120);
    assert.deepEqual(poolChartData(syntheticRun({ durationS: 5 })), [], 'no pools, no series');
  });

  it('draws size, in use, idle, waiting, the wait and the hold per second in Chromium, zooming with the other charts', async () => {
    const path = join(dir, 'pools.html');
    writeFileSync(path, renderReportHtml(runWithPool()));
    const { page, problems } = await openFile(browser, path);
    const charts = await chartPixels(page);
    for (const name of ['pool-clients-0', 'pool-waiting-0', 'pool-wait-0']) {
      const c = charts.find((x) => x.name === name);
      assert.ok(c, `chart ${name} is on the page`);
      assert.equal(c.empty, false, `${name} has data`);
      assert.ok(c.painted > 500, `${name} painted only ${c.painted} pixels`);
    }
    const heading = (await page.locator('#pools h3').first().textContent()) ?? '';
    assert.match(heading, /pg 127\.0\.0\.1:5432\/shop \(pg, max 4, server allows 97 connections\)/);
    assert.ok(await page.locator('nav.toc a[href="#pools"]').count(), 'the table of contents links the section');

    // Hovering second 15 of the throughput chart fills the pool legends (shared cursor).
    await page.evaluate(`document.querySelector('[data-chart="throughput"]').scrollIntoView({ block: 'center', behavior: 'instant' })`);
    const over = (await page.locator('[data-chart="throughput"] .u-over').boundingBox())!;
    const xOf = (t: number): Promise<number> => page.evaluate(`document.querySelector('[data-chart="throughput"]').__uplot.valToPos(${t}, 'x')`) as Promise<number>;
    await page.mouse.move(over.x + (await xOf(15)), over.y + over.height / 2);
    const clients = (await page.locator('[data-chart="pool-clients-0"] .u-legend').textContent()) ?? '';
    assert.match(clients, /time15s/);
    assert.match(clients, /in use \(mean\)4.*in use \(most\)4.*idle0.*size4.*max4/);
    const waiting = (await page.locator('[data-chart="pool-waiting-0"] .u-legend').textContent()) ?? '';
    assert.match(waiting, /time15s.*waiting \(mean\)6.*waiting \(most\)9/);
    const wait = (await page.locator('[data-chart="pool-wait-0"] .u-legend').textContent()) ?? '';
    assert.match(wait, /acquire wait mean120 ms.*acquire wait p99260 ms.*hold mean95\.0 ms/);

    // A drag on the throughput chart zooms the pool charts too.
    await page.mouse.move(over.x + (await xOf(8)), over.y + over.height / 2);
    await page.mouse.down();
    await page.mouse.move(over.x + (await xOf(22)), over.y + over.height / 2, { steps: 5 });
    await page.mouse.up();
    const range = (await page.evaluate(`(() => { const u = document.querySelector('[data-chart="pool-wait-0"]').__uplot; return [u.scales.x.min, u.scales.x.max]; })()`)) as [number, number];
    assert.ok(range[0] > 6 && range[0] < 10 && range[1] > 20 && range[1] < 24, `pool chart zoomed to ${JSON.stringify(range)}`);
    if (process.env.REDLINE_SCREENSHOT_DIR) {
      await page.dblclick('[data-chart="throughput"] .u-over');
      await page.locator('#pools').screenshot({ path: join(process.env.REDLINE_SCREENSHOT_DIR, 'report-pools.png') });
    }
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('every timeline chart spans the run\'s seconds, though the probe and the pool sampled others', async () => {
    // Load seconds 1–12; the probe's samples run 1–13 (the drain) and the pool's 2–13 (watched a second late).
    const r = syntheticRun({ durationS: 12 });
    r.target!.samples.push({ ...r.target!.samples.at(-1)!, t: 13 });
    const pool = starvedPool(13);
    pool.samples = pool.samples.filter((s) => s.t >= 2);
    r.target!.pools = [pool];
    const path = join(dir, 'pools-axis.html');
    writeFileSync(path, renderReportHtml(r));
    const { page, problems } = await openFile(browser, path);
    const ranges = (await page.evaluate(`[...document.querySelectorAll('[data-chart]')].filter((el) => el.__uplot && el.dataset.chart !== 'spectrum').map((el) => [el.dataset.chart, el.__uplot.scales.x.min, el.__uplot.scales.x.max])`)) as [string, number, number][];
    const names = ranges.map(([n]) => n);
    for (const name of ['throughput', 'elu', 'cpu', 'pool-clients-0', 'pool-waiting-0', 'pool-wait-0']) assert.ok(names.includes(name), `${name} drawn: ${names.join(', ')}`);
    for (const [name, min, max] of ranges) assert.deepEqual([name, min, max], [name, 1, 12]);
    // Second 2 of the pool is on the chart at second 2 (the first pool sample), and second 1 is a gap.
    const u = `document.querySelector('[data-chart="pool-clients-0"]').__uplot`;
    assert.deepEqual(await page.evaluate(`[${u}.data[0][0], ${u}.data[0][1], ${u}.data[1][0], ${u}.data[1][1]]`), [1, 2, null, 1.5]);
    if (process.env.REDLINE_SCREENSHOT_DIR) await page.screenshot({ path: join(process.env.REDLINE_SCREENSHOT_DIR, 'report-axis.png'), fullPage: true });
    assert.deepEqual(problems, []);
    await page.close();
  });
});

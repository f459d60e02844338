import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { ErrorCodes, exitCodeFor, isRedlineError, writeJsonAtomic } from '@redline/core';
import { renderReportHtml, writeReport } from '../src/index.ts';
import { chartPixels, flameImage, launchChromium, openFile, waitForMatches } from './helpers/browser.ts';
import { randomFlameTree, serviceFlameTree, syntheticRun } from './helpers/synthetic-run.ts';

const dir = mkdtempSync(join(tmpdir(), 'redline-report-'));
let browser: Browser;

before(async () => {
  browser = await launchChromium();
});
after(async () => {
  await browser.close();
});

/** Busy work with a recognisable name, so the recorded profile has a frame to search for. */
function burnCpuForReport(ms: number): number {
  const end = Date.now() + ms;
  let x = 0;
  while (Date.now() < end) for (let i = 0; i < 10_000; i++) x += Math.sqrt(i * x + 1);
  return x;
}

describe('run report HTML', () => {
  it('opens in Chromium without console errors or network requests and every chart draws', async () => {
    const path = join(dir, 'full.html');
    writeFileSync(path, renderReportHtml(syntheticRun({ durationS: 90, stages: true }), { flame: serviceFlameTree(3), flameSampleMs: 1 }));
    const { page, problems } = await openFile(browser, path);
    const charts = await chartPixels(page);
    const names = charts.map((c) => c.name).sort();
    assert.deepEqual(names, ['cpu', 'elu', 'errors', 'gc', 'heap', 'lag', 'latency', 'loop-delay', 'spectrum', 'throughput', 'vus']);
    for (const c of charts) {
      assert.equal(c.empty, false, `chart ${c.name} says it has no data`);
      assert.ok(c.canvases >= 1, `chart ${c.name} has no canvas`);
      assert.ok(c.painted > 500, `chart ${c.name} painted only ${c.painted} pixels`);
    }
    assert.ok(await page.locator('.flame-canvas').isVisible());

    // Hover fills the legends of every time chart (synced cursors); a drag zooms all of them.
    const xRange = (name: string): Promise<[number, number]> =>
      page.evaluate(`(() => { const u = document.querySelector('[data-chart="${name}"]').__uplot; return [u.scales.x.min, u.scales.x.max]; })()`) as Promise<[number, number]>;
    const full = await xRange('latency');
    await page.evaluate(`document.querySelector('[data-chart="throughput"]').scrollIntoView({ block: 'center', behavior: 'instant' })`);
    const over = (await page.locator('[data-chart="throughput"] .u-over').boundingBox())!;
    await page.mouse.move(over.x + over.width * 0.5, over.y + over.height * 0.5);
    const legend = (await page.locator('[data-chart="latency"] .u-legend').textContent()) ?? '';
    assert.match(legend, /time\d+s.*p99[\d.]+ ms/);
    await page.mouse.move(over.x + over.width * 0.2, over.y + over.height * 0.5);
    await page.mouse.down();
    await page.mouse.move(over.x + over.width * 0.4, over.y + over.height * 0.5, { steps: 5 });
    await page.mouse.up();
    const zoomed = await xRange('latency');
    assert.ok(zoomed[0] > full[0] && zoomed[1] < full[1], `latency chart did not follow the zoom: ${JSON.stringify({ full, zoomed })}`);
    assert.deepEqual(await xRange('vus'), zoomed);
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('shows the verdict, thresholds, warnings, the per-name table and findings with evidence', () => {
    const r = syntheticRun({ durationS: 20, status: 'interrupted', generatorLimited: true });
    const html = renderReportHtml(r);
    assert.match(html, /THRESHOLDS FAILED|INTERRUPTED/);
    assert.match(html, /<b>Interrupted\.<\/b>/);
    assert.match(html, /<b>Generator-limited\.<\/b>.*schedule lag p99 was 14 ms/s);
    for (const name of Object.keys(r.summary.byName)) assert.ok(html.includes(`<td>${name}</td>`), `row for ${name}`);
    assert.match(html, /target\.loop_delay\.p99/);
    assert.match(html, /src\/routes\/products\.ts:42/);
    assert.match(html, /p\(99\) &lt; 80/);
    // Self-contained: no external script, style or image.
    assert.doesNotMatch(html, /<script[^>]+src=|<link[^>]+href=|<img[^>]+src="http/);
  });

  it('flame graph search highlights matches with their share, and a click zooms', async () => {
    const path = join(dir, 'flame.html');
    writeFileSync(path, renderReportHtml(syntheticRun({ durationS: 10 }), { flame: serviceFlameTree(3), flameSampleMs: 1 }));
    const { page, problems } = await openFile(browser, path);
    const flame = page.locator('[data-flame]');
    const before = await flameImage(page);
    await page.locator('.flame-search').fill('stringify');
    await waitForMatches(page, 'n > 0');
    assert.equal(await flame.getAttribute('data-matches'), '1');
    const tree = serviceFlameTree(3);
    const share = (2100 / tree.totalSamples) * 100;
    assert.match((await page.locator('.flame-matches').textContent()) ?? '', new RegExp(`1 frame · ${share.toFixed(1).replace('.', '\\.')} % of samples`));
    const highlighted = await flameImage(page);
    assert.notEqual(highlighted, before, 'the search changed nothing on the canvas');
    await page.locator('.flame-search').fill('');
    await waitForMatches(page, 'n === 0');

    // Depth 2 (rows are 18 px) at the left is handleRequest: (root) → processTicksAndRejections → handleRequest.
    await page.evaluate(`document.querySelector('.flame-canvas').scrollIntoView({ block: 'center', behavior: 'instant' })`);
    const box = (await page.locator('.flame-canvas').boundingBox())!;
    const unzoomed = await flameImage(page);
    const at = { x: box.x + box.width * 0.25, y: box.y + 2 * 18 + 9 };
    await page.mouse.move(at.x, at.y);
    await page.waitForSelector('.flame-tip:not([hidden])', { timeout: 5000 });
    const tip = (await page.locator('.flame-tip').textContent()) ?? '';
    assert.match(tip, /handleRequest/);
    assert.match(tip, /total.*%.*self/s);
    await page.mouse.click(at.x, at.y);
    assert.equal(await flame.getAttribute('data-zoom'), 'handleRequest');
    assert.notEqual(await flameImage(page), unzoomed, 'zooming changed nothing on the canvas');
    assert.match((await page.locator('.flame-crumb').textContent()) ?? '', /Zoomed into handleRequest/);
    await page.locator('.flame-reset').click();
    assert.equal(await flame.getAttribute('data-zoom'), '');
    // A finding's frame links into the flame graph through the same search.
    await page.locator('[data-flame-search="renderProduct"]').click();
    await waitForMatches(page, 'n > 0');
    assert.equal(await page.locator('.flame-search').inputValue(), 'renderProduct');
    assert.equal(await flame.getAttribute('data-matches'), '1');
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('a 10-minute run with a large CPU profile stays under 3 MB, and says that tiny frames were pruned', async () => {
    const r = syntheticRun({ durationS: 600, ratePerSec: 150, names: ['GET /a', 'GET /b', 'POST /c', 'GET /d', 'GET /e'] });
    const tree = randomFlameTree(120_000);
    const html = renderReportHtml(r, { flame: tree, flameSampleMs: 1 });
    const sizeBytes = Buffer.byteLength(html);
    assert.ok(sizeBytes <= 3 * 1024 * 1024, `report is ${sizeBytes} bytes`);
    assert.match(html, /tiny frames \(each under 0\.01 % of samples/);
    const path = join(dir, 'large.html');
    writeFileSync(path, html);
    const { page, problems } = await openFile(browser, path);
    const charts = await chartPixels(page);
    for (const c of charts) assert.ok(c.painted > 500, `chart ${c.name} painted only ${c.painted} pixels`);
    assert.deepEqual(problems, []);
    await page.close();
  });
});

describe('writeReport', () => {
  it('reads result.json and a real CPU profile, writes report.html atomically, and the flame graph finds the hot function', async () => {
    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 500 });
    await session.post('Profiler.start');
    burnCpuForReport(250);
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    const runDir = join(dir, 'run-with-profile');
    mkdirSync(runDir);
    writeFileSync(join(runDir, 'cpu.cpuprofile'), JSON.stringify(profile));
    const r = syntheticRun({ durationS: 15 });
    r.target!.profiles.cpuprofile = 'cpu.cpuprofile';
    await writeJsonAtomic(join(runDir, 'result.json'), r);
    const out = await writeReport(runDir);
    assert.equal(out, join(runDir, 'report.html'));
    assert.ok(statSync(out).size > 50_000);
    const { page, problems } = await openFile(browser, out);
    await page.locator('.flame-search').fill('burnCpuForReport');
    await waitForMatches(page, 'n > 0');
    assert.match((await page.locator('.flame-matches').textContent()) ?? '', /frame.* · \d+(\.\d+)? % of samples/);
    assert.match(readFileSync(out, 'utf8'), /report-html\.test\.ts/);
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('writes a report with a note when the named CPU profile is missing', async () => {
    const runDir = join(dir, 'run-missing-profile');
    mkdirSync(runDir);
    const r = syntheticRun({ durationS: 5 });
    r.target!.profiles.cpuprofile = 'gone.cpuprofile';
    await writeJsonAtomic(join(runDir, 'result.json'), r);
    const html = readFileSync(await writeReport(runDir), 'utf8');
    assert.match(html, /The CPU profile gone\.cpuprofile could not be used: CPU profile .*gone\.cpuprofile could not be read: ENOENT/);
  });

  it('refuses a missing directory, a directory that is not a run, and a wrong schema version with REDLINE_ERR_BAD_RUN_DIR (exit 2)', async () => {
    const missing = join(dir, 'nope');
    const notRun = join(dir, 'not-a-run');
    mkdirSync(notRun);
    const wrongVersion = join(dir, 'v99');
    mkdirSync(wrongVersion);
    await writeJsonAtomic(join(wrongVersion, 'result.json'), { ...syntheticRun({ durationS: 2 }), schemaVersion: 99 });
    const cases: [string, RegExp][] = [
      [missing, /^run directory .*nope does not exist$/],
      [notRun, /^.*not-a-run is not a run directory: no result\.json in it$/],
      [wrongVersion, /^.*v99\/result\.json has schemaVersion 99; this Redline reads version 1$/],
    ];
    for (const [d, message] of cases) {
      await assert.rejects(writeReport(d), (err: unknown) => {
        assert.ok(isRedlineError(err, ErrorCodes.BAD_RUN_DIR), String(err));
        assert.match(err.message, message);
        assert.equal(exitCodeFor(err), 2);
        return true;
      });
    }
  });
});

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { quickPlan, runLoad, writeRunDir } from '@redline/load';
import { writeReport } from '../src/index.ts';
import { chartPixels, launchChromium, openFile } from './helpers/browser.ts';

// A run directory written by the real load engine against a real HTTP server, not a synthetic result.
// (compare on real runs: compare-real-noise.test.ts.)
describe('report and compare on runs from the load engine', () => {
  let server: Server;
  let browser: Browser;
  const dirs: string[] = [];
  const root = mkdtempSync(join(tmpdir(), 'redline-real-run-'));

  before(async () => {
    let n = 0;
    server = createServer((_req, res) => {
      // Every 50th request fails, so the error charts have something to draw.
      n++;
      setTimeout(() => {
        if (n % 50 === 0) res.statusCode = 503;
        res.end('ok');
      }, 1 + (n % 7));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    for (const name of ['a']) {
      const plan = await quickPlan({ url: `http://127.0.0.1:${port}/items`, rate: 150, duration: '3s', timeout: '5s' });
      const result = await runLoad(plan, { workers: 1 });
      dirs.push(await writeRunDir(result, join(root, name)));
    }
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('writes a report that opens without errors and draws every chart', async () => {
    const path = await writeReport(dirs[0]!);
    const { page, problems } = await openFile(browser, path);
    const charts = await chartPixels(page);
    assert.ok(charts.length >= 6, `only ${charts.length} charts`);
    for (const c of charts) assert.ok(c.painted > 200, `chart ${c.name} painted only ${c.painted} pixels`);
    assert.match((await page.locator('#requests').textContent()) ?? '', /http_5xx/);
    assert.deepEqual(problems, []);
    await page.close();
  });
});

// The live dashboard in real headless Chromium while a run is in progress.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import type { RunResult } from '@redline/core';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { main } from '../src/main.js';
import { fakeIo } from './helpers/fake-io.js';
import { startServer } from './helpers/server.js';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'];

let target: Awaited<ReturnType<typeof startServer>>;
let browser: Browser;
before(async () => {
  target = await startServer(1);
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, timeout: 30_000 });
});
after(async () => {
  await browser?.close();
  await target.close();
});

async function waitFor<T>(fn: () => T | undefined, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('the dashboard page shows request counts that grow while the run is in progress, then the result', async () => {
  const cwd = await mkdtemp(join(tmpdir(), 'redline-dashboard-'));
  const io = fakeIo(['run', '--url', target.url, '--rate', '40', '--duration', '8s', '--workers', '1', '--no-report', '--out', join(cwd, 'run'), '--dashboard', '--dashboard-port', '0', '--threshold', 'http.errors=rate<0.5'], cwd);
  let done = false;
  let verdict = '';
  let findingsText = '';
  const running = main(io).finally(() => (done = true));
  const url = await waitFor(() => /dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(io.stderrText())?.[1], 'the dashboard URL on stderr');
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console.error: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${String(e)}`));
  page.on('request', (r) => {
    if (!r.url().startsWith(url)) problems.push(`request outside the dashboard: ${r.url()}`);
  });
  try {
    await page.goto(url, { timeout: 30_000 });
    await page.waitForSelector('html[data-ready="true"]', { timeout: 15_000 });
    // Polled from here: the page's CSP (script-src 'self') refuses Playwright's string predicates.
    const count = async (): Promise<number> => Number((await page.getAttribute('html', 'data-total-requests')) ?? 0);
    const until = async (ok: (n: number) => boolean, what: string): Promise<number> => {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const n = await count();
        if (ok(n)) return n;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (shown: ${n})`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const first = await until((n) => n > 0, 'a first request count');
    assert.ok(first > 0);
    // The KPI shows the same count the page holds (read in one go: it changes every second).
    const [held, shown] = (await page.evaluate('[document.documentElement.getAttribute("data-total-requests"), document.getElementById("kpi-requests").textContent]')) as [string, string];
    assert.equal(Number(shown.replace(/,/g, '')), Number(held));
    const second = await until((n) => n > first, 'a larger request count');
    assert.ok(second > first, `${second} > ${first}`);
    assert.equal(done, false, 'the counts grew while the run was still going');
    // The report's charts are drawn (uPlot canvases with pixels on them).
    const painted = (await page.evaluate(`[...document.querySelectorAll('[data-chart="throughput"] canvas, [data-chart="latency"] canvas')].map((c) => {
      const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0; for (let i = 3; i < px.length; i += 4) if (px[i] > 0) n++; return n; })`)) as number[];
    assert.ok(painted.length >= 2 && painted.every((n) => n > 500), `painted pixels ${painted}`);
    if (process.env.REDLINE_DASHBOARD_SCREENSHOT) await page.screenshot({ path: process.env.REDLINE_DASHBOARD_SCREENSHOT, fullPage: true });
    // At the end the page shows the verdict, the thresholds and the findings.
    await page.waitForSelector('html[data-finished="true"]', { timeout: 30_000 });
    verdict = (await page.textContent('#status')) ?? '';
    assert.match((await page.textContent('#final-thresholds')) ?? '', /✓ http\.errors rate<0\.5/);
    findingsText = (await page.textContent('#final-findings')) ?? '';
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
  }
  assert.equal(await running, 0, io.stderrText());
  // The badge says what result.json says (a busy machine can make the generator the limit).
  const result = JSON.parse(await readFile(join(cwd, 'run', 'result.json'), 'utf8')) as RunResult;
  assert.equal(verdict, result.generator.limited ? 'GENERATOR-LIMITED' : 'PASSED');
  assert.ok(result.findings.length > 0);
  for (const f of result.findings) assert.ok(findingsText.includes(`${f.severity.toUpperCase()} ${f.category} — ${f.title}`), findingsText);
});

test('the dashboard answers loopback host names only, and serves its files with a strict CSP', async () => {
  const { Dashboard } = await import('../src/dashboard/server.js');
  const d = new Dashboard(0);
  await d.open();
  try {
    const port = new URL(d.url).port;
    const ok = await fetch(d.url);
    assert.equal(ok.status, 200);
    assert.match(ok.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    assert.match(await ok.text(), /<script src="dashboard\.js"><\/script>/);
    assert.equal((await fetch(`${d.url}nope`)).status, 404);
    // DNS rebinding: a foreign Host header is refused.
    const http = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: '/', headers: { host: `evil.example:${port}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject);
    });
    assert.equal(status, 403);
  } finally {
    await d.close();
  }
});

test('a dashboard port already in use is a usage error (exit 2) before any request is sent', async () => {
  const busy: Server = createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  const port = (busy.address() as AddressInfo).port;
  const own = await startServer();
  try {
    const cwd = await mkdtemp(join(tmpdir(), 'redline-dashboard-'));
    const io = fakeIo(['run', '--url', own.url, '--rate', '10', '--duration', '1s', '--no-report', '--dashboard', '--dashboard-port', String(port)], cwd);
    assert.equal(await main(io), 2);
    assert.match(io.stderrText(), new RegExp(`--dashboard: port ${port} on 127\\.0\\.0\\.1 is in use; choose another with --dashboard-port`));
    assert.equal(own.requests(), 0);
  } finally {
    await own.close();
    await new Promise<void>((r) => busy.close(() => r()));
  }
});

#!/usr/bin/env node
// Renders a report (or any local HTML file) in headless Chromium and saves a PNG.
// Usage: node scripts/screenshot.mjs path/to/report.html out.png [widthPx] [heightPx|full]
import { chromium } from 'playwright-core';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

const [file, out, width = '1280', height = 'full'] = process.argv.slice(2);
if (!file || !out) {
  console.error('usage: node scripts/screenshot.mjs report.html out.png [width] [height|full]');
  process.exit(2);
}
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: Number(width), height: height === 'full' ? 900 : Number(height) } });
  const errors = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(pathToFileURL(resolve(file)).href);
  await page.waitForTimeout(800);
  await page.screenshot({ path: out, fullPage: height === 'full' });
  if (errors.length) console.error(`console errors:\n${errors.join('\n')}`);
} finally {
  await browser.close();
}

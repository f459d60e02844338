import { chromium, type Browser, type Page } from 'playwright-core';

/** Launch arguments for Debian's headless Chromium in CI containers. */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'];

/** Starts the system Chromium. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, timeout: 30_000 });
}

/** Opens a file in a new page and collects console errors, page errors and any network request that is not file:/data:. */
export async function openFile(browser: Browser, path: string): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console.error: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${String(e)}`));
  page.on('request', (r) => {
    if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) problems.push(`network request: ${r.url()}`);
  });
  await page.goto(`file://${path}`, { timeout: 30_000 });
  await page.waitForSelector('html[data-ready="true"]', { timeout: 15_000 });
  return { page, problems };
}

/** For each `[data-chart]` element: its name, whether it holds a canvas, and how many canvas pixels are painted. */
export async function chartPixels(page: Page): Promise<{ name: string; canvases: number; painted: number; empty: boolean }[]> {
  // Runs in the page (as a string: the test project has no DOM types).
  return (await page.evaluate(`[...document.querySelectorAll('[data-chart]')].map((el) => {
    let painted = 0;
    const canvases = [...el.querySelectorAll('canvas')];
    for (const c of canvases) {
      const ctx = c.getContext('2d');
      if (!ctx || c.width === 0 || c.height === 0) continue;
      const px = ctx.getImageData(0, 0, c.width, c.height).data;
      for (let i = 3; i < px.length; i += 4) if (px[i] > 0) painted++;
    }
    return { name: el.dataset.chart || '', canvases: canvases.length, painted, empty: el.classList.contains('chart-empty') };
  })`)) as { name: string; canvases: number; painted: number; empty: boolean }[];
}

/** A data URL of the flame graph canvas, to tell whether the view changed. */
export async function flameImage(page: Page): Promise<string> {
  return (await page.evaluate(`document.querySelector('.flame-canvas').toDataURL()`)) as string;
}

/** Waits until the flame graph's match count satisfies `test` (a JS expression over `n`, the count). */
export async function waitForMatches(page: Page, test: string): Promise<void> {
  await page.waitForFunction(`(() => { const n = Number(document.querySelector('[data-flame]').getAttribute('data-matches')); return ${test}; })()`, undefined, { timeout: 10_000 });
}

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { ErrorCodes, isRedlineError, writeJsonAtomic, type RunResult } from '@redline/core';
import { diagnoseRunDir } from '@redline/doctor';
import { renderReportHtml, writeReport } from '../src/index.ts';
import { launchChromium } from './helpers/browser.ts';
import { cpuProfileFromTree, serviceFlameTree, syntheticRun } from './helpers/synthetic-run.ts';

const root = mkdtempSync(join(tmpdir(), 'redline-report-sec-'));
let browser: Browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => {
  await browser.close();
});

// Each payload sets a global when it runs; none of them may.
const PAYLOADS = [
  `<img src=x onerror="window.__pwned=(window.__pwned||0)+1">`,
  `"><script>window.__pwned=(window.__pwned||0)+1</script>`,
  `' onmouseover='window.__pwned=1' x='`,
  `</script><svg onload="window.__pwned=1">`,
];

/** Puts payloads into every string a run directory carries that the report shows. */
function craftedRun(): RunResult {
  const run = syntheticRun({ durationS: 20, withTarget: true, withFindings: true, names: [PAYLOADS[0]!, 'GET /ok'] });
  const p = (i: number): string => PAYLOADS[i % PAYLOADS.length]!;
  run.name = p(1);
  run.id = p(2);
  run.config.scenarios[0]!.name = p(3);
  run.environment.cpuModel = p(0);
  run.environment.node = p(1);
  run.environment.redlineVersion = p(2);
  run.generator.limited = true;
  run.generator.reasons = [p(3)];
  run.thresholds = [{ metric: p(0), expression: p(1), ok: false, actual: 1, abortOnFail: false }];
  run.summary.errorsByKind = { [p(2)]: 1 };
  run.summary.byStatusClass = { [p(3)]: run.summary.byName['GET /ok']! };
  for (const f of run.findings) {
    f.title = p(0);
    f.recommendation = p(1);
    f.evidence = [{ metric: p(2), value: 1, threshold: 2, comparison: '>', unit: p(3) }];
    f.frames = [{ functionName: p(0), file: p(1), line: 3, column: 1, area: 'app', selfShare: 0.5, totalShare: 0.6 }];
  }
  run.target!.exit = { code: 1, signal: p(2), t: 3 };
  return run;
}

async function openAndProbe(path: string): Promise<{ page: Page; pwned: unknown; injected: number; ready: boolean; violations: string[] }> {
  const page = await browser.newPage();
  const violations: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
  });
  let dialog = false;
  page.on('dialog', (d) => {
    dialog = true;
    void d.dismiss();
  });
  await page.goto(`file://${path}`, { timeout: 30_000 });
  const ready = await page
    .waitForSelector('html[data-ready="true"]', { timeout: 15_000 })
    .then(() => true)
    .catch(() => false);
  // Hover everything once so mouse-event payloads would fire too.
  await page.mouse.move(300, 300);
  const pwned = await page.evaluate('window.__pwned');
  const injected = (await page.evaluate(`document.querySelectorAll('img[src="x"], svg[onload], [onmouseover], [onerror]').length`)) as number;
  assert.equal(dialog, false);
  return { page, pwned, injected, ready, violations };
}

describe('a report made from a crafted run directory', () => {
  it('shows every payload as text and runs none of it (written by writeReport from the run dir)', async () => {
    const dir = join(root, 'crafted');
    mkdirSync(dir);
    await writeJsonAtomic(join(dir, 'result.json'), craftedRun());
    const path = await writeReport(dir);
    const { page, pwned, injected, ready, violations } = await openAndProbe(path);
    assert.equal(ready, true, 'the page scripts ran (the CSP lets the report through)');
    assert.equal(pwned, undefined);
    assert.equal(injected, 0, 'no payload became markup');
    assert.deepEqual(violations, []);
    const text = (await page.evaluate('document.body.innerText')) as string;
    assert.ok(text.includes('<img src=x onerror='), 'the payload is shown as text');
    await page.close();
  });

  it('escapes the numeric and enum fields a library caller could fill with strings (pid, severity, line, area)', async () => {
    const run = craftedRun() as unknown as { target: { pid: unknown }; findings: { severity: unknown; frames: { line: unknown; area: unknown }[] }[] };
    run.target.pid = PAYLOADS[0];
    for (const f of run.findings) {
      f.severity = `x"><img src=x onerror="window.__pwned=1">`;
      for (const fr of f.frames) {
        fr.line = PAYLOADS[0];
        fr.area = `x"><img src=x onerror="window.__pwned=1">`;
      }
    }
    const path = join(root, 'typed.html');
    writeFileSync(path, renderReportHtml(run as unknown as RunResult, { flame: serviceFlameTree(1), flameSampleMs: 1 }));
    const { page, pwned, injected, ready } = await openAndProbe(path);
    assert.equal(ready, true);
    assert.equal(pwned, undefined);
    assert.equal(injected, 0);
    await page.close();
  });

  it('the content security policy blocks inline event handlers even in trusted markup, and allows only the page\'s own scripts', async () => {
    const path = join(root, 'csp.html');
    const html = renderReportHtml(syntheticRun({ durationS: 10 }), { capacitySvg: `<svg><image href="x" onerror="window.__pwned=1"/></svg><img src="data:," onload="window.__pwned=2">` });
    assert.doesNotMatch(html, /script-src[^;]*'unsafe-inline'/);
    assert.match(html, /script-src 'sha256-[A-Za-z0-9+/=]+'( 'sha256-[A-Za-z0-9+/=]+')+;/);
    writeFileSync(path, html);
    const { page, pwned, ready, violations } = await openAndProbe(path);
    assert.equal(ready, true);
    assert.equal(pwned, undefined);
    assert.ok(violations.length > 0, 'the browser refused the inline handler');
    await page.close();
  });
});

describe('profile paths in a run directory', () => {
  async function dirWithProfile(name: string, profilePath: string, setup?: (dir: string) => void): Promise<string> {
    const dir = join(root, name);
    mkdirSync(dir);
    setup?.(dir);
    const run = syntheticRun({ durationS: 5, withTarget: true });
    run.target!.profiles = { cpuprofile: profilePath };
    await writeJsonAtomic(join(dir, 'result.json'), run);
    return dir;
  }
  async function refused(dir: string, pattern: RegExp): Promise<void> {
    for (const read of [() => writeReport(dir), () => diagnoseRunDir(dir)]) {
      await assert.rejects(read(), (err: unknown) => {
        assert.ok(isRedlineError(err));
        assert.equal(err.code, ErrorCodes.BAD_RUN_DIR);
        assert.match(err.message, pattern);
        return true;
      });
    }
  }

  it('refuses a path that climbs out of the run directory or is absolute', async () => {
    await refused(await dirWithProfile('climb', '../../../../etc/passwd'), /target\.profiles\.cpuprofile "\.\.\/\.\.\/\.\.\/\.\.\/etc\/passwd" is not a file name inside the run directory/);
    await refused(await dirWithProfile('absolute', '/etc/passwd'), /"\/etc\/passwd" is not a file name inside the run directory/);
  });

  it('refuses a symbolic link, even one to a real profile outside', async () => {
    const outside = join(root, 'outside.cpuprofile');
    writeFileSync(outside, JSON.stringify(cpuProfileFromTree(serviceFlameTree(1))));
    await refused(await dirWithProfile('link', 'cpu.cpuprofile', (d) => symlinkSync(outside, join(d, 'cpu.cpuprofile'))), /is not a regular file \(a symbolic link\)/);
  });

  it('refuses a FIFO instead of blocking on it', async () => {
    await refused(await dirWithProfile('fifo', 'cpu.cpuprofile', (d) => execFileSync('mkfifo', [join(d, 'cpu.cpuprofile')])), /is not a regular file \(a FIFO\)/);
  });

  it('refuses a device', async () => {
    await refused(await dirWithProfile('device', 'null', (d) => symlinkSync('/dev/null', join(d, 'null'))), /is not a regular file/);
    await refused(await dirWithProfile('device2', 'sub/../../../dev/zero'), /is not a file name inside the run directory/);
  });

  it('still reads a profile that is a regular file inside the run directory', async () => {
    const dir = await dirWithProfile('good', 'cpu.cpuprofile', (d) => writeFileSync(join(d, 'cpu.cpuprofile'), JSON.stringify(cpuProfileFromTree(serviceFlameTree(1)))));
    const path = await writeReport(dir);
    assert.ok(path.endsWith('report.html'));
    const { profile } = await diagnoseRunDir(dir);
    assert.ok(profile !== null && profile.sampleCount() > 0);
  });
});

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { ErrorCodes, exitCodeFor, isRedlineError, writeJsonAtomic } from '@redline/core';
import type { FlameNode } from '@redline/doctor';
import { compareRuns, evaluateGate, failOnRegressions, parseFailOn, parseNoiseThreshold, renderCompareTable, writeCompareHtml, type CompareResult } from '../src/index.ts';
import { chartPixels, flameImage, launchChromium, openFile, waitForMatches } from './helpers/browser.ts';
import { runDirFactory } from './helpers/run-dirs.ts';
import { serviceFlameTree, syntheticRun } from './helpers/synthetic-run.ts';

const runDir = runDirFactory();
const steady = { durationS: 30, jitterRate: true, stall: false, withFindings: false, names: ['GET /'], ratePerSec: 1000 } as const;

function metric(cmp: CompareResult, name: string): CompareResult['metrics'][number] {
  const m = cmp.metrics.find((x) => x.metric === name);
  assert.ok(m, `metric ${name} missing`);
  return m;
}

/** The service tree with JSON.stringify's self time multiplied, totals recomputed. */
function slowerStringify(factor: number): FlameNode {
  const tree = serviceFlameTree(2);
  const find = (n: FlameNode): FlameNode | undefined => (n.name === 'JSON.stringify' ? n : n.children.map(find).find((x) => x !== undefined));
  find(tree)!.selfSamples *= factor;
  const fix = (n: FlameNode): number => (n.totalSamples = n.selfSamples + n.children.reduce((a, c) => a + fix(c), 0));
  fix(tree);
  return tree;
}

describe('compareRuns', () => {
  let shifted: CompareResult;
  before(async () => {
    const base = await runDir('base', syntheticRun({ ...steady, seed: 11 }), serviceFlameTree(2));
    const cand = await runDir('cand', syntheticRun({ ...steady, seed: 12, latencyScale: 1.1 }), slowerStringify(2.5));
    shifted = await compareRuns([base], [cand]);
  });

  it('reports a 10 % p99 shift over 30 per-second samples a side as a regression, with a CI that excludes 0', () => {
    const p99 = metric(shifted, 'p99');
    assert.equal(p99.samples.base, 30);
    assert.equal(p99.samples.candidate, 30);
    assert.equal(p99.verdict, 'regressed');
    assert.ok(p99.change > 0.05 && p99.change < 0.15, `change ${p99.change}`);
    assert.ok(p99.ci !== null && p99.ci.low > 0.02 && p99.ci.high > p99.change, JSON.stringify(p99.ci));
    assert.equal(p99.direction, 'lower-is-better');
    assert.equal(metric(shifted, 'throughput').verdict, 'no change');
    assert.equal(metric(shifted, 'throughput').direction, 'higher-is-better');
  });

  it('lists regressed metrics for --fail-on, and checks the names', () => {
    assert.deepEqual(failOnRegressions(shifted, ['p99', 'throughput']), ['p99']);
    assert.deepEqual(failOnRegressions(shifted, ['throughput', 'errorRate']), []);
    assert.deepEqual(parseFailOn('p99, throughput'), ['p99', 'throughput']);
    assert.throws(() => parseFailOn('p99,p95'), (err: unknown) => {
      assert.ok(isRedlineError(err, ErrorCodes.USAGE));
      assert.equal(err.message, '--fail-on: unknown metric "p95"; expected some of throughput, p50, p90, p99, p99.9, errorRate, cpu, elu, gc, heap');
      return true;
    });
    assert.throws(() => failOnRegressions(shifted, ['latency']), /unknown metric "latency"/);
  });

  it('compares target CPU/ELU/GC/heap when both sides were probed, and finds the function that moved in the profiles', () => {
    for (const m of ['cpu', 'elu', 'gc', 'heap']) assert.ok(shifted.metrics.some((x) => x.metric === m), m);
    assert.ok(shifted.profile !== null);
    const top = shifted.profile.movers[0]!;
    assert.equal(top.name, 'JSON.stringify');
    assert.ok(top.selfDelta > 0.1, String(top.selfDelta));
  });

  it('is plain JSON and renders a terminal table', () => {
    assert.deepEqual(JSON.parse(JSON.stringify(shifted)), shifted);
    const table = renderCompareTable(shifted);
    assert.match(table, /latency p99 +[\d.]+ ms +[\d.]+ ms +\+\d+\.\d % +\[\+\d+\.\d %, \+\d+\.\d %\] +REGRESSED/);
    assert.match(table, /throughput .* no change/);
    assert.match(table, /JSON\.stringify/);
    const colored = renderCompareTable(shifted, { color: true });
    assert.ok(colored.includes('\u001b[1;31mREGRESSED\u001b[0m'));
    // Colour codes do not shift the columns.
    const strip = (s: string): string => s.split(String.fromCharCode(27)).map((part, i) => (i === 0 ? part : part.replace(/^\[[0-9;]*m/, ''))).join('');
    assert.equal(strip(colored), table);
  });

  it('refuses runs of different scenarios or load models unless forced', async () => {
    const a = await runDir('rate-1000', syntheticRun({ ...steady, seed: 21, durationS: 5 }));
    const b = await runDir('rate-500', syntheticRun({ ...steady, seed: 22, durationS: 5, ratePerSec: 500 }));
    const c = await runDir('other-scenario', syntheticRun({ ...steady, seed: 23, durationS: 5, scenarioName: 'checkout' }));
    await assert.rejects(compareRuns([a], [b]), (err: unknown) => {
      assert.ok(isRedlineError(err, ErrorCodes.INCOMPATIBLE_RUNS));
      assert.equal(err.message, `cannot compare: base run ${a} and candidate run ${b} put different load on the target (scenario "browse" rate: 1000 vs 500); pass --force to compare anyway`);
      assert.equal(exitCodeFor(err), 2);
      return true;
    });
    await assert.rejects(compareRuns([a], [c]), (err: unknown) => {
      assert.ok(isRedlineError(err, ErrorCodes.INCOMPATIBLE_RUNS));
      assert.equal(err.message, `cannot compare: base run ${a} and candidate run ${c} put different load on the target (scenario name: "browse" vs "checkout"); pass --force to compare anyway`);
      return true;
    });
    const forced = await compareRuns([a], [c], { force: true, iterations: 200 });
    assert.equal(forced.forced, true);
    assert.match(forced.warnings.join('\n'), /Compared with --force although base run/);
  });

  it('pools repeated runs on each side and counts the runs behind each metric', async () => {
    const b1 = await runDir('rep-b1', syntheticRun({ ...steady, seed: 31, durationS: 10 }));
    const b2 = await runDir('rep-b2', syntheticRun({ ...steady, seed: 32, durationS: 10 }));
    const c1 = await runDir('rep-c1', syntheticRun({ ...steady, seed: 33, durationS: 10 }));
    const cmp = await compareRuns([b1, b2], [c1], { iterations: 500 });
    assert.equal(cmp.base.length, 2);
    assert.deepEqual(metric(cmp, 'p50').samples, { base: 20, candidate: 10, baseRuns: 2, candidateRuns: 1 });
    assert.match(cmp.warnings.join('\n'), /One run on a side: the intervals hold only the noise within a run/);
  });

  it('models run-to-run variance: runs that differ from each other widen the interval instead of making a verdict', async () => {
    // Every run is internally steady, but whole runs sit 6 % apart, as JIT, placement or a
    // neighbour make them. Both sides are drawn from the same spread of runs.
    const scales = { base: [1.0, 1.06, 0.94], cand: [1.05, 0.95, 1.02] };
    const dirs = async (side: 'base' | 'cand'): Promise<string[]> =>
      Promise.all(scales[side].map((latencyScale, i) => runDir(`spread-${side}-${i}`, syntheticRun({ ...steady, ratePerSec: 400, durationS: 20, seed: 300 + i + (side === 'cand' ? 10 : 0), latencyScale }))));
    const base = await dirs('base');
    const cand = await dirs('cand');
    const pooled = await compareRuns(base, cand, { iterations: 1000 });
    const p50 = metric(pooled, 'p50');
    assert.equal(p50.verdict, 'no change', JSON.stringify(p50));
    // The interval is as wide as the spread of whole runs, far wider than one run's own noise.
    const single = metric(await compareRuns([base[0]!], [cand[0]!], { iterations: 1000 }), 'p50');
    assert.ok(p50.ci !== null && single.ci !== null);
    assert.ok(p50.ci.high - p50.ci.low > 2 * (single.ci.high - single.ci.low), `3 runs: ${JSON.stringify(p50.ci)}, 1 run: ${JSON.stringify(single.ci)}`);
    assert.ok(p50.ci.low < -0.02 && p50.ci.high > 0.02, JSON.stringify(p50.ci));
  });

  it('identifies runs by their load shape: a different host:port or run length still compares, a different rate says which field', async () => {
    const named = (port: number, durationS: number, seed: number) => syntheticRun({ ...steady, durationS, seed, scenarioName: `127.0.0.1:${port}` });
    const a = await runDir('port-a', named(41_234, 10, 51));
    const b = await runDir('port-b', named(39_001, 12, 52));
    const cmp = await compareRuns([a], [b], { iterations: 200 });
    assert.equal(cmp.forced, false);
    const ipv6 = await runDir('port-v6', syntheticRun({ ...steady, durationS: 10, seed: 53, scenarioName: '[::1]:8080' }));
    const ipv6b = await runDir('port-v6b', syntheticRun({ ...steady, durationS: 10, seed: 54, scenarioName: '[::1]:9090' }));
    assert.equal((await compareRuns([ipv6], [ipv6b], { iterations: 200 })).forced, false);
    const otherHost = await runDir('host-other', syntheticRun({ ...steady, durationS: 10, seed: 55, scenarioName: '10.0.0.7:41234' }));
    await assert.rejects(compareRuns([a], [otherHost]), /scenario name: "127\.0\.0\.1:41234" vs "10\.0\.0\.7:41234"/);
    const ramp = await runDir('port-ramp', syntheticRun({ ...steady, durationS: 10, seed: 56, scenarioName: '127.0.0.1:1', stages: true }));
    await assert.rejects(compareRuns([a], [ramp]), (err: unknown) => {
      assert.ok(isRedlineError(err, ErrorCodes.INCOMPATIBLE_RUNS));
      assert.match(err.message, /scenario "127\.0\.0\.1:41234" executor: constant-arrival-rate vs ramping-arrival-rate; scenario "127\.0\.0\.1:41234" rate: 1000 vs \(unset\)/);
      return true;
    });
  });

  it('a --fail-on gate that cannot decide a metric fails and says why, never passes', async () => {
    const base = await runDir('gate-base', syntheticRun({ ...steady, durationS: 10, seed: 61 }));
    const noHist = syntheticRun({ ...steady, durationS: 10, seed: 62 });
    noHist.histograms.intervals = [];
    const cand = await runDir('gate-nohist', noHist);
    const cmp = await compareRuns([base], [cand], { iterations: 200 });
    assert.ok(!cmp.metrics.some((m) => m.metric === 'p99'));
    assert.deepEqual(evaluateGate(cmp, ['p99', 'throughput']), { regressed: [], undecided: [{ metric: 'p99', reason: 'the candidate side has no per-second latency histograms' }] });
    assert.match(cmp.warnings.join('\n'), /Not compared: latency p99 \(p99\), because the candidate side has no per-second latency histograms/);
    // One second of load on a side: no interval, so no verdict to gate on.
    const short = await runDir('gate-short', syntheticRun({ ...steady, durationS: 1, seed: 63 }));
    const one = await compareRuns([base], [short], { iterations: 200, force: true });
    const gate = evaluateGate(one, ['p99']);
    assert.deepEqual(gate.regressed, []);
    assert.equal(gate.undecided[0]?.metric, 'p99');
    assert.match(gate.undecided[0]!.reason, /the candidate side has only one second with load/);
    // Target metrics without a probe on a side.
    const unprobed = await runDir('gate-unprobed', syntheticRun({ ...steady, durationS: 10, seed: 64, withTarget: false }));
    const probed = await runDir('gate-probed', syntheticRun({ ...steady, durationS: 10, seed: 65, withTarget: true }));
    assert.deepEqual(evaluateGate(await compareRuns([probed], [unprobed], { iterations: 200 }), ['cpu']).undecided, [{ metric: 'cpu', reason: 'the candidate side was not probed' }]);
  });

  it('refuses a bad run directory with REDLINE_ERR_BAD_RUN_DIR and exit code 2', async () => {
    const good = await runDir('good', syntheticRun({ ...steady, seed: 41, durationS: 3 }));
    const notRun = await runDir('kind-wrong', syntheticRun({ ...steady, seed: 42, durationS: 3 }));
    await writeJsonAtomic(join(notRun, 'result.json'), { schemaVersion: 1, kind: 'capacity' });
    const emptyDir = join(good, '..', 'empty');
    mkdirSync(emptyDir);
    const wrongVersion = await runDir('v2', syntheticRun({ ...steady, seed: 43, durationS: 3 }));
    await writeJsonAtomic(join(wrongVersion, 'result.json'), { ...JSON.parse(readFileSync(join(good, 'result.json'), 'utf8')), schemaVersion: 2 });
    const cases: [string, string][] = [
      [join(good, '..', 'missing'), `run directory ${join(good, '..', 'missing')} does not exist`],
      [emptyDir, `${emptyDir} is not a run directory: no result.json in it`],
      [notRun, `${join(notRun, 'result.json')} is not a Redline run result`],
      [wrongVersion, `${join(wrongVersion, 'result.json')} has schemaVersion 2; this Redline reads version 1`],
    ];
    for (const [dir, message] of cases) {
      for (const [b, c] of [[good, dir], [dir, good]] as const) {
        await assert.rejects(compareRuns([b], [c]), (err: unknown) => {
          assert.ok(isRedlineError(err, ErrorCodes.BAD_RUN_DIR), String(err));
          assert.equal(err.message, message);
          assert.equal(exitCodeFor(err), 2);
          return true;
        });
      }
    }
  });

  it('validates its options', async () => {
    const cases: [Parameters<typeof compareRuns>, string][] = [
      [[[], ['x']], 'compare needs at least one base run directory'],
      [[['x'], []], 'compare needs at least one candidate run directory'],
      [[['x'], ['y'], { noiseThreshold: 2 }], 'noiseThreshold must be a fraction in [0, 1) (0.02 = 2 %), got 2'],
      [[['x'], ['y'], { iterations: 5 }], 'iterations must be an integer from 100 to 100000, got 5'],
      [[['x'], ['y'], { seed: 1.5 }], 'seed must be an integer, got 1.5'],
    ];
    for (const [args, message] of cases) {
      await assert.rejects(compareRuns(...args), (err: unknown) => {
        assert.ok(isRedlineError(err, ErrorCodes.INVALID_ARGUMENT));
        assert.equal(err.message, message);
        return true;
      });
    }
    assert.equal(parseNoiseThreshold('2%'), 0.02);
    assert.equal(parseNoiseThreshold('0.05'), 0.05);
    assert.throws(() => parseNoiseThreshold('two'), (err: unknown) => isRedlineError(err, ErrorCodes.USAGE) && err.message === '--noise expects a percentage such as 2% or a fraction such as 0.02, got "two"');
    assert.throws(() => parseNoiseThreshold('150%'), /--noise expects/);
  });
});

describe('compare.html', () => {
  let browser: Browser;
  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser.close();
  });

  it('opens without console errors, draws every chart and CI, and its differential flame graph searches and zooms', async () => {
    const base = await runDir('html-base', syntheticRun({ ...steady, seed: 51, durationS: 20 }), serviceFlameTree(2));
    const cand = await runDir('html-cand', syntheticRun({ ...steady, seed: 52, durationS: 20, latencyScale: 1.15 }), slowerStringify(3));
    const cmp = await compareRuns([base], [cand]);
    const out = await writeCompareHtml(cmp, join(base, '..', 'compare.html'));
    const html = readFileSync(out, 'utf8');
    assert.equal((html.match(/<svg class="ci-svg"/g) ?? []).length, cmp.metrics.length, `CI bars for ${cmp.metrics.map((m) => m.metric).join(', ')}`);
    assert.match(html, /Top movers by function/);
    const { page, problems } = await openFile(browser, out);
    const charts = await chartPixels(page);
    assert.deepEqual(charts.map((c) => c.name).sort(), ['p99', 'spectrum', 'throughput'], JSON.stringify(charts));
    for (const c of charts) assert.ok(c.painted > 500, `chart ${c.name} painted only ${c.painted} pixels`);
    const before = await flameImage(page);
    await page.locator('.flame-search').fill('stringify');
    await waitForMatches(page, 'n > 0');
    assert.match((await page.locator('.flame-matches').textContent()) ?? '', /1 frame · base \d+\.\d+ % → candidate \d+\.\d+ %/);
    assert.notEqual(await flameImage(page), before, 'the search highlights the matching frame');
    await page.locator('.flame-search').fill('');
    await page.evaluate(`document.querySelector('.flame-canvas').scrollIntoView({ block: 'center', behavior: 'instant' })`);
    const box = (await page.locator('.flame-canvas').boundingBox())!;
    await page.mouse.click(box.x + 20, box.y + 2 * 18 + 9);
    assert.equal(await page.locator('[data-flame]').getAttribute('data-zoom'), 'handleRequest', `clicked at ${JSON.stringify(box)}; problems: ${problems.join('; ')}`);
    assert.deepEqual(problems, []);
    await page.close();
  });
});

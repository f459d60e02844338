import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderReportHtml } from '../src/index.ts';
import { scenarioSettings } from '../src/report-settings.ts';
import { syntheticRun } from './helpers/synthetic-run.ts';

const text = (html: string): string => html.replace(/<[^>]+>/g, ' ').replace(/&#39;/g, "'").replace(/\s+/g, ' ');

test('the report shows the run settings near the top: executor, rate, maxVUs, duration, workers, command line', () => {
  const run = syntheticRun({ durationS: 30, ratePerSec: 250 });
  run.config.commandLine = ['run', '--url', 'http://127.0.0.1:8080/api', '--rate', '250', '--duration', '30s', '--header', 'Authorization: <redacted>'];
  const html = renderReportHtml(run);
  const settings = html.indexOf('id="settings"');
  assert.ok(settings > 0 && settings < html.indexOf('id="verdict"'), 'settings come before the verdict');
  const t = text(html.slice(settings, html.indexOf('id="verdict"')));
  assert.match(t, /executor constant-arrival-rate \(fast path\)/);
  assert.match(t, /rate 250\/s/);
  assert.match(t, /maxVUs 400/);
  assert.match(t, /duration 30s/);
  assert.match(t, /workers 2/);
  assert.match(t, /command redline run --url http:\/\/127\.0\.0\.1:8080\/api --rate 250 --duration 30s --header 'Authorization: &lt;redacted&gt;'/);
});

test('ramping and closed-model scenarios list their stages and VUs', () => {
  const ramp = syntheticRun({ durationS: 20, stages: true }).config.scenarios[0]!;
  const pairs = Object.fromEntries(scenarioSettings(ramp));
  assert.equal(pairs.executor, 'ramping-arrival-rate (fast path)');
  assert.match(pairs.stages!, /→/);
  assert.equal(pairs.maxVUs, '400');
  const closed = { ...ramp, executor: 'constant-vus' as const, mode: 'script' as const, options: { vus: 12, durationMs: 60_000 } };
  assert.deepEqual(scenarioSettings(closed), [['executor', 'constant-vus (script)'], ['VUs', '12'], ['duration', '1m']]);
});

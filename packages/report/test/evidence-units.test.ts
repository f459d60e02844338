// The report shows evidence and threshold values with their units: a ratio is a percentage (never
// "1 ratio"), evidence says whether it met its threshold, and a threshold's actual latency reads
// "2.95 s", not "2,949.119".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderReportHtml } from '../src/index.ts';
import { syntheticRun } from './helpers/synthetic-run.ts';

test('evidence and thresholds in the report carry units and a met/not-met verdict', () => {
  const run = syntheticRun({ durationS: 10, seed: 3 });
  run.findings = [
    {
      category: 'cpu-saturated',
      severity: 'high',
      title: 'CPU saturated',
      confidence: 0.8,
      window: { startS: 0, endS: 10 },
      evidence: [
        { metric: 'target.elu', value: 1, threshold: 0.95, comparison: '>=', unit: 'ratio' },
        { metric: 'target.cpu', value: 0.69, threshold: 0.9, comparison: '>=', unit: 'cores' },
      ],
      frames: [],
      recommendation: 'Do less work per request.',
    },
  ] as typeof run.findings;
  run.thresholds = [{ metric: 'http.latency', expression: 'p(99)<200', ok: false, actual: 2949.119, abortOnFail: false }];
  const html = renderReportHtml(run);
  assert.match(html, /<code>target\.elu<\/code><\/td><td class="num">100\.0 %<\/td><td class="num">≥ 95\.0 %<\/td><td class="pass">✓ met<\/td>/);
  assert.match(html, /<code>target\.cpu<\/code><\/td><td class="num">0\.69 cores<\/td><td class="num">≥ 0\.9 cores<\/td><td class="fail">✗ not met<\/td>/);
  assert.doesNotMatch(html, /\d ratio\b/);
  assert.match(html, /<td class="num">2\.95 s<\/td>/);
  assert.doesNotMatch(html, /2,949\.119/);
});

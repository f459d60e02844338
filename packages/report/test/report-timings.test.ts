import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LatencyHistogram } from '@redline/core';
import { renderReportHtml } from '../src/index.ts';
import { syntheticRun } from './helpers/synthetic-run.ts';

function summaryOf(valuesMs: number[]): ReturnType<LatencyHistogram['summary']> {
  const h = new LatencyHistogram();
  for (const v of valuesMs) h.recordMs(v);
  return h.summary();
}

describe('run report: timing breakdown', () => {
  it('shows the request phases and HTTP/2 counters when the run has them', () => {
    const run = syntheticRun({ durationS: 5 });
    run.summary.timings = { dns: summaryOf([0, 0, 2]), connect: summaryOf([0, 0, 1]), tls: summaryOf([0, 0, 7]), waiting: summaryOf([40, 41, 45]), receiving: summaryOf([3, 3, 30]) };
    run.summary.http2 = { connections: 2, goaways: 1, streamLimitWaits: 17, refusedStreams: 3 };
    const html = renderReportHtml(run);
    assert.match(html, /<h3 id="timings">Where the time went<\/h3>/);
    for (const label of ['DNS', 'TCP connect', 'TLS handshake', 'waiting \\(TTFB\\)', 'receiving']) assert.match(html, new RegExp(`<tr><td>${label}</td>`));
    assert.match(html, /HTTP\/2: 2 connections, 1 GOAWAY, 17 requests waited for a free stream, 3 refused streams retried/);
  });

  it('leaves the section out for runs without timings', () => {
    const run = syntheticRun({ durationS: 5 });
    delete run.summary.timings;
    assert.doesNotMatch(renderReportHtml(run), /Where the time went/);
  });
});

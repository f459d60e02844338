// The baseline band (p25–p75 of the sampled requests) follows a fast service that warmed up: CI's
// quiet machine ran a healthy pg service fast, so its sampling budget flagged only ~16 requests a second,
// and a band refreshed every 128 sampled requests kept the cold first 20's band the whole 8 s run
// (17 traces kept; the trace findings test wants 20). No clock and no server: the stamper is fed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TraceStamper, type TraceRecord } from '@redline/load';

type Ex = Parameters<TraceStamper['complete']>[2];

test('a warmed-up service at 16 sampled requests a second keeps its baseline from the second second on', () => {
  // Ratio 1: every request sampled, no random choice of which (16 a second, as a budget gave on CI).
  const s = new TraceStamper({ runTag: 'abcdef02', sampleRatio: 1, tailPerSecond: 20, baselinePerSecond: 10 }, 0);
  const perSecond: number[] = [];
  let n = 0;
  for (let second = 0; second < 8; second++) {
    for (let i = 0; i < 16; i++) {
      const { seq } = s.header();
      // The first 20 are cold (30 ms); then the service answers in 2.0–2.4 ms.
      const latency = n++ < 20 ? 30 : 2 + (i % 5) / 10;
      s.complete('GET /x', seq, { error: null, status: 200, endedAt: 1000 + latency } as unknown as Ex, 1000, 0);
    }
    const kept: TraceRecord[] = s.drain();
    perSecond.push(kept.filter((r) => r.reason === 'baseline' && r.latencyMs < 30).length);
  }
  // From the third second on the band is the warm requests' own: about 10 a second are kept (the cap).
  const warm = perSecond.slice(2).reduce((a, b) => a + b, 0);
  assert.ok(warm >= 40, `warm baseline traces kept per second: ${perSecond.join(', ')}`);
});

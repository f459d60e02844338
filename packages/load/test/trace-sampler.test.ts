import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BudgetSampler, createTraceSampler, parseTraceSample } from '@redline/load';

/** Feeds a sampler `rate` requests per second, evenly, for `seconds` from epoch second `from`; returns the sampled times per second. */
function feed(s: { sampled(now: number): boolean }, rate: number, seconds: number, from = 1_700_000_000): number[][] {
  const out: number[][] = [];
  for (let sec = 0; sec < seconds; sec++) {
    const hits: number[] = [];
    for (let k = 0; k < rate; k++) {
      const now = (from + sec) * 1000 + (k * 1000) / rate;
      if (s.sampled(now)) hits.push(now);
    }
    out.push(hits);
  }
  return out;
}

describe('trace sampling budget', () => {
  it('parses a ratio or a rate per second, and nothing else', () => {
    assert.deepEqual(parseTraceSample('50/s'), { perSecond: 50 });
    assert.deepEqual(parseTraceSample(' 2.5 / s '), { perSecond: 2.5 });
    assert.deepEqual(parseTraceSample('0.2'), { ratio: 0.2 });
    assert.deepEqual(parseTraceSample('1'), { ratio: 1 });
    assert.deepEqual(parseTraceSample('.5'), { ratio: 0.5 });
    for (const bad of ['0', '1.5', '-0.1', 'abc', '0/s', '-5/s', '50/m', '50', '', 'Infinity', '1e-3']) assert.equal(parseTraceSample(bad), null, bad);
  });

  it('at 2,000 req/s a 50/s budget samples about 50 per second, all in one short burst', () => {
    const seconds = feed(new BudgetSampler(50, 'abcdef01'), 2000, 10);
    // The first second has no rate yet: its first 50 requests.
    assert.equal(seconds[0]!.length, 50);
    for (const [i, hits] of seconds.slice(1).entries()) {
      assert.ok(hits.length >= 45 && hits.length <= 55, `second ${i + 1}: ${hits.length} sampled`);
      // One contiguous window of about 50/2000 of the second (25 ms).
      const span = hits[hits.length - 1]! - hits[0]!;
      assert.ok(span <= 26, `second ${i + 1}: burst spans ${span} ms`);
    }
    // The burst moves around the second (not always at its start).
    const phases = new Set(seconds.slice(1).map((h) => Math.floor((h[0]! % 1000) / 100)));
    assert.ok(phases.size >= 3, `burst phases ${[...phases].join(',')}`);
  });

  it('below the budget every request is sampled; a rate that jumps still gets the budget, no more', () => {
    const low = feed(new BudgetSampler(50, 'abcdef01'), 30, 5);
    assert.deepEqual(
      low.map((h) => h.length),
      [30, 30, 30, 30, 30],
    );
    const s = new BudgetSampler(50, 'abcdef01');
    feed(s, 20, 3);
    // From 20 to 5,000 req/s: the window was sized for 20/s (the whole second).
    const jump = feed(s, 5000, 3, 1_700_000_003);
    assert.equal(jump[0]!.length, 50);
    assert.ok(jump[1]!.length >= 45 && jump[1]!.length <= 55, String(jump[1]!.length));
  });

  it('a closed model whose traced requests are slower still spends the whole budget in one burst', () => {
    // 2 VUs, 0.5 ms per untraced request and 3 ms per traced one: inside the burst the rate drops
    // to a sixth of the one the burst's phase was chosen from.
    const s = new BudgetSampler(50, 'abcdef01');
    const from = 1_700_000_000_000;
    const perSecond = new Map<number, number[]>();
    const vus = [from, from + 0.25];
    while (vus[0]! < from + 8000) {
      vus.sort((a, b) => a - b);
      const now = vus[0]!;
      const sampled = s.sampled(now);
      const sec = Math.floor(now / 1000);
      if (!perSecond.has(sec)) perSecond.set(sec, []);
      if (sampled) perSecond.get(sec)!.push(now);
      vus[0] = now + (sampled ? 3 : 0.5);
    }
    const counts = [...perSecond.values()].slice(1, -1).map((h) => h.length);
    for (const n of counts) assert.ok(n >= 48 && n <= 50, `sampled per second: ${counts.join(', ')}`);
    for (const h of [...perSecond.values()].slice(1, -1)) assert.ok(h[h.length - 1]! - h[0]! < 80, `one burst: ${h[0]} … ${h[h.length - 1]}`);
  });

  it('workers split the budget and burst at the same moment', () => {
    const a = createTraceSampler({ perSecond: 60 }, 'abcdef01', 2);
    const b = createTraceSampler({ perSecond: 60 }, 'abcdef01', 2);
    const ha = feed(a, 1000, 4);
    const hb = feed(b, 1000, 4);
    for (let i = 1; i < 4; i++) {
      assert.ok(ha[i]!.length >= 27 && ha[i]!.length <= 33, String(ha[i]!.length));
      assert.ok(Math.abs(ha[i]![0]! - hb[i]![0]!) <= 1, `second ${i}: worker bursts start ${ha[i]![0]} and ${hb[i]![0]}`);
    }
    assert.throws(() => new BudgetSampler(0, 'abcdef01'), /positive number of requests per second, got 0/);
  });
});

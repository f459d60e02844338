import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Aimd, Gradient2, Vegas, createLimiter, log10Step, type LatencyWindow, type Permit } from '@redline/flow';

const bounds = { min: 1, max: 1000, initial: 20 };

function win(rttMs: number, maxInFlight: number, extra: Partial<LatencyWindow> = {}): LatencyWindow {
  return { rttMs, minRttMs: rttMs, maxInFlight, dropped: false, samples: 10, ...extra };
}

function close(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: expected ${expected}, got ${actual}`);
}

class FakeClock {
  t = 1000;
  now(): number {
    return this.t;
  }
}

describe('Gradient2', () => {
  it('grows by smoothing × queueSize per window while latency stays at its long-term level', () => {
    const g = new Gradient2(bounds);
    let expected = 20;
    for (let i = 0; i < 5; i++) {
      g.update(win(10, 100));
      expected = expected * 0.8 + (expected * 1 + 4) * 0.2;
      close(g.limit, expected, `window ${i}`);
    }
    close(g.limit, 24, 'after five windows');
  });

  it('shrinks by the gradient longRtt/shortRtt when latency doubles, floored at 0.5', () => {
    const g = new Gradient2(bounds, { warmupWindows: 2, longWindow: 9 });
    g.update(win(10, 100));
    g.update(win(10, 100));
    const before = g.limit; // 20.8 → 21.44
    close(before, (20 * 0.8 + 24 * 0.2) * 0.8 + ((20 * 0.8 + 24 * 0.2) + 4) * 0.2, 'warm-up');
    // Third window: EMA starts, f = 2/(9+1) = 0.2; longRtt = 10·0.8 + 20·0.2 = 12; gradient = 12/20 = 0.6
    g.update(win(20, 100));
    const next = before * 0.6 + 4;
    close(g.limit, before * 0.8 + next * 0.2, 'after the latency jump');
    close(g.gauges().longRttMs!, 12, 'longRtt');
    // A window ten times slower is floored at gradient 0.5; longRtt/shortRtt < 2 here so no decay.
    const l = g.limit;
    g.update(win(200, 100));
    const longRtt = 12 * 0.8 + 200 * 0.2;
    close(g.gauges().longRttMs!, longRtt, 'longRtt after the outlier');
    close(g.limit, l * 0.8 + (l * 0.5 + 4) * 0.2, 'gradient floor 0.5');
  });

  it('keeps the limit when the application uses less than half of it', () => {
    const g = new Gradient2(bounds);
    g.update(win(10, 9));
    g.update(win(50, 9));
    assert.equal(g.limit, 20);
  });

  it('decays longRtt by 10 % when it is more than twice the current latency (recovery after overload)', () => {
    const g = new Gradient2(bounds, { warmupWindows: 1, longWindow: 1 });
    g.update(win(100, 0)); // longRtt = 100
    // longWindow 1 → f = 1: longRtt follows shortRtt fully, so set f small instead
    const h = new Gradient2(bounds, { warmupWindows: 1, longWindow: 199 }); // f = 0.01
    h.update(win(100, 0));
    h.update(win(10, 0)); // longRtt = 100·0.99 + 10·0.01 = 99.1 → /10 > 2 → 89.19
    close(h.gauges().longRttMs!, 99.1 * 0.9, 'decayed longRtt');
    assert.equal(g.gauges().longRttMs, 100);
  });

  it('clamps to max', () => {
    const g = new Gradient2({ min: 1, max: 22, initial: 20 });
    for (let i = 0; i < 10; i++) g.update(win(10, 100));
    assert.equal(g.limit, 22);
  });
});

describe('Vegas', () => {
  it('takes the first window as the no-load RTT, then grows by beta·log10 while nothing queues', () => {
    const v = new Vegas(bounds, { random: () => 0.999 });
    v.update(win(10, 20));
    assert.equal(v.limit, 20, 'first window only measures rttNoLoad');
    v.update(win(10, 20)); // queue = ceil(20·(1 − 10/10)) = 0 ≤ 1 → +6·1
    assert.equal(v.limit, 26);
    assert.equal(log10Step(26), 1);
  });

  it('grows by log10 when the queue is small, holds between alpha and beta, shrinks above beta', () => {
    const v = new Vegas({ min: 1, max: 1000, initial: 100 }, { random: () => 0.999 });
    v.update(win(10, 100)); // rttNoLoad = 10
    // s = log10Step(100) = 2; alpha·s = 6, beta·s = 12
    v.update(win(10 / (1 - 0.04), 100, { minRttMs: 10 })); // queue = ceil(100·0.04)=4 (>2, <6) → +2
    assert.equal(v.limit, 102);
    v.update(win(10 / (1 - 0.08), 100, { minRttMs: 10 })); // queue = ceil(102·0.08)=9 → hold
    assert.equal(v.limit, 102);
    v.update(win(20, 100, { minRttMs: 10 })); // queue = ceil(102·0.5) = 51 > 12 → −2
    assert.equal(v.limit, 100);
    v.update(win(10, 100, { dropped: true })); // drop → −2
    assert.equal(v.limit, 98);
  });

  it('re-probes the no-load RTT every probeMultiplier·limit·jitter windows', () => {
    const v = new Vegas({ min: 1, max: 1000, initial: 2 }, { probeMultiplier: 2, random: () => 0 }); // jitter 0.5 → every 2 windows
    v.update(win(10, 2)); // count 1: rttNoLoad 10
    v.update(win(30, 2)); // count 2 ≥ 0.5·2·2 = 2 → probe: rttNoLoad = 30
    assert.equal(v.gauges().rttNoLoadMs, 30);
  });
});

describe('AIMD', () => {
  it('adds 1 per busy window and backs off to floor(limit·0.9) on a drop or a window over timeoutMs', () => {
    const a = new Aimd(bounds, { timeoutMs: 100 });
    const trajectory: number[] = [];
    for (const w of [win(10, 20), win(10, 21), win(10, 5), win(150, 22), win(10, 19, { dropped: true })]) trajectory.push(a.update(w));
    assert.deepEqual(trajectory, [21, 22, 22, 19, 17]);
  });
});

describe('limiter windows', () => {
  it('feeds the algorithm one window per windowMinMs with the mean latency and the max in flight', async () => {
    const clock = new FakeClock();
    const limiter = createLimiter({ algorithm: 'aimd', initial: 4, min: 1, max: 10, clock, windowMinMs: 100, windowMinSamples: 4, statsIntervalMs: 0, aimd: { timeoutMs: 50 } });
    const seen: { limit: number; window: LatencyWindow }[] = [];
    limiter.onLimit = (limit, window) => seen.push({ limit, window });
    // Round 1: 4 calls of 20 ms each, all in flight together; clock passes the window length.
    async function round(latencyMs: number, n: number): Promise<void> {
      const permits: Permit[] = [];
      for (let i = 0; i < n; i++) permits.push(await limiter.acquire());
      clock.t += latencyMs;
      for (const p of permits) p.release();
      clock.t += 100 - latencyMs;
    }
    await round(20, 4);
    assert.equal(seen.length, 0, 'window closes only once it is long enough');
    await round(20, 4);
    assert.equal(seen.length, 1);
    assert.deepEqual(seen[0]!.window, { rttMs: 20, minRttMs: 20, maxInFlight: 4, dropped: false, samples: 5 });
    assert.equal(limiter.limit, 5);
    // This window holds the 3 late samples of round 2 (20 ms) and the first of round 3 (80 ms).
    await round(80, 5);
    assert.deepEqual(seen[1]!.window, { rttMs: 35, minRttMs: 20, maxInFlight: 5, dropped: false, samples: 4 });
    assert.equal(seen[1]!.limit, 6);
    await round(80, 6);
    assert.equal(seen[2]!.window.rttMs, 80);
    assert.equal(seen[2]!.limit, 5, 'mean latency over timeoutMs backs off: min(6 − 1, floor(6 · 0.9)) = 5');
    limiter.close();
  });

  it('Gradient2 through the limiter: steady latency raises the limit, a latency step lowers it', async () => {
    const clock = new FakeClock();
    const limiter = createLimiter({ algorithm: 'gradient2', initial: 10, max: 100, clock, windowMinMs: 10, windowMaxMs: 10, windowMinSamples: 1, statsIntervalMs: 0, gradient2: { warmupWindows: 1, longWindow: 9 } });
    const limits: number[] = [];
    limiter.onLimit = (l) => limits.push(l);
    async function window(latencyMs: number): Promise<void> {
      const permits: Permit[] = [];
      for (let i = 0; i < limiter.limit; i++) permits.push(await limiter.acquire());
      clock.t += latencyMs;
      for (const p of permits) p.release();
    }
    // Each window's first completion closes it (windowMinSamples 1), so windows see one sample.
    await window(10);
    await window(10);
    await window(10);
    const g = new Gradient2({ min: 1, max: 100, initial: 10 }, { warmupWindows: 1, longWindow: 9 });
    const expected = [10, 10, 10].map((rtt) => Math.floor(g.update(win(rtt, 100))));
    assert.deepEqual(limits.slice(0, 3), expected);
    await window(40);
    await window(40);
    await window(40);
    assert.ok(limits.at(-1)! < limits[2]!, `limit fell after the latency step: ${limits.join(' → ')}`);
    limiter.close();
  });
});

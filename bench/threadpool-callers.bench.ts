/**
 * Cost of the probe's thread-pool caller sampler while it works: the sampler switches an async_hooks
 * init hook on for one probe window a second whenever the thread pool queues, and that hook runs for
 * every async resource and promise of the process. Worst case measured here: a main thread doing
 * promise-heavy work (awaits in a loop) while async PBKDF2 keeps the thread pool queued, with the
 * sampler ticked every 100 ms as the probe does ("on", capturing 1 window in 10) against no sampler
 * ("off"), alternating rounds in one process. Reported: awaits per second, on/off, median and spread.
 * A service whose thread pool keeps up never enables the hook, so pays nothing.
 * Usage: flock /work/wt/bench.lock node --import tsx bench/threadpool-callers.bench.ts [--rounds N] [--seconds S]
 */
import { pbkdf2 } from 'node:crypto';
import { createThreadpoolCallerSampler } from '../packages/probe/src/threadpool-callers.cts';

const args = process.argv.slice(2);
const flag = (name: string, dflt: number): number => {
  const i = args.indexOf(name);
  const v = i >= 0 ? Number(args[i + 1]) : dflt;
  if (!Number.isFinite(v) || v <= 0) throw new RangeError(`${name} must be a positive number`);
  return v;
};
const ROUNDS = flag('--rounds', 5);
const SECONDS = flag('--seconds', 3);

/** Keeps `n` PBKDF2 jobs in flight (more than the 4 pool threads: the pool queues) until `stop()`. */
function saturate(n: number): { stop(): Promise<void>; jobs(): number } {
  let running = true;
  let done = 0;
  const loops = Array.from({ length: n }, async () => {
    while (running) {
      await new Promise<void>((resolve, reject) => pbkdf2('secret', 'salt', 2000, 32, 'sha256', (err) => (err ? reject(err) : resolve())));
      done += 1;
    }
  });
  return {
    jobs: () => done,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

async function step(i: number): Promise<number> {
  await null;
  return i + 1;
}

/** Awaits per second on the main thread for `seconds`, yielding to the event loop every 2 000 awaits. */
async function awaitsPerSecond(seconds: number): Promise<number> {
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  let n = 0;
  while (performance.now() < end) {
    for (let i = 0; i < 2000; i++) n = await step(n);
    await new Promise((r) => setImmediate(r));
  }
  return n / ((performance.now() - t0) / 1000);
}

async function round(withSampler: boolean): Promise<{ rate: number; windows: number; stacks: number; jobs: number }> {
  const pool = saturate(16);
  const sampler = withSampler ? createThreadpoolCallerSampler() : null;
  let windows = 0;
  let stacks = 0;
  const timer = setInterval(() => {
    const m = sampler?.tick(true, performance.timeOrigin + performance.now());
    if (m) {
      windows += 1;
      stacks += m.callers.reduce((s, c) => s + c.count, 0);
    }
  }, 100);
  try {
    const rate = await awaitsPerSecond(SECONDS);
    return { rate, windows, stacks, jobs: pool.jobs() };
  } finally {
    clearInterval(timer);
    sampler?.stop();
    await pool.stop();
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

await round(false); // warm-up
const ratios: number[] = [];
const rows: string[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const off = await round(false);
  const on = await round(true);
  if (on.windows === 0 || on.stacks === 0) throw new Error(`round ${r + 1}: the sampler captured nothing (windows ${on.windows}, stacks ${on.stacks}): nothing was measured`);
  ratios.push(on.rate / off.rate);
  rows.push(`round ${r + 1}: off ${Math.round(off.rate)} awaits/s (${off.jobs} PBKDF2), on ${Math.round(on.rate)} awaits/s (${on.jobs} PBKDF2, ${on.windows} capture windows, ${on.stacks} stacks), on/off ${(on.rate / off.rate).toFixed(4)}`);
}
console.log(rows.join('\n'));
console.log(`on/off median ${median(ratios).toFixed(4)}, min ${Math.min(...ratios).toFixed(4)}, max ${Math.max(...ratios).toFixed(4)} (${ROUNDS} rounds of ${SECONDS} s)`);

// Timing: constant-arrival-rate 1,000 rps for 10 s against nginx (a fast target). Target: the
// achieved rate is within ±1 % of 1,000/s (whole run and every steady second) and the schedule-lag
// p99 is ≤ 2 ms, read from the RunResult (summary, timeseries, generator.scheduleLagMs).
// Usage: node --import tsx bench/load-timing.bench.ts   (LOAD_BENCH_ROUNDS=1)
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startNginx } from './nginx/start-nginx.js';
import { envInt, runGen, verdict } from './fixtures/load-harness.js';

const RATE = 1000;
const DURATION_S = 10;
const rounds = envInt('LOAD_BENCH_ROUNDS', 1);

async function main(): Promise<void> {
  const nginx = await startNginx(1);
  try {
    console.log(`load-timing: constant-arrival-rate ${RATE}/s for ${DURATION_S} s against ${nginx.url}, generator on core 0`);
    // The machine's own timer noise on the generator core, for reading the lag figures.
    const ref = JSON.parse(
      execFileSync('taskset', ['-c', '0', process.execPath, fileURLToPath(new URL('./fixtures/timer-lateness.mjs', import.meta.url)), '5000']).toString(),
    ) as { samples: number; p50Ms: number; p99Ms: number; maxMs: number };
    console.log(`reference: a bare 1 ms setTimeout loop on core 0 fires late by p50 ${ref.p50Ms.toFixed(3)} ms, p99 ${ref.p99Ms.toFixed(3)} ms, max ${ref.maxMs.toFixed(1)} ms`);
    let allOk = true;
    for (let round = 1; round <= rounds; round++) {
      const r = await runGen('redline-rate', { url: nginx.url, rate: RATE, durationS: DURATION_S, workers: 1 }, { core: 0 });
      const x = r.extra!;
      const expected = RATE * DURATION_S;
      const totalDev = (x.iterations + x.iterationsDropped - expected) / expected;
      const perSecond = x.perSecond;
      const worstSec = perSecond.length ? Math.max(...perSecond.map((n) => Math.abs(n - RATE) / RATE)) : 0;
      const lag = x.scheduleLagMs;
      console.log(`round ${round}: iterations ${x.iterations} (+${x.iterationsDropped} dropped) of ${expected} intended → ${(totalDev * 100).toFixed(2)} %`);
      console.log(`  steady seconds: ${perSecond.join(' ')} → worst ${(worstSec * 100).toFixed(2)} %`);
      console.log(`  schedule-lag p99 per second (ms): ${x.perSecondLagP99.map((v) => v.toFixed(1)).join(' ')}`);
      console.log(`  schedule lag p50 ${lag.p50} ms, p99 ${lag.p99} ms, max ${lag.max} ms; latency p99 ${x.latencyMs?.p99} ms; errors ${r.errors}; generatorLimited ${x.generatorLimited}`);
      const ok = Math.abs(totalDev) <= 0.01 && worstSec <= 0.01 && lag.p99 <= 2 && x.iterationsDropped === 0;
      allOk &&= ok;
      verdict('rate within ±1 % and schedule-lag p99 ≤ 2 ms', ok, `total ${(totalDev * 100).toFixed(2)} %, worst second ${(worstSec * 100).toFixed(2)} %, lag p99 ${lag.p99} ms`);
    }
    if (rounds > 1) verdict('all rounds', allOk, allOk ? 'every round passed' : 'at least one round failed');
  } finally {
    await nginx.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

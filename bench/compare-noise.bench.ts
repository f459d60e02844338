// compare on real run-to-run noise. Each repetition makes RUNS real runs a side with the real load
// engine against work servers in their own processes (port 0): the base server, a second server
// identical to it (A/A: two builds that differ in nothing), and one whose requests take 15 % longer
// (A/B; a timer delay by default — COMPARE_NOISE_WORK_US=1 makes it synchronous CPU work instead). Targets: A/A "regressed" in ≤ 1 of 20 repetitions; A/B "regressed" in ≥ 90 %.
// Usage: node --import tsx bench/compare-noise.bench.ts
//   COMPARE_NOISE_REPS=20 COMPARE_NOISE_RUNS=3 COMPARE_NOISE_DURATION_S=2 COMPARE_NOISE_RATE=50
//   COMPARE_NOISE_MS=20 (per-request time of the base server) COMPARE_NOISE_WORK_US=0|1 (timer or busy work)
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { noiseTrial, regressedMetrics, startWorkServer } from '../packages/report/test/helpers/noise-runs.ts';

const env = (name: string, fallback: number): number => (process.env[name] !== undefined ? Number(process.env[name]) : fallback);
const REPS = env('COMPARE_NOISE_REPS', 20);
const RUNS = env('COMPARE_NOISE_RUNS', 3);
const DURATION_S = env('COMPARE_NOISE_DURATION_S', 2);
const RATE = env('COMPARE_NOISE_RATE', 50);
const BASE_MS = env('COMPARE_NOISE_MS', 20);
const BUSY = env('COMPARE_NOISE_WORK_US', 0) > 0;
const SLOWDOWN = 1.15;

async function main(): Promise<void> {
  const spec = (ms: number) => (BUSY ? { workUs: ms * 1000 } : { delayMs: ms });
  const base = await startWorkServer(spec(BASE_MS));
  const same = await startWorkServer(spec(BASE_MS));
  const slow = await startWorkServer(spec(BASE_MS * SLOWDOWN));
  console.log(`compare-noise: ${REPS} repetitions × ${RUNS} runs a side, ${RATE}/s for ${DURATION_S} s each, ${BUSY ? 'busy work' : 'timer delay'} ${BASE_MS} ms vs ${(BASE_MS * SLOWDOWN).toFixed(1)} ms per request; load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  let aaRegressed = 0;
  let abRegressed = 0;
  const aaFlagged: Record<string, number> = {};
  const abChanges: number[] = [];
  const aaP50Changes: number[] = [];
  const started = Date.now();
  try {
    for (let rep = 1; rep <= REPS; rep++) {
      const root = mkdtempSync(join(tmpdir(), 'redline-compare-noise-'));
      try {
        const { aa, ab } = await noiseTrial({ root, base, candidates: { aa: same, ab: slow }, runsPerSide: RUNS, ratePerSec: RATE, durationS: DURATION_S, seed: rep });
        const ra = regressedMetrics(aa!);
        const rb = regressedMetrics(ab!);
        if (ra.length > 0) aaRegressed++;
        if (rb.length > 0) abRegressed++;
        for (const m of ra) aaFlagged[m] = (aaFlagged[m] ?? 0) + 1;
        const p50 = (c: typeof aa): { change: number; ci: string } => {
          const m = c!.metrics.find((x) => x.metric === 'p50')!;
          return { change: m.change, ci: m.ci ? `[${(m.ci.low * 100).toFixed(1)}, ${(m.ci.high * 100).toFixed(1)}] %` : 'n/a' };
        };
        abChanges.push(p50(ab).change);
        aaP50Changes.push(p50(aa).change);
        console.log(
          `rep ${String(rep).padStart(2)}: A/A ${ra.length ? `REGRESSED ${ra.join(',')}` : 'no regression'} (p50 ${(p50(aa).change * 100).toFixed(1)} % ${p50(aa).ci}) · ` +
            `A/B ${rb.length ? `regressed ${rb.join(',')}` : 'NOT DETECTED'} (p50 ${(p50(ab).change * 100).toFixed(1)} % ${p50(ab).ci}) · load ${loadavg()[0]!.toFixed(1)}`,
        );
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    }
  } finally {
    await Promise.all([base.close(), same.close(), slow.close()]);
  }
  const sd = (xs: number[]): number => {
    const m = xs.reduce((a, b) => a + b, 0) / xs.length;
    return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, xs.length - 1));
  };
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  console.log(`A/A: regressed in ${aaRegressed} of ${REPS} (target ≤ 1 of 20); flagged ${JSON.stringify(aaFlagged)}; p50 change sd ${(sd(aaP50Changes) * 100).toFixed(1)} %`);
  console.log(`A/B (+15 % work): regressed in ${abRegressed} of ${REPS} = ${((abRegressed / REPS) * 100).toFixed(0)} % (target ≥ 90 %); mean p50 change ${(mean(abChanges) * 100).toFixed(1)} %`);
  console.log(`wall time ${((Date.now() - started) / 1000).toFixed(0)} s`);
  const ok = aaRegressed <= Math.floor(REPS / 20) && abRegressed >= Math.ceil(REPS * 0.9);
  console.log(`${ok ? 'PASS' : 'FAIL'}: A/A ${aaRegressed}/${REPS}, A/B ${abRegressed}/${REPS}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

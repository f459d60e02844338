// Scripted path: one ctx.http.get and one ctx.check per iteration (bench/fixtures/load-scripted.scenario.ts),
// 50 closed-model VUs, generator pinned to core 0, nginx on core 1, beside the static fast path in
// the same run. Target: scripted requests per CPU-second ≥ 0.5× the fast path's.
// Usage: node --import tsx bench/load-scripted.bench.ts   (LOAD_BENCH_DURATION_S=10, LOAD_BENCH_ROUNDS=1)
import { fileURLToPath } from 'node:url';
import { startNginx } from './nginx/start-nginx.js';
import { envInt, perCpuSecond, runGen, verdict } from './fixtures/load-harness.js';

const VUS = 50;
const durationS = envInt('LOAD_BENCH_DURATION_S', 10);
const rounds = envInt('LOAD_BENCH_ROUNDS', 1);
const scenario = fileURLToPath(new URL('./fixtures/load-scripted.scenario.ts', import.meta.url));

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

async function main(): Promise<void> {
  const nginx = await startNginx(1);
  try {
    console.log(`load-scripted: GET ${nginx.url}, ${VUS} VUs, ${durationS} s, generator on core 0, nginx on core 1`);
    const ratios: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      const fast = await runGen('redline-vus', { url: nginx.url, vus: VUS, durationS, workers: 1 });
      const scripted = await runGen('redline-file', { file: scenario, workers: 1 }, { env: { BENCH_TARGET_URL: nginx.url, BENCH_VUS: String(VUS), BENCH_DURATION_S: String(durationS) } });
      console.log(`round ${round}:`);
      for (const [name, r] of [['fast path (static)', fast], ['scripted (get + check)', scripted]] as const) {
        console.log(`  ${name.padEnd(24)} ${fmt(r.requests).padStart(10)} req  ${(r.cpuMs / 1000).toFixed(2).padStart(6)} CPU-s  ${fmt(perCpuSecond(r)).padStart(8)} req/CPU-s  (user ${(r.userMs / 1000).toFixed(2)} s, sys ${(r.sysMs / 1000).toFixed(2)} s)`);
      }
      const checks = scripted.extra?.checks;
      console.log(`  checks: ${checks?.passes ?? 0} passed, ${checks?.fails ?? 0} failed; errors: fast ${fast.errors}, scripted ${scripted.errors}`);
      const ratio = perCpuSecond(scripted) / perCpuSecond(fast);
      ratios.push(ratio);
      console.log(`  scripted / fast = ${ratio.toFixed(2)}×`);
    }
    const median = ratios.sort((a, b) => a - b)[Math.floor(ratios.length / 2)]!;
    verdict('scripted path ≥ 0.5× fast path req/CPU-s', median >= 0.5, `${median.toFixed(2)}×${rounds > 1 ? ` (median of ${rounds})` : ''}`);
  } finally {
    await nginx.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

// Fast path: HTTP/1.1 keep-alive GET, 50 connections, generator pinned to core 0, nginx on core 1.
// Measures requests per generator CPU-second for Redline (static quick mode, closed model, 50 VUs,
// 1 worker thread) and autocannon (50 connections) in the same run, plus wrk as the native
// reference. Target: Redline ≥ 1.5× autocannon.
// Usage: node --import tsx bench/load-fast-path.bench.ts   (LOAD_BENCH_DURATION_S=10, LOAD_BENCH_ROUNDS=1)
import { startNginx } from './nginx/start-nginx.js';
import { envInt, perCpuSecond, runGen, runWrk, verdict } from './fixtures/load-harness.js';

const CONNECTIONS = 50;
const durationS = envInt('LOAD_BENCH_DURATION_S', 10);
const rounds = envInt('LOAD_BENCH_ROUNDS', 1);

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

async function main(): Promise<void> {
  const nginx = await startNginx(1);
  try {
    console.log(`load-fast-path: GET ${nginx.url}, ${CONNECTIONS} connections, ${durationS} s, generator on core 0, nginx on core 1`);
    const ratios: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      const redline = await runGen('redline-vus', { url: nginx.url, vus: CONNECTIONS, durationS, workers: 1 });
      const ac = await runGen('autocannon', { url: nginx.url, connections: CONNECTIONS, durationS });
      const wrk = await runWrk(nginx.url, CONNECTIONS, durationS, 0);
      const rows = [
        ['redline (static, 1 worker)', redline],
        ['autocannon', ac],
        ['wrk -t1 (native reference)', wrk],
      ] as const;
      console.log(`round ${round}:`);
      for (const [name, r] of rows) {
        console.log(`  ${name.padEnd(28)} ${fmt(r.requests).padStart(10)} req  ${(r.cpuMs / 1000).toFixed(2).padStart(6)} CPU-s  ${fmt(perCpuSecond(r)).padStart(8)} req/CPU-s${'userMs' in r ? `  (user ${(r.userMs / 1000).toFixed(2)} s, sys ${(r.sysMs / 1000).toFixed(2)} s)` : ''}`);
      }
      if (redline.errors || ac.errors) console.log(`  errors: redline ${redline.errors}, autocannon ${ac.errors}`);
      const ratio = perCpuSecond(redline) / perCpuSecond(ac);
      ratios.push(ratio);
      console.log(`  redline / autocannon = ${ratio.toFixed(2)}×   redline / wrk = ${(perCpuSecond(redline) / perCpuSecond(wrk)).toFixed(2)}×`);
    }
    const median = ratios.sort((a, b) => a - b)[Math.floor(ratios.length / 2)]!;
    verdict('fast path ≥ 1.5× autocannon req/CPU-s', median >= 1.5, `${median.toFixed(2)}×${rounds > 1 ? ` (median of ${rounds})` : ''}`);
  } finally {
    await nginx.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

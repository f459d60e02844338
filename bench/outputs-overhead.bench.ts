// Cost of streaming outputs and the dashboard on the fast path: HTTP/1.1 keep-alive GET against
// nginx (core 1), 50 VUs, 1 engine worker, generator pinned to core 0 (its main thread, where the
// outputs run, shares that core with the engine). Three modes in the same run, interleaved per
// round: no outputs; json + csv + Prometheus remote-write (a real Prometheus, native histograms);
// the dashboard with one SSE client. Reports requests and requests per generator CPU-second; the
// overhead is 1 − mode/none in requests per generator CPU-second (median over rounds), and the
// main-thread CPU of handing each second to the outputs is measured directly. Target: each ≤ 2 %.
// Usage: node --import tsx bench/outputs-overhead.bench.ts   (OUTPUTS_BENCH_DURATION_S=10, OUTPUTS_BENCH_ROUNDS=5)
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startNginx } from './nginx/start-nginx.js';
import { envInt, perCpuSecond, runGen, verdict, type GenResult } from './fixtures/load-harness.js';

const VUS = 50;
const durationS = envInt('OUTPUTS_BENCH_DURATION_S', 10);
const rounds = envInt('OUTPUTS_BENCH_ROUNDS', 5);
const GEN = fileURLToPath(new URL('./fixtures/outputs-gen.ts', import.meta.url));

async function startPrometheus(): Promise<{ writeUrl: string; stop(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'redline-bench-prom-'));
  writeFileSync(join(dir, 'prometheus.yml'), 'global: {}\n');
  const port = await freePort();
  const child = spawn('taskset', ['-c', '1', 'prometheus', '--web.enable-remote-write-receiver', '--enable-feature=native-histograms', `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  while (!(await fetch(`${base}/-/ready`).then((r) => r.ok, () => false))) {
    if (Date.now() > deadline) throw new Error('prometheus did not get ready');
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    writeUrl: `${base}/api/v1/write`,
    stop: () => {
      child.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

async function main(): Promise<void> {
  const nginx = await startNginx(1);
  const prom = await startPrometheus();
  try {
    console.log(`outputs-overhead: GET ${nginx.url}, ${VUS} VUs, 1 worker, ${durationS} s × ${rounds} rounds, generator on core 0, nginx and prometheus on core 1`);
    const modes = ['none', 'outputs', 'dashboard'] as const;
    const byMode: Record<string, GenResult[]> = { none: [], outputs: [], dashboard: [] };
    for (let round = 1; round <= rounds; round++) {
      // Rotate the order each round so drift on a shared machine does not favour one mode.
      const order = modes.map((_, i) => modes[(i + round - 1) % modes.length]!);
      for (const mode of order) {
        const r = await runGen(mode, { url: nginx.url, vus: VUS, durationS, workers: 1, promUrl: prom.writeUrl }, { script: GEN });
        byMode[mode]!.push(r);
        const sync = (r as GenResult & { outputsSyncMsPerSecond?: number }).outputsSyncMsPerSecond;
        for (const p of (r as GenResult & { outputProblems?: string[] }).outputProblems ?? []) console.log(`    ${p}`);
        console.log(`  round ${round} ${mode.padEnd(9)} ${fmt(r.requests).padStart(10)} req  ${(r.cpuMs / 1000).toFixed(2).padStart(6)} CPU-s  ${fmt(perCpuSecond(r)).padStart(8)} req/CPU-s  ${r.errors} errors${sync ? `  outputs ${sync.toFixed(3)} ms CPU/s on the main thread` : ''}`);
      }
    }
    const base = byMode.none!;
    for (const mode of ['outputs', 'dashboard'] as const) {
      const runs = byMode[mode]!;
      const thr = median(runs.map((r, i) => r.requests / base[i]!.requests));
      const eff = median(runs.map((r, i) => perCpuSecond(r) / perCpuSecond(base[i]!)));
      const label = mode === 'outputs' ? 'json+csv+prometheus' : 'dashboard + 1 SSE client';
      const sync = median(runs.map((r) => (r as GenResult & { outputsSyncMsPerSecond?: number }).outputsSyncMsPerSecond ?? 0));
      console.log(`  ${label}: handing a second to the outputs costs ${sync.toFixed(3)} ms of main-thread CPU (${(sync / 10).toFixed(3)} % of one core)`);
      console.log(`  ${label}: requests ${thr.toFixed(3)}× of none, req/CPU-s ${eff.toFixed(3)}× of none (medians of per-round ratios)`);
      // Judged on requests per generator CPU-second: on a shared machine the request count swings by
      // tens of per cent between runs of the same mode, CPU time per request much less.
      verdict(`${label} costs ≤ 2 % of fast-path throughput (req/CPU-s)`, eff >= 0.98, `${((1 - eff) * 100).toFixed(1)} % fewer req/CPU-s (${((1 - thr) * 100).toFixed(1)} % fewer requests)`);
    }
  } finally {
    prom.stop();
    await nginx.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

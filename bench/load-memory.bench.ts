// Memory: 10,000 closed-model VUs running scripted iterations (one get + one check) against a
// server in another process that answers after 100 ms. Target: generator peak RSS ≤ 500 MB.
// Usage: node --import tsx bench/load-memory.bench.ts   (LOAD_BENCH_VUS=10000, LOAD_BENCH_DURATION_S=30)
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { envInt, rssMb, runGen, verdict } from './fixtures/load-harness.js';

const vus = envInt('LOAD_BENCH_VUS', 10_000);
const durationS = envInt('LOAD_BENCH_DURATION_S', 30);
const scenario = fileURLToPath(new URL('./fixtures/load-scripted.scenario.ts', import.meta.url));
const serverFile = fileURLToPath(new URL('./fixtures/slow-server.mjs', import.meta.url));

async function main(): Promise<void> {
  const server = spawn('bash', ['-c', `ulimit -n "$(ulimit -Hn)"; exec taskset -c 1 node '${serverFile}'`], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, DELAY_MS: '100' } });
  const port = await new Promise<number>((resolve, reject) => {
    server.stdout.on('data', (d: Buffer) => {
      const m = /port (\d+)/.exec(d.toString());
      if (m) resolve(Number(m[1]));
    });
    server.once('exit', (code) => reject(new Error(`server exited (${code})`)));
  });
  const url = `http://127.0.0.1:${port}/`;
  let peakSampled = 0;
  let sampler: NodeJS.Timeout | null = null;
  try {
    console.log(`load-memory: ${vus} VUs, scripted get + check, ${durationS} s, target answers after 100 ms (${url})`);
    const r = await runGen(
      'redline-file',
      { file: scenario, workers: 1 },
      {
        core: 0,
        env: { BENCH_TARGET_URL: url, BENCH_VUS: String(vus), BENCH_DURATION_S: String(durationS) },
        onPid: (pid) => {
          sampler = setInterval(() => {
            const mb = rssMb(pid);
            if (mb !== null) peakSampled = Math.max(peakSampled, mb);
          }, 250);
        },
      },
    );
    const x = r.extra!;
    console.log(`  requests ${r.requests.toLocaleString('en-US')} (${(r.requests / (x.durationMs / 1000)).toFixed(0)}/s), errors ${r.errors} ${JSON.stringify(x.errorsByKind)}, vusMax ${x.vusMax}`);
    console.log(`  latency p50 ${x.latencyMs?.p50} ms, p99 ${x.latencyMs?.p99} ms; checks ${x.checks.passes} passed, ${x.checks.fails} failed`);
    const peak = Math.max(r.maxRssMb, peakSampled);
    console.log(`  generator peak RSS ${peak.toFixed(0)} MB (getrusage maxRSS ${r.maxRssMb.toFixed(0)} MB, sampled ${peakSampled.toFixed(0)} MB)`);
    verdict(`${vus} VUs peak RSS ≤ 500 MB`, peak <= 500, `${peak.toFixed(0)} MB`);
  } finally {
    if (sampler) clearInterval(sampler);
    server.kill('SIGTERM');
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

// Open-model soak: constant-arrival-rate 5,000 rps for 10 minutes against nginx; the generator's
// RSS is sampled every 10 s. Target: RSS grows by ≤ 20 MB after the first minute.
// Takes 10+ minutes; LOAD_SOAK_DURATION_S shortens it for quick checks (e.g. 120).
// Usage: node --import tsx bench/load-soak.bench.ts   (LOAD_SOAK_DURATION_S=600, LOAD_SOAK_RATE=5000)
import { startNginx } from './nginx/start-nginx.js';
import { envInt, rssMb, runGen, verdict } from './fixtures/load-harness.js';

const durationS = envInt('LOAD_SOAK_DURATION_S', 600);
const rate = envInt('LOAD_SOAK_RATE', 5000);
const SAMPLE_MS = 10_000;
const WARMUP_S = 60;

async function main(): Promise<void> {
  const nginx = await startNginx(1);
  const samples: Array<{ t: number; mb: number }> = [];
  let sampler: NodeJS.Timeout | null = null;
  try {
    console.log(`load-soak: ${rate} rps open model for ${durationS} s against ${nginx.url}; RSS every ${SAMPLE_MS / 1000} s`);
    let startedAt = 0;
    const r = await runGen(
      'redline-rate',
      { url: nginx.url, rate, durationS, workers: 1, maxVUs: 1000 },
      {
        core: 0,
        onPid: (pid) => {
          startedAt = Date.now();
          sampler = setInterval(() => {
            const mb = rssMb(pid);
            if (mb === null) return;
            const t = Math.round((Date.now() - startedAt) / 1000);
            samples.push({ t, mb });
            console.log(`  t=${String(t).padStart(4)} s  RSS ${mb.toFixed(1)} MB`);
          }, SAMPLE_MS);
        },
      },
    );
    if (sampler) clearInterval(sampler);
    const x = r.extra!;
    console.log(`  requests ${r.requests.toLocaleString('en-US')} (${(r.requests / (x.durationMs / 1000)).toFixed(0)}/s), dropped ${x.iterationsDropped}, errors ${r.errors}; lag p99 ${x.scheduleLagMs.p99} ms`);
    const after = samples.filter((s) => s.t >= WARMUP_S);
    if (after.length < 2) {
      verdict('soak RSS growth after the first minute ≤ 20 MB', false, `not enough samples after ${WARMUP_S} s (run longer)`);
      return;
    }
    const base = after[0]!.mb;
    const maxAfter = Math.max(...after.map((s) => s.mb));
    const growth = maxAfter - base;
    console.log(`  RSS at ${after[0]!.t} s: ${base.toFixed(1)} MB; max afterwards ${maxAfter.toFixed(1)} MB; last ${after[after.length - 1]!.mb.toFixed(1)} MB`);
    verdict(`soak RSS growth after the first minute ≤ 20 MB (${durationS} s run)`, growth <= 20, `${growth.toFixed(1)} MB`);
  } finally {
    if (sampler) clearInterval(sampler);
    await nginx.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

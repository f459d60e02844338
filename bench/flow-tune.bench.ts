// redline tune's search beside the full grid, and the adaptive batcher (untuned) beside the best
// static configuration, on real stages: Redis with pipelining and PostgreSQL multi-row INSERT.
// Usage: node --import tsx bench/flow-tune.bench.ts   (TUNE_BENCH_MS=1000 per configuration, TUNE_ROUNDS=3)
//
// Identical configurations measure up to 3× apart between passes on a busy machine, so comparing
// the search's best with the grid's best (each the maximum of noisy measurements) says little. After
// the grid and the search, a verdict phase re-measures the grid's pick, the search's pick and the
// adaptive batcher in interleaved rounds (same setup, back to back, order rotating each round) and
// reports the median ratio per round with its spread.
import { loadavg } from 'node:os';
import { measureStage, parseSlo, tuneStage, type StageModule, type TuneConfig, type TuneMeasurement, type TuneResult } from '@redline/capacity';

const DURATION_MS = Number(process.env.TUNE_BENCH_MS ?? 1000);
const ROUNDS = Number(process.env.TUNE_ROUNDS ?? 3);
const slo = parseSlo('p(99)<500');
const MAX_BATCH = 256;

async function stageModule(path: string, env: Record<string, string>): Promise<StageModule> {
  Object.assign(process.env, env);
  return (await import(`${path}?${Object.values(env).join('-')}`)) as StageModule;
}

function line(r: TuneResult): string {
  return r.best ? `best batch ${r.best.batchSize} × ${r.best.concurrency}: ${r.best.recordsPerSec.toFixed(0)} records/s (p99 ${r.best.p99Ms.toFixed(0)} ms), ${r.measurements.length}/${r.gridSize} configs in ${(r.elapsedMs / 1000).toFixed(1)} s` : 'no configuration met the SLO';
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

function spread(xs: number[]): string {
  return `${median(xs).toFixed(2)}× [${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}]`;
}

const cfg = (m: TuneConfig): string => `${m.batchSize} × ${m.concurrency}`;

async function bench(name: string, mod: StageModule): Promise<void> {
  const common = { slo, maxBatch: MAX_BATCH, maxConcurrency: 4, durationMs: DURATION_MS };
  const grid = await tuneStage(mod, { ...common, mode: 'grid' });
  const search = await tuneStage(mod, { ...common, mode: 'search' });
  console.log(`\n${name} (load average ${loadavg()[0]!.toFixed(1)})`);
  console.log(`  grid:     ${line(grid)}`);
  console.log(`  search:   ${line(search)}`);
  if (!grid.best || !search.best) return;
  console.log(`  search/grid time ${(search.elapsedMs / grid.elapsedMs).toFixed(2)}× (target ≤ 0.33×); best/best in their own passes ${(search.best.recordsPerSec / grid.best.recordsPerSec).toFixed(2)}×`);
  const gridPick: TuneConfig = { batchSize: grid.best.batchSize, concurrency: grid.best.concurrency };
  const searchPick: TuneConfig = { batchSize: search.best.batchSize, concurrency: search.best.concurrency };
  const adaptiveConfig: TuneConfig = { batchSize: MAX_BATCH, concurrency: grid.best.concurrency };
  const searchVsGrid: number[] = [];
  const adaptiveVsGrid: number[] = [];
  const settled: number[] = [];
  await mod.setup();
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const measured: Record<string, TuneMeasurement> = {};
      const order = ['grid', 'search', 'adaptive'];
      for (let k = 0; k < round % 3; k++) order.push(order.shift()!);
      for (const which of order) {
        measured[which] =
          which === 'adaptive'
            ? await measureStage(mod, adaptiveConfig, { slo, durationMs: DURATION_MS * 3, adaptiveTargetMs: slo.limitMs / 2 })
            : await measureStage(mod, which === 'grid' ? gridPick : searchPick, { slo, durationMs: DURATION_MS });
      }
      const g = measured.grid!;
      const s = measured.search!;
      const a = measured.adaptive!;
      searchVsGrid.push(s.recordsPerSec / g.recordsPerSec);
      adaptiveVsGrid.push(a.recordsPerSec / g.recordsPerSec);
      settled.push(a.finalBatchSize ?? 0);
      console.log(`  round ${round + 1} (${order.join(', ')}; load ${loadavg()[0]!.toFixed(1)}): grid's ${cfg(g)} ${g.recordsPerSec.toFixed(0)}/s, search's ${cfg(s)} ${s.recordsPerSec.toFixed(0)}/s, adaptive (max ${MAX_BATCH} × ${a.concurrency}) ${a.recordsPerSec.toFixed(0)}/s p99 ${a.p99Ms.toFixed(0)} ms settled at ${a.finalBatchSize}`);
    }
  } finally {
    await mod.teardown?.();
  }
  console.log(`  verdict: search's pick / grid's pick ${spread(searchVsGrid)} (target ≥ 0.90×); adaptive / grid's pick ${spread(adaptiveVsGrid)} (target ≥ 0.90×), settled at ${settled.join(', ')}`);
}

console.log(`flow-tune: ${new Date().toISOString()} node ${process.version}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}, ${DURATION_MS} ms per configuration, ${ROUNDS} verdict rounds, SLO ${slo.expression}`);
await bench('Redis SET, pipelined per batch', await stageModule('../examples/tune/redis-pipeline.ts', { REDIS_MODE: 'pipeline' }));
await bench('PostgreSQL multi-row INSERT', await stageModule('../examples/tune/postgres-rows.ts', { PG_MODE: 'multi' }));

// redline tune's search beside the full grid, and the adaptive batcher (untuned) beside the best
// static configuration, on real stages: Redis with pipelining and PostgreSQL multi-row INSERT.
// Usage: node --import tsx bench/flow-tune.bench.ts   (TUNE_BENCH_MS=700 per configuration)
import { loadavg } from 'node:os';
import { measureStage, parseSlo, tuneStage, type StageModule, type TuneResult } from '@redline/capacity';

const DURATION_MS = Number(process.env.TUNE_BENCH_MS ?? 700);
const slo = parseSlo('p(99)<500');

async function stageModule(path: string, env: Record<string, string>): Promise<StageModule> {
  Object.assign(process.env, env);
  return (await import(`${path}?${Object.values(env).join('-')}`)) as StageModule;
}

function line(r: TuneResult): string {
  return r.best ? `best batch ${r.best.batchSize} × ${r.best.concurrency}: ${r.best.recordsPerSec.toFixed(0)} records/s (p99 ${r.best.p99Ms.toFixed(0)} ms), ${r.measurements.length}/${r.gridSize} configs in ${(r.elapsedMs / 1000).toFixed(1)} s` : 'no configuration met the SLO';
}

async function bench(name: string, mod: StageModule): Promise<void> {
  const common = { slo, maxBatch: 256, maxConcurrency: 4, durationMs: DURATION_MS };
  const grid = await tuneStage(mod, { ...common, mode: 'grid' });
  const search = await tuneStage(mod, { ...common, mode: 'search' });
  await mod.setup();
  const adaptive = await measureStage(mod, { batchSize: 256, concurrency: grid.best?.concurrency ?? 1 }, { slo, durationMs: DURATION_MS * 3, adaptiveTargetMs: slo.limitMs / 2 });
  await mod.teardown?.();
  console.log(`\n${name}`);
  console.log(`  grid:     ${line(grid)}`);
  console.log(`  search:   ${line(search)}`);
  if (grid.best && search.best) {
    const same = grid.measurements.find((m) => m.batchSize === search.best!.batchSize && m.concurrency === search.best!.concurrency)!;
    console.log(`  the search's pick as the grid measured it: ${same.recordsPerSec.toFixed(0)} records/s = ${(same.recordsPerSec / grid.best.recordsPerSec).toFixed(2)}× the grid's best (same-run comparison, target ≥ 0.90×)`);
    console.log(`  grid at batch 256: ${grid.measurements.filter((m) => m.batchSize === 256).map((m) => `×${m.concurrency} ${m.recordsPerSec.toFixed(0)}/s`).join(', ')}`);
    console.log(`  search/grid: best records/s ${(search.best.recordsPerSec / grid.best.recordsPerSec).toFixed(2)}×, time ${(search.elapsedMs / grid.elapsedMs).toFixed(2)}× (targets ≥ 0.90×, ≤ 0.33×)`);
    console.log(`  adaptive batcher (max 256, target ${slo.limitMs / 2} ms, concurrency ${adaptive.concurrency}, untuned): ${adaptive.recordsPerSec.toFixed(0)} records/s, p99 ${adaptive.p99Ms.toFixed(0)} ms, settled at ${adaptive.finalBatchSize} — ${(adaptive.recordsPerSec / grid.best.recordsPerSec).toFixed(2)}× the best static (target ≥ 0.90×)`);
  }
}

console.log(`flow-tune: ${new Date().toISOString()} node ${process.version}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}, ${DURATION_MS} ms per configuration, SLO ${slo.expression}`);
await bench('Redis SET, pipelined per batch', await stageModule('../examples/tune/redis-pipeline.ts', { REDIS_MODE: 'pipeline' }));
await bench('PostgreSQL multi-row INSERT', await stageModule('../examples/tune/postgres-rows.ts', { PG_MODE: 'multi' }));

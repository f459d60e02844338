import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { ErrorCodes, RedlineError, defaultRunDir, parseDuration } from '@redline/core';
import { checkStageModule, measureStage, parseSlo, renderTuneSvg, renderTuneText, tuneStage, type TuneMeasurement } from '@redline/capacity';
import { importUserModule } from '@redline/load';
import { intFlag, parseCommandArgs } from '../args.js';
import { out, type CliIo } from '../io.js';

export const TUNE_HELP = `Usage: redline tune stage.ts --slo 'p(99)<500' [options]

Drives a data-pipeline stage over batch sizes × concurrency (a coarse-to-fine search, not the full
grid), measures records/s and the per-record latency from enqueue to done, and recommends the
fastest configuration that meets the SLO. The module exports setup(), stage(batch) and records()
(a fresh iterable of records each call); teardown() is optional.

  --slo EXPR             per-record latency objective, e.g. 'p(99)<500' (ms)
  --max-batch N          largest batch size (default 1024)
  --max-concurrency N    largest number of batches in flight (default 8)
  --duration D           measurement per configuration (default 1500ms)
  --max-wait D           flush a partial batch after this (default 5ms)
  --grid                 measure the full grid instead of searching
  --adaptive             also run the adaptive batcher (AIMD under half the SLO) at the recommended concurrency
  --out DIR              directory for tune.json and tune.svg
  --json                 print the result as JSON`;

/** `redline tune stage.ts`. */
export async function tuneCommand(io: CliIo, args: string[]): Promise<number> {
  const { values: v, positionals } = parseCommandArgs('tune', args, {
    slo: { type: 'string' },
    'max-batch': { type: 'string' },
    'max-concurrency': { type: 'string' },
    duration: { type: 'string' },
    'max-wait': { type: 'string' },
    grid: { type: 'boolean' },
    adaptive: { type: 'boolean' },
    out: { type: 'string', short: 'o' },
  });
  if (v.help) {
    out(io, TUNE_HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new RedlineError(ErrorCodes.USAGE, 'redline tune: expected exactly one stage module, e.g. redline tune stage.ts --slo \'p(99)<500\'');
  if (v.slo === undefined) throw new RedlineError(ErrorCodes.USAGE, "redline tune: --slo is required, e.g. --slo 'p(99)<500'");
  const slo = parseSlo(String(v.slo));
  const file = positionals[0]!;
  const mod = checkStageModule(await importUserModule(file, io.cwd, 'stage module'), file);
  const durationMs = parseDuration(String(v.duration ?? '1500ms'), '--duration');
  const maxWaitMs = parseDuration(String(v['max-wait'] ?? '5ms'), '--max-wait');
  const result = await tuneStage(mod, {
    slo,
    maxBatch: intFlag('max-batch', v['max-batch']) ?? 1024,
    maxConcurrency: intFlag('max-concurrency', v['max-concurrency']) ?? 8,
    durationMs,
    maxWaitMs,
    mode: v.grid ? 'grid' : 'search',
    onMeasure: (m) => {
      if (!v.json) io.stderr.write(`  batch ${m.batchSize} × ${m.concurrency}: ${m.recordsPerSec.toFixed(0)} records/s, p99 ${m.p99Ms.toFixed(1)} ms${m.ok ? '' : ' (misses the SLO)'}\n`);
    },
  });
  if (result.measurements.every((m) => m.records === 0)) {
    throw new RedlineError(ErrorCodes.INVALID_SCENARIO, `${file}: no configuration completed a record: does records() yield anything, and does stage(batch) resolve?`);
  }
  let adaptive: TuneMeasurement | null = null;
  if (v.adaptive) {
    await mod.setup();
    try {
      const concurrency = result.best?.concurrency ?? 1;
      adaptive = await measureStage(mod, { batchSize: Math.max(...result.batchSizes), concurrency }, { slo, durationMs: durationMs * 2, maxWaitMs, adaptiveTargetMs: slo.limitMs / 2 });
    } finally {
      await mod.teardown?.();
    }
  }
  const outDir = v.out !== undefined ? String(v.out) : defaultRunDir('tune', new Date(), io.cwd);
  await mkdir(outDir, { recursive: true });
  const files = { json: join(outDir, 'tune.json'), svg: join(outDir, 'tune.svg') };
  await writeFile(files.json, JSON.stringify({ schema: 'redline-tune/1', stage: file, ...result, adaptive }, null, 2));
  await writeFile(files.svg, renderTuneSvg(result, `redline tune ${file}`));
  if (v.json) out(io, JSON.stringify({ ...result, adaptive, files }, null, 2));
  else {
    out(io, renderTuneText(result));
    if (adaptive) {
      out(io, `adaptive batcher (max ${adaptive.batchSize}, target ${slo.limitMs / 2} ms, concurrency ${adaptive.concurrency}): ${adaptive.recordsPerSec.toFixed(0)} records/s, p99 ${adaptive.p99Ms.toFixed(1)} ms, settled at batch ${adaptive.finalBatchSize}${result.best ? ` — ${((adaptive.recordsPerSec / result.best.recordsPerSec) * 100).toFixed(0)} % of the best static` : ''}`);
    }
    out(io, `tune: ${relative(io.cwd, files.json)}  chart: ${relative(io.cwd, files.svg)}`);
  }
  return result.best ? 0 : 1;
}

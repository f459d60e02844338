// The demo's overload scenario with and without @redline/flow: the maximum sustainable rate is
// searched once on the unlimited service (or given), then each variant gets 0.5×, 1×, 2×, 3×, 4× and
// back to 0.5× of it, OVERLOAD_REPS times, the variants' order rotating each repetition so that a
// change in the machine's load does not always land on the same variant.
// Usage: node --import tsx bench/flow-overload.bench.ts
//   OVERLOAD_MAX_RATE=N skips the search; OVERLOAD_REPS=3; OVERLOAD_STEP_MS=4000; OVERLOAD_WARMUP_MS=3000; OVERLOAD_VARIANTS=off,gradient2,gradient2-stall
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { mkdtempSync } from 'node:fs';
import { parseSlo, stepAt, renderOverloadText, type OverloadResult } from '@redline/capacity';
import { overloadExperiment, type OverloadVariant } from '../packages/cli/src/commands/overload.ts';
import { demoServerPath } from '../packages/cli/src/commands/demo.ts';
import { processIo } from '../packages/cli/src/io.ts';

const server = demoServerPath();
const slo = parseSlo(process.env.OVERLOAD_SLO ?? 'p(99)<250');
const REPS = Number(process.env.OVERLOAD_REPS ?? 3);
const STEP_MS = Number(process.env.OVERLOAD_STEP_MS ?? 4000);
const base = `"${process.execPath}" "${server}" --bottleneck overload`;
const ALL: Record<string, OverloadVariant> = {
  off: { label: 'without limiter', command: base },
  gradient2: { label: 'with @redline/flow (gradient2)', command: `${base} --limiter gradient2 --stall-clock off` },
  'gradient2-stall': { label: 'with @redline/flow (gradient2, stallClock)', command: `${base} --limiter gradient2 --stall-clock on` },
};
const variants = (process.env.OVERLOAD_VARIANTS ?? 'off,gradient2,gradient2-stall').split(',').map((k) => {
  const v = ALL[k.trim()];
  if (!v) throw new Error(`unknown variant ${k}; choose from ${Object.keys(ALL).join(', ')}`);
  return v;
});
let maxRate = process.env.OVERLOAD_MAX_RATE ? Number(process.env.OVERLOAD_MAX_RATE) : undefined;
const rows = new Map<string, { share: number[]; ratio: number[]; recovery: number[] }>(variants.map((v) => [v.label, { share: [], ratio: [], recovery: [] }]));
const la = (): string => loadavg().map((l) => l.toFixed(1)).join(' ');

console.log(`flow-overload: ${new Date().toISOString()} node ${process.version}, load average ${la()}, ${REPS} repetitions, steps of ${STEP_MS} ms, SLO ${slo.expression}`);
for (let rep = 0; rep < REPS; rep++) {
  const order = [...variants];
  for (let k = 0; k < rep % order.length; k++) order.push(order.shift()!);
  // The search (first repetition only) runs on the unlimited service: the capacity is the service's, not the limiter's.
  if (maxRate === undefined) order.sort((a, b) => (a === ALL.off ? -1 : b === ALL.off ? 1 : 0));
  const outDir = mkdtempSync(join(tmpdir(), 'redline-overload-bench-'));
  const before = la();
  const { results } = await overloadExperiment(
    processIo(),
    {
      variants: order,
      path: '/search',
      slo,
      ...(maxRate !== undefined && { maxRate }),
      stepMs: STEP_MS,
      recoveryStepMs: 8000,
      recoverWithinMs: 5000,
      warmupMs: Number(process.env.OVERLOAD_WARMUP_MS ?? 3000),
      timeoutMs: 2000,
      searchStepMs: 3000,
      searchBudgetMs: 60_000,
      searchStart: 10,
      outDir,
      quiet: true,
    },
    new AbortController().signal,
  );
  maxRate = results[0]!.maxRate;
  console.log(`\nrepetition ${rep + 1}: order ${order.map((v) => v.label).join(' → ')}; load average before ${before}, after ${la()}`);
  console.log(renderOverloadText(results));
  for (const r of results as OverloadResult[]) {
    const at3 = stepAt(r, 3)!;
    const row = rows.get(r.label)!;
    row.share.push(at3.goodput / r.peakGoodput);
    row.ratio.push(at3.admittedP99Ms / r.unloadedP99Ms);
    row.recovery.push(r.recovery.seconds ?? Infinity);
  }
}
const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (xs: number[], f: (x: number) => string): string => `${f(med(xs))} [${xs.map(f).join(', ')}]`;
console.log(`\nsummary over ${REPS} repetitions at max rate ${maxRate}/s (median [each repetition]):`);
for (const [label, r] of rows) {
  console.log(`  ${label}: goodput at 3× ${fmt(r.share, (x) => `${(x * 100).toFixed(0)} %`)} of peak (target ≥ 90 %); admitted p99 ${fmt(r.ratio, (x) => `${x.toFixed(2)}×`)} unloaded (target ≤ 2×); recovery ${fmt(r.recovery, (x) => `${x} s`)} (target ≤ 5 s)`);
}

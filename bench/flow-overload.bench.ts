// The demo's overload scenario with and without @redline/flow in one run: the maximum sustainable
// rate is searched on the unlimited service, then both get 0.5×, 1×, 2×, 3×, 4× and back to 0.5× of it.
// Usage: node --import tsx bench/flow-overload.bench.ts   (OVERLOAD_MAX_RATE=N skips the search)
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { mkdtempSync } from 'node:fs';
import { parseSlo, stepAt, renderOverloadText } from '@redline/capacity';
import { overloadExperiment } from '../packages/cli/src/commands/overload.ts';
import { demoServerPath } from '../packages/cli/src/commands/demo.ts';
import { processIo } from '../packages/cli/src/io.ts';

const server = demoServerPath();
const outDir = mkdtempSync(join(tmpdir(), 'redline-overload-bench-'));
const slo = parseSlo(process.env.OVERLOAD_SLO ?? 'p(99)<250');
const maxRate = process.env.OVERLOAD_MAX_RATE ? Number(process.env.OVERLOAD_MAX_RATE) : undefined;
const before = loadavg();
const { results, files } = await overloadExperiment(
  processIo(),
  {
    variants: [
      { label: 'without limiter', command: `"${process.execPath}" "${server}" --bottleneck overload` },
      { label: 'with @redline/flow (gradient2)', command: `"${process.execPath}" "${server}" --bottleneck overload --limiter gradient2` },
    ],
    path: '/search',
    slo,
    ...(maxRate !== undefined && { maxRate }),
    stepMs: 5000,
    recoveryStepMs: 10_000,
    recoverWithinMs: 5000,
    timeoutMs: 2000,
    searchStepMs: 3000,
    searchBudgetMs: 120_000,
    searchStart: 10,
    outDir,
  },
  new AbortController().signal,
);
console.log(`flow-overload: ${new Date().toISOString()} node ${process.version}, load average before ${before.map((l) => l.toFixed(2)).join(' ')}, after ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log(renderOverloadText(results));
for (const r of results) {
  const at3 = stepAt(r, 3)!;
  const share = at3.goodput / r.peakGoodput;
  const ratio = at3.admittedP99Ms / r.unloadedP99Ms;
  console.log(`${r.label}: at 3× goodput ${(share * 100).toFixed(0)} % of peak (target ≥ 90 %), admitted p99 ${ratio.toFixed(2)}× unloaded (target ≤ 2×), recovery ${r.recovery.seconds ?? 'none'} s (target ≤ 5 s)`);
}
console.log(`files: ${files.html}`);

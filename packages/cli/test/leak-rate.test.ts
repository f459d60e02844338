// The leak rule at its edge on a short (12 s) run: a service that keeps exactly 30 MB/min — the rate
// the rule must always find in 12 s (4 MB of growth over the ~8–10 s between the first and last full
// GC) — is found with about that slope, while one keeping 5 MB/min (1 MB in the run) is not called a
// leak. The leak rate is set by the clock in the target, so a busy machine cannot change it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunResult } from '@redline/core';
import { quickPlan } from '@redline/load';
import { runSession } from '../src/session.js';

const SERVER = fileURLToPath(new URL('./fixtures/leak-rate-server.mjs', import.meta.url));

async function leakingRun(mbPerMin: number): Promise<RunResult> {
  const dir = await mkdtemp(join(tmpdir(), 'redline-leak-rate-'));
  try {
    const outcome = await runSession({
      cwd: dir,
      outDir: join(dir, 'run'),
      env: {},
      workers: 0,
      report: false,
      leak: { snapshots: 'off' },
      target: { kind: 'launch', command: `LEAK_MB_PER_MIN=${mbPerMin} "${process.execPath}" "${SERVER}"`, cwd: dir },
      plan: async ({ url }) => quickPlan({ url: `${url}/`, vus: 2, duration: '12s' }, { name: `leak-${mbPerMin}` }),
    });
    return outcome.result;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function describe(r: RunResult): string {
  const gcs = (r.target?.fullGcs ?? []).map((g) => `t=${g.t} ${(g.heapUsedBytes / 2 ** 20).toFixed(1)} MB ${g.pauseMs} ms`).join(', ');
  return `${r.findings.map((f) => `${f.severity} ${f.category}: ${f.title}`).join('\n')}\nforced full GCs: ${gcs}`;
}

test('a 30 MB/min leak is found in a 12 s run with about its slope; 5 MB/min is not called a leak', async () => {
  const at = await leakingRun(30);
  const leak = at.findings.find((f) => f.category === 'memory-leak');
  assert.ok(leak !== undefined && leak.severity !== 'info', describe(at));
  const slope = leak.evidence.find((e) => e.metric === 'target.heap_after_gc.slope')?.value ?? 0;
  assert.ok(slope >= 20 && slope <= 45, `slope ${slope} MB/min for a 30 MB/min leak\n${describe(at)}`);

  const under = await leakingRun(5);
  const none = under.findings.find((f) => f.category === 'memory-leak' && f.severity !== 'info');
  assert.equal(none, undefined, describe(under));
  assert.ok((under.target?.fullGcs?.length ?? 0) >= 1, `full GCs were forced: ${describe(under)}`);
});

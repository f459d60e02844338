// End-to-end: the demo's memory and waiting bottlenecks under real load; see demo-cpu-bottlenecks.test.ts.
// pool-starvation and threadpool need the real probe's pool and thread-pool data: the CLI's demo test covers them.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { diagnose } from '../src/index.ts';
import { buildDemo, runDemo } from './helpers/demo-run.ts';

before(buildDemo);

test('memory-leak demo: memory leak with a positive slope', async () => {
  const { result, profile } = await runDemo('memory-leak');
  const findings = diagnose(result, { profile });
  const f = findings[0];
  assert.equal(f?.category, 'memory-leak', findings.map((x) => x.title).join('\n'));
  const slope = f.evidence.find((e) => e.metric === 'target.heap_after_gc.slope');
  assert.ok(slope !== undefined && slope.value > 20);
});

test('slow-downstream demo: waiting on something outside, sockets', async () => {
  // 100/s keeps ~12 requests waiting on the 120 ms upstream (sockets pile up) while the profiled
  // process stays clearly under WAIT_MAX_CPU_CORES: at 200/s the 1 ms profiler and the probe put it at
  // 0.45–0.5 cores, on the rule's edge.
  const { result, profile } = await runDemo('slow-downstream', { rate: 100 });
  const findings = diagnose(result, { profile });
  const f = findings[0];
  assert.equal(f?.category, 'waiting-external', findings.map((x) => x.title).join('\n'));
  assert.match(f.recommendation, /downstream/);
});

test('the demo refuses an unknown bottleneck name', async () => {
  await assert.rejects(runDemo('nope'), /demo exited with 2: unknown bottleneck "nope"; choose one of: healthy, event-loop-block/);
});

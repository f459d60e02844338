// The share of busy CPU inside a database driver: what lets an N+1 finding explain a busy loop when
// the driver issues the queries from its own callbacks (no calling function to match).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createProfileModel } from '../src/index.ts';
import { buildContext, driverCpuShare } from '../src/timeline.ts';
import { makeRunResult, point, sample, seconds } from './helpers/run-result.ts';

const N = 10;

/** A CPU profile with one sample per listed leaf, 1 ms apart: `idle`, `app` (handler only) or `pg` (handler → pg-pool → native write). */
function profile(leaves: readonly ('idle' | 'app' | 'pg')[]): Parameters<typeof createProfileModel>[0] {
  const frame = (id: number, functionName: string, url: string, children: number[]) => ({ id, callFrame: { functionName, url, scriptId: String(id), lineNumber: 1, columnNumber: 1 }, children });
  const nodes = [
    frame(1, '(root)', '', [2, 3]),
    frame(2, '(idle)', '', []),
    frame(3, 'handler', 'file:///srv/app/server.js', [4]),
    frame(4, 'query', 'file:///srv/app/node_modules/pg-pool/index.js', [5]),
    frame(5, 'writevGeneric', '', []),
  ];
  const id = { idle: 2, app: 3, pg: 5 } as const;
  return { nodes, startTime: 0, endTime: leaves.length * 1000, samples: leaves.map((l) => id[l]), timeDeltas: leaves.map(() => 1000) };
}

function context(leaves: readonly ('idle' | 'app' | 'pg')[]) {
  const r = makeRunResult({ durationS: N, timeseries: seconds(N, (t) => point(t, 100, 2)), samples: seconds(N, (t) => sample(t)) });
  return buildContext(r, createProfileModel(profile(leaves), { sourceMaps: false }));
}

test('driverCpuShare counts busy samples with a driver frame on the stack; idle samples do not count', () => {
  const leaves = [...Array<'pg'>(60).fill('pg'), ...Array<'app'>(20).fill('app'), ...Array<'idle'>(120).fill('idle')];
  const ctx = context(leaves);
  assert.ok(Math.abs(driverCpuShare(ctx, ctx.active) - 0.75) < 1e-9, String(driverCpuShare(ctx, ctx.active)));
});

test('driverCpuShare is 0 for a service whose CPU is its own code, and without a profile', () => {
  const ctx = context([...Array<'app'>(80).fill('app'), ...Array<'idle'>(20).fill('idle')]);
  assert.equal(driverCpuShare(ctx, ctx.active), 0);
  const bare = buildContext(makeRunResult({ durationS: N, timeseries: seconds(N, (t) => point(t, 100, 2)), samples: seconds(N, (t) => sample(t)) }), undefined);
  assert.equal(driverCpuShare(bare, bare.active), 0);
});

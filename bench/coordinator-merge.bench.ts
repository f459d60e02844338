// CPU the coordinator spends merging a distributed run: 32 synthetic instances (2 worker threads
// each, ~2,000 requests/s per instance over 4 traffic slices and 5 request names) send one second
// of interval snapshots each, as JSON on the Redis stream; the coordinator parses them, merges them
// into the run aggregate, and evaluates an abortOnFail threshold across all of them once a second.
// Reports CPU ms per simulated second (target: ≤ 50 ms). Redis itself is not in the loop (its
// XREAD costs the same whatever the merge does); the JSON parse of the stream payload is.
// Usage: node --import tsx bench/coordinator-merge.bench.ts
import { LatencyHistogram } from '@redline/core';
import type { IntervalSnapshot } from '@redline/load';
import { DistributedMerge } from '../packages/cli/src/coordinate/merge-live.ts';
import type { InstanceInfo, IntervalMessage } from '../packages/cli/src/coordinate/protocol.ts';

const INSTANCES = Number(process.env.BENCH_INSTANCES ?? 32);
const WORKERS = 2;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const REQUESTS_PER_WORKER = 1000;
const NAMES = ['GET /', 'GET /cart', 'POST /cart', 'GET /item/:id', 'POST /checkout'];

let seed = 42;
const rand = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);

function histogram(n: number): string {
  const h = new LatencyHistogram();
  // Log-normal-ish latencies around 5 ms with a tail, as a real target gives.
  for (let i = 0; i < n; i++) h.recordUs(Math.exp(8.5 + rand() * 1.5 + (rand() < 0.01 ? 2 : 0)));
  return h.encode();
}

function slice(n: number): IntervalSnapshot['slices'][string] {
  return { latency: histogram(n), service: histogram(n), requests: n, errors: 0, errorsByKind: {} };
}

function snapshot(index: number, worker: number): IntervalSnapshot {
  const slices: IntervalSnapshot['slices'] = { all: slice(REQUESTS_PER_WORKER), 'status:2xx': slice(REQUESTS_PER_WORKER), 'scenario:default': slice(REQUESTS_PER_WORKER) };
  for (const n of NAMES) slices[`name:${n}`] = slice(REQUESTS_PER_WORKER / NAMES.length);
  return { index, worker, slices, iterations: { default: REQUESTS_PER_WORKER }, dropped: {}, iterationErrors: {}, intended: REQUESTS_PER_WORKER, hasOpenModel: true, checks: {}, bytesSent: 1e5, bytesReceived: 4e5, vus: 20, vusMax: 20, lag: histogram(200), lagCount: REQUESTS_PER_WORKER, elu: 0.4, inFlight: 5, firstIterationError: null };
}

// Payloads are made up front (a few distinct seconds reused), so only the coordinator's work is timed.
const DISTINCT = 4;
console.log(`preparing ${INSTANCES} instances × ${WORKERS} workers × ${DISTINCT} distinct seconds of snapshots …`);
const payloads: string[][] = [];
for (let s = 0; s < DISTINCT; s++) {
  payloads.push(Array.from({ length: INSTANCES }, (_, i) => JSON.stringify({ type: 'interval', instance: i, index: 0, cpuCores: 0.5, snapshots: Array.from({ length: WORKERS }, (_, w) => ({ ...snapshot(0, w), worker: i * 1024 + w })) } satisfies IntervalMessage)));
}
const bytes = payloads[0]!.reduce((a, p) => a + p.length, 0);

const members: InstanceInfo[] = Array.from({ length: INSTANCES }, (_, i) => ({
  instance: i,
  instances: INSTANCES,
  scenarioHash: 'x',
  scenarioFile: 's.ts',
  segment: `${i}/${INSTANCES}:${i + 1}/${INSTANCES}`,
  sequence: '',
  host: `h${i}`,
  pid: i,
  thresholds: { 'http.latency': [{ threshold: 'p(99)<500', abortOnFail: true }], 'http.errors': ['rate<0.01'] },
  config: {},
}));
const merge = new DistributedMerge(members, 10_000);
const perSecondMs: number[] = [];
for (let s = 1; s <= SECONDS; s++) {
  const batch = payloads[s % DISTINCT]!;
  const c0 = process.cpuUsage();
  for (const p of batch) {
    const msg = JSON.parse(p) as IntervalMessage;
    msg.index = s;
    for (const snap of msg.snapshots) snap.index = s;
    merge.add(msg);
  }
  merge.flush();
  if (merge.shouldAbort(s * 1000)) throw new Error('threshold unexpectedly failed');
  const c = process.cpuUsage(c0);
  perSecondMs.push((c.user + c.system) / 1000);
}
const sorted = [...perSecondMs].sort((a, b) => a - b);
const median = sorted[Math.floor(sorted.length / 2)]!;
const p90 = sorted[Math.floor(sorted.length * 0.9)]!;
console.log(`merged ${merge.mergedSeconds} seconds; ${merge.agg.slices.get('all')?.requests ?? 0} requests; stream payload ${(bytes / 1024).toFixed(0)} KiB per second`);
console.log(`coordinator CPU per second (${INSTANCES} instances): median ${median.toFixed(1)} ms, p90 ${p90.toFixed(1)} ms, max ${sorted.at(-1)!.toFixed(1)} ms`);
console.log(`target ≤ 50 ms: ${median <= 50 ? 'reached' : 'NOT reached'} (median / target = ${(median / 50).toFixed(2)})`);

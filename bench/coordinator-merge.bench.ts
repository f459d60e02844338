// CPU the coordinator spends merging a distributed run: 32 synthetic instances (2 worker threads
// each, ~2,000 requests/s per instance over 4 traffic slices and 5 request names) send one second
// of interval snapshots each, as JSON on the Redis stream; the coordinator parses them, merges them
// into the run aggregate, and evaluates an abortOnFail threshold across all of them once a second.
// Reports CPU ms per simulated second (target: ≤ 50 ms). Redis itself is not in the loop (its
// XREAD costs the same whatever the merge does); the JSON parse of the stream payload is.
// Histograms travel as the recorder writes them (`encodePlain`, uncompressed HDR V2); the same
// seconds with deflated histograms (`encode`, what instances sent before) are merged into a second
// aggregate in the same run, alternating, for the before/after ratio.
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

type Encoding = 'plain' | 'deflated';

function histogram(n: number): LatencyHistogram {
  const h = new LatencyHistogram();
  // Log-normal-ish latencies around 5 ms with a tail, as a real target gives.
  for (let i = 0; i < n; i++) h.recordUs(Math.exp(8.5 + rand() * 1.5 + (rand() < 0.01 ? 2 : 0)));
  return h;
}

const enc = (h: LatencyHistogram, e: Encoding): string => (e === 'plain' ? h.encodePlain() : h.encode());

/** One worker's second, with every histogram in both encodings (same samples). */
function snapshot(index: number, worker: number): Record<Encoding, IntervalSnapshot> {
  const hists: Array<[string, LatencyHistogram, LatencyHistogram, number]> = [];
  for (const key of ['all', 'status:2xx', 'scenario:default']) hists.push([key, histogram(REQUESTS_PER_WORKER), histogram(REQUESTS_PER_WORKER), REQUESTS_PER_WORKER]);
  for (const n of NAMES) hists.push([`name:${n}`, histogram(REQUESTS_PER_WORKER / NAMES.length), histogram(REQUESTS_PER_WORKER / NAMES.length), REQUESTS_PER_WORKER / NAMES.length]);
  const lag = histogram(200);
  const make = (e: Encoding): IntervalSnapshot => ({
    index,
    worker,
    slices: Object.fromEntries(hists.map(([k, l, sv, n]) => [k, { latency: enc(l, e), service: enc(sv, e), requests: n, errors: 0, errorsByKind: {} }])),
    iterations: { default: REQUESTS_PER_WORKER },
    dropped: {},
    iterationErrors: {},
    intended: REQUESTS_PER_WORKER,
    hasOpenModel: true,
    checks: {},
    bytesSent: 1e5,
    bytesReceived: 4e5,
    vus: 20,
    vusMax: 20,
    lag: enc(lag, e),
    lagCount: REQUESTS_PER_WORKER,
    elu: 0.4,
    inFlight: 5,
    firstIterationError: null,
  });
  return { plain: make('plain'), deflated: make('deflated') };
}

// Payloads are made up front (a few distinct seconds reused), so only the coordinator's work is timed.
const DISTINCT = 4;
console.log(`preparing ${INSTANCES} instances × ${WORKERS} workers × ${DISTINCT} distinct seconds of snapshots …`);
const payloads: Record<Encoding, string[][]> = { plain: [], deflated: [] };
for (let s = 0; s < DISTINCT; s++) {
  const perInstance = Array.from({ length: INSTANCES }, (_, i) => Array.from({ length: WORKERS }, (_, w) => snapshot(0, i * 1024 + w)));
  for (const e of ['plain', 'deflated'] as const) {
    payloads[e].push(perInstance.map((snaps, i) => JSON.stringify({ type: 'interval', instance: i, index: 0, cpuCores: 0.5, snapshots: snaps.map((x) => x[e]) } satisfies IntervalMessage)));
  }
}
const bytes = (e: Encoding): number => payloads[e][0]!.reduce((a, p) => a + p.length, 0);

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
const merges: Record<Encoding, DistributedMerge> = { plain: new DistributedMerge(members, 10_000), deflated: new DistributedMerge(members, 10_000) };
const perSecondMs: Record<Encoding, number[]> = { plain: [], deflated: [] };

/** Parses and merges one second of every instance, evaluates the abort threshold; returns CPU ms. */
function mergeSecond(e: Encoding, s: number): number {
  const merge = merges[e];
  const c0 = process.cpuUsage();
  for (const p of payloads[e][s % DISTINCT]!) {
    const msg = JSON.parse(p) as IntervalMessage;
    msg.index = s;
    for (const snap of msg.snapshots) snap.index = s;
    merge.add(msg);
  }
  merge.flush();
  if (merge.shouldAbort(s * 1000)) throw new Error('threshold unexpectedly failed');
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
}

for (let s = 1; s <= SECONDS; s++) {
  // Alternate which encoding goes first, so warm-up and drift fall on both.
  const order: Encoding[] = s % 2 ? ['plain', 'deflated'] : ['deflated', 'plain'];
  for (const e of order) perSecondMs[e].push(mergeSecond(e, s));
}
const stats = (xs: number[]): { median: number; p90: number; max: number } => {
  const sorted = [...xs].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)]!, p90: sorted[Math.floor(sorted.length * 0.9)]!, max: sorted.at(-1)! };
};
const a = merges.plain.agg.slices.get('all');
const b = merges.deflated.agg.slices.get('all');
if (!a || !b || a.requests !== b.requests || a.latency.percentileMs(99) !== b.latency.percentileMs(99)) throw new Error('the two encodings merged to different results');
console.log(`merged ${merges.plain.mergedSeconds} seconds; ${a.requests} requests; stream payload per second: ${(bytes('plain') / 1024).toFixed(0)} KiB plain, ${(bytes('deflated') / 1024).toFixed(0)} KiB deflated`);
for (const e of ['deflated', 'plain'] as const) {
  const st = stats(perSecondMs[e]);
  console.log(`coordinator CPU per second (${INSTANCES} instances, ${e} histograms): median ${st.median.toFixed(1)} ms, p90 ${st.p90.toFixed(1)} ms, max ${st.max.toFixed(1)} ms`);
}
const m = stats(perSecondMs.plain).median;
console.log(`plain / deflated (median): ${(m / stats(perSecondMs.deflated).median).toFixed(2)}`);
console.log(`target ≤ 50 ms: ${m <= 50 ? 'reached' : 'NOT reached'} (median / target = ${(m / 50).toFixed(2)}; p90 / target = ${(stats(perSecondMs.plain).p90 / 50).toFixed(2)})`);

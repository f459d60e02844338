import { LatencyHistogram, RESULT_SCHEMA_VERSION, seededRandom, type ResolvedScenarioConfig, type RunResult, type TargetSample, type TimeseriesPoint, type TrafficSummary } from '@redline/core';
import type { FlameNode } from '@redline/doctor';

/** Knobs of a synthetic run. */
export interface SyntheticRunOptions {
  seed?: number;
  durationS?: number;
  /** Mean requests per second. */
  ratePerSec?: number;
  /** Median service time in ms. */
  medianMs?: number;
  /** Log-normal shape of service time. */
  sigma?: number;
  /** Multiplies every latency (1.1 = 10 % slower everywhere). */
  latencyScale?: number;
  errorRate?: number;
  names?: readonly string[];
  withTarget?: boolean;
  withFindings?: boolean;
  stages?: boolean;
  status?: RunResult['status'];
  generatorLimited?: boolean;
  scenarioName?: string;
  executor?: ResolvedScenarioConfig['executor'];
  /** A two-second stall in the middle (queueing: corrected latency far above service time). Default true. */
  stall?: boolean;
  /** Per-second request count varies (Poisson-like) when true; exactly `ratePerSec` otherwise. */
  jitterRate?: boolean;
}

function normal(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

function traffic(latency: LatencyHistogram, service: LatencyHistogram, requests: number, errors: number, errorsByKind: Record<string, number>, seconds: number): TrafficSummary {
  return { requests, errors, errorsByKind, throughput: seconds > 0 ? requests / seconds : 0, latency: latency.summary(), serviceTime: service.summary() };
}

/**
 * A realistic RunResult built by recording log-normal latencies into real HDR histograms, second by
 * second, with a short stall in the middle (so corrected latency and service time differ), optional
 * ramping stages, target samples and findings. Deterministic for a seed.
 */
export function syntheticRun(opts: SyntheticRunOptions = {}): RunResult {
  const seed = opts.seed ?? 1;
  const rand = seededRandom(seed);
  const durationS = opts.durationS ?? 60;
  const rate = opts.ratePerSec ?? 200;
  const medianMs = opts.medianMs ?? 12;
  const sigma = opts.sigma ?? 0.45;
  const scale = opts.latencyScale ?? 1;
  const errorRate = opts.errorRate ?? 0.002;
  const names = opts.names ?? ['GET /products', 'GET /products/:id', 'POST /cart'];
  const stages = opts.stages ? [{ durationMs: (durationS * 1000) / 3, target: rate / 2 }, { durationMs: (durationS * 1000) / 3, target: rate }, { durationMs: (durationS * 1000) / 3, target: rate }] : null;
  const latency = new LatencyHistogram();
  const service = new LatencyHistogram();
  const byName = new Map(names.map((n) => [n, { latency: new LatencyHistogram(), service: new LatencyHistogram(), requests: 0, errors: 0, kinds: {} as Record<string, number> }]));
  const timeseries: TimeseriesPoint[] = [];
  const intervals: string[] = [];
  const kinds: Record<string, number> = {};
  let total = 0;
  let totalErrors = 0;
  const stallStart = opts.stall === false ? Number.POSITIVE_INFINITY : Math.floor(durationS * 0.55);
  for (let s = 1; s <= durationS; s++) {
    const intended = stages ? (s <= durationS / 3 ? (rate / 2) * (s / (durationS / 3)) + rate / 4 : rate) : rate;
    const n = Math.max(1, Math.round(opts.jitterRate ? intended + Math.sqrt(intended) * normal(rand) : intended));
    const lat = new LatencyHistogram();
    const svc = new LatencyHistogram();
    let errs = 0;
    const secKinds: Record<string, number> = {};
    const stalled = s >= stallStart && s < stallStart + 2;
    for (let i = 0; i < n; i++) {
      const st = medianMs * scale * Math.exp(sigma * normal(rand));
      // A stall makes requests queue behind it: the corrected latency grows, service time does not.
      const queued = stalled ? rand() * 180 * scale : rand() < 0.01 ? rand() * 5 * scale : 0;
      const name = names[Math.floor(rand() * names.length)]!;
      const slot = byName.get(name)!;
      svc.recordMs(st);
      lat.recordMs(st + queued);
      slot.latency.recordMs(st + queued);
      slot.service.recordMs(st);
      slot.requests++;
      if (rand() < errorRate) {
        const kind = rand() < 0.7 ? 'http_5xx' : 'timeout';
        errs++;
        slot.errors++;
        slot.kinds[kind] = (slot.kinds[kind] ?? 0) + 1;
        secKinds[kind] = (secKinds[kind] ?? 0) + 1;
        kinds[kind] = (kinds[kind] ?? 0) + 1;
      }
    }
    latency.merge(lat);
    service.merge(svc);
    total += n;
    totalErrors += errs;
    const q = (hh: LatencyHistogram): { p50: number; p90: number; p99: number; max: number } => ({ p50: hh.percentileMs(50), p90: hh.percentileMs(90), p99: hh.percentileMs(99), max: hh.maxMs });
    const ls = q(lat);
    const ss = q(svc);
    timeseries.push({
      t: s,
      requests: n,
      errors: errs,
      errorsByKind: secKinds,
      latency: { p50: ls.p50, p90: ls.p90, p99: ls.p99, max: ls.max },
      serviceTime: { p50: ss.p50, p90: ss.p90, p99: ss.p99, max: ss.max },
      iterations: n,
      iterationsDropped: 0,
      vus: Math.max(1, Math.round((n * ls.p50) / 1000) + 2),
      intendedRate: Math.round(intended),
      scheduleLagMs: { p50: 0.05, p99: stalled ? 12 : 0.4 + rand() * 0.3, max: stalled ? 40 : 1.5 },
    });
    intervals.push(lat.encode());
  }
  const seconds = durationS;
  const summaryByName: Record<string, TrafficSummary> = {};
  for (const [n, slot] of byName) summaryByName[n] = traffic(slot.latency, slot.service, slot.requests, slot.errors, slot.kinds, seconds);
  const whole = traffic(latency, service, total, totalErrors, kinds, seconds);
  const samples: TargetSample[] = [];
  if (opts.withTarget ?? true) {
    for (let s = 1; s <= durationS; s++) {
      const stalled = s >= stallStart && s < stallStart + 2;
      const elu = Math.min(1, (stalled ? 0.97 : 0.45 + 0.1 * Math.sin(s / 7)) * scale + rand() * 0.04);
      const heap = (40 + s * 0.08 + 6 * Math.abs(Math.sin(s / 5))) * 1024 * 1024;
      samples.push({
        t: s,
        elu,
        loopDelayMs: { mean: stalled ? 60 : 1.2 + rand(), p50: stalled ? 40 : 1.1, p99: stalled ? 180 : 3 + rand() * 4, max: stalled ? 210 : 8 + rand() * 6 },
        gcShare: 0.02 + rand() * 0.02,
        gcPauses: { minor: { count: 4, totalMs: 6 }, major: { count: s % 10 === 0 ? 1 : 0, totalMs: s % 10 === 0 ? 12 : 0 } },
        heapUsedBytes: heap,
        heapTotalBytes: heap * 1.35,
        externalBytes: 3 * 1024 * 1024,
        rssBytes: heap * 1.9 + 60 * 1024 * 1024,
        heapAfterGcBytes: s % 10 === 0 ? heap * 0.7 : null,
        cpuUser: elu * 0.9,
        cpuSystem: 0.05 + rand() * 0.03,
        activeResources: { TCPSocketWrap: 64, Timeout: 3 },
      });
    }
  }
  const start = new Date(Date.UTC(2026, 10, 25, 6, 0, 0));
  const scenarioName = opts.scenarioName ?? 'browse';
  const executor = opts.executor ?? (stages ? 'ramping-arrival-rate' : 'constant-arrival-rate');
  const result: RunResult = {
    schemaVersion: RESULT_SCHEMA_VERSION,
    kind: 'run',
    id: `20261125-060000-${scenarioName}-${seed}`,
    name: `${scenarioName} (synthetic)`,
    status: opts.status ?? 'completed',
    startedAt: start.toISOString(),
    endedAt: new Date(start.getTime() + durationS * 1000).toISOString(),
    config: {
      name: scenarioName,
      source: '/work/examples/browse.ts',
      scenarios: [
        {
          name: scenarioName,
          executor,
          startMs: 0,
          tags: {},
          options: stages ? { startRate: rate / 4, timeUnitMs: 1000, stages, preAllocatedVUs: 20, maxVUs: 400 } : { rate, timeUnitMs: 1000, durationMs: durationS * 1000, preAllocatedVUs: 20, maxVUs: 400 },
          mode: 'static',
        },
      ],
      thresholds: { 'http.latency': ['p(99) < 80'], 'http.errors': ['rate < 0.01'] },
      workers: 2,
      timeoutMs: 10_000,
      gracefulStopMs: 30_000,
      tags: {},
    },
    environment: { redlineVersion: '0.1.0', node: 'v20.18.0', platform: 'linux', arch: 'x64', cpuModel: 'Synthetic CPU @ 3.0GHz', cpuCount: 2, totalMemoryBytes: 8 * 1024 ** 3, hostname: 'ci', workers: 2 },
    generator: {
      limited: opts.generatorLimited ?? false,
      reasons: opts.generatorLimited ? ['schedule lag p99 was 14 ms (limit 5 ms) in 12 % of seconds', 'generator event loop above 95 % for 8 s'] : [],
      scheduleLagMs: { p50: 0.05, p99: 0.7, max: 40 },
      eluMax: 0.62,
      eluMean: 0.31,
      cpuCoresMean: 0.55,
      seconds: [],
    },
    summary: {
      ...whole,
      durationMs: durationS * 1000,
      iterations: total,
      iterationsDropped: 0,
      iterationErrors: 0,
      dataSentBytes: total * 180,
      dataReceivedBytes: total * 2400,
      vusMax: Math.max(...timeseries.map((p) => p.vus)),
      byName: summaryByName,
      byStatusClass: { '2xx': traffic(latency, service, total - totalErrors, 0, {}, seconds) },
      byScenario: { [scenarioName]: { ...whole, iterations: total, iterationsDropped: 0 } },
      checks: { passes: total - totalErrors, fails: totalErrors, byName: { 'status is 200': { passes: total - totalErrors, fails: totalErrors } } },
    },
    thresholds: [
      { metric: 'http.latency', expression: 'p(99) < 80', ok: whole.latency!.p99 < 80, actual: whole.latency!.p99, abortOnFail: false },
      { metric: 'http.errors', expression: 'rate < 0.01', ok: totalErrors / total < 0.01, actual: totalErrors / total, abortOnFail: false },
    ],
    timeseries,
    histograms: {
      latency: latency.encode(),
      serviceTime: service.encode(),
      byName: Object.fromEntries([...byName].map(([n, slot]) => [n, { latency: slot.latency.encode(), serviceTime: slot.service.encode() }])),
      intervals,
    },
    target:
      samples.length === 0
        ? null
        : { command: 'node dist/server.js', attach: null, pid: 4242, samples, exit: null, profiles: {}, profileWindow: { startS: Math.floor(durationS * 0.2), endS: Math.floor(durationS * 0.9) } },
    findings: [],
  };
  if (opts.withFindings ?? true) {
    result.findings = [
      {
        category: 'event-loop-blocked',
        severity: 'high',
        confidence: 0.86,
        title: 'The event loop is blocked by synchronous work in renderProduct',
        window: { startS: Math.min(stallStart, durationS) - 1, endS: Math.min(stallStart, durationS) + 2 },
        evidence: [
          { metric: 'target.loop_delay.p99', value: 180, threshold: 50, comparison: '>', unit: 'ms' },
          { metric: 'target.elu', value: 0.97, threshold: 0.9, comparison: '>', unit: '' },
        ],
        frames: [
          { functionName: 'renderProduct', file: 'src/routes/products.ts', line: 42, column: 10, area: 'app', selfShare: 0.31, totalShare: 0.58 },
          { functionName: 'JSON.stringify', file: '', line: 0, column: 0, area: 'v8', selfShare: 0.12, totalShare: 0.12 },
        ],
        recommendation: 'Move the rendering of large product lists off the request path (cache the serialised result or stream it), or run it in a worker thread.',
      },
      {
        category: 'gc-pressure',
        severity: 'low',
        confidence: 0.55,
        title: 'Garbage collection takes 3 % of wall time',
        window: { startS: 0, endS: durationS },
        evidence: [{ metric: 'target.gc_share', value: 0.03, threshold: 0.05, comparison: '<', unit: '' }],
        frames: [],
        recommendation: 'No action needed at this load; watch allocation rate if traffic grows.',
      },
    ];
  }
  return result;
}

/** A hand-shaped call tree like a small HTTP service's profile (sample counts). */
export function serviceFlameTree(scale = 1): FlameNode {
  const node = (name: string, file: string, area: FlameNode['area'], self: number, children: FlameNode[] = [], kind: FlameNode['kind'] = 'function'): FlameNode => {
    const s = Math.round(self * scale);
    // Widest first, as ProfileModel.flameTree orders children.
    children.sort((a, b) => b.totalSamples - a.totalSamples);
    return { name, file, line: file ? 1 + (name.length * 7) % 120 : 0, column: 1, area, kind, selfSamples: s, totalSamples: s + children.reduce((a, c) => a + c.totalSamples, 0), children };
  };
  const handler = node('handleRequest', 'src/server.ts', 'app', 40, [
    node('renderProduct', 'src/routes/products.ts', 'app', 900, [
      node('JSON.stringify', '', 'v8', 700),
      node('formatPrice', 'src/format/price.ts', 'app', 160, [node('Intl.NumberFormat', '', 'v8', 120)]),
      node('template', 'node_modules/eta/dist/eta.js', 'dependency', 240, [node('compile', 'node_modules/eta/dist/eta.js', 'dependency', 90)]),
    ]),
    node('getCart', 'src/routes/cart.ts', 'app', 120, [node('query', 'node_modules/pg/lib/client.js', 'dependency', 80, [node('Socket.write', 'node:net', 'node', 60)])]),
    node('parseBody', 'node_modules/body-parser/lib/read.js', 'dependency', 70),
  ]);
  return node('(root)', '', 'v8', 0, [
    node('(idle)', '', 'v8', 1800, [], 'idle'),
    node('processTicksAndRejections', 'node:internal/process/task_queues', 'node', 30, [handler]),
    node('(garbage collector)', '', 'v8', 210, [], 'gc'),
    node('(program)', '', 'v8', 150, [], 'program'),
    node('listOnTimeout', 'node:internal/timers', 'node', 20, [node('flushMetrics', 'src/metrics.ts', 'app', 45)]),
  ], 'root');
}

/** A large random call tree (for size tests): about `nodeCount` nodes, deep and bushy, deterministic. */
export function randomFlameTree(nodeCount: number, seed = 7): FlameNode {
  const rand = seededRandom(seed);
  const areas: FlameNode['area'][] = ['app', 'dependency', 'node', 'v8'];
  const root: FlameNode = { name: '(root)', file: '', line: 0, column: 0, area: 'v8', kind: 'root', selfSamples: 0, totalSamples: 0, children: [] };
  const all: FlameNode[] = [root];
  for (let i = 1; i < nodeCount; i++) {
    // Prefer recent nodes as parents, so the tree gets deep as well as wide.
    const parent = all[Math.max(0, all.length - 1 - Math.floor(rand() ** 3 * all.length))]!;
    const area = areas[Math.floor(rand() * areas.length)]!;
    const child: FlameNode = {
      name: `fn_${i.toString(36)}_${['handle', 'parse', 'render', 'query', 'encode', 'hash'][i % 6]}`,
      file: area === 'v8' ? '' : area === 'node' ? `node:internal/mod${i % 40}` : area === 'dependency' ? `node_modules/dep${i % 90}/lib/index${i % 7}.js` : `src/module${i % 200}/file${i % 13}.ts`,
      line: 1 + Math.floor(rand() * 400),
      column: 1,
      area,
      kind: 'function',
      selfSamples: Math.floor(rand() ** 4 * 40),
      totalSamples: 0,
      children: [],
    };
    parent.children.push(child);
    all.push(child);
  }
  const finish = (n: FlameNode): number => {
    n.totalSamples = n.selfSamples + n.children.reduce((a, c) => a + finish(c), 0);
    n.children.sort((a, b) => b.totalSamples - a.totalSamples);
    return n.totalSamples;
  };
  // Iterative finish would be safer, but this tree's depth stays far below the stack limit.
  finish(root);
  return root;
}

/**
 * A V8 `.cpuprofile` whose samples reproduce `tree` (one sample per self sample, 1 ms apart), with
 * `file:///srv/app/...` URLs for application and dependency frames and `node:` URLs for Node internals.
 */
export function cpuProfileFromTree(tree: FlameNode, seed = 3): { nodes: unknown[]; startTime: number; endTime: number; samples: number[]; timeDeltas: number[] } {
  const rand = seededRandom(seed);
  const nodes: { id: number; callFrame: { functionName: string; scriptId: string; url: string; lineNumber: number; columnNumber: number }; children: number[] }[] = [];
  const pool: number[] = [];
  let nextId = 1;
  const todo: { n: FlameNode; parent: number | null }[] = [{ n: tree, parent: null }];
  while (todo.length > 0) {
    const { n, parent } = todo.pop()!;
    const id = nextId++;
    const url = n.area === 'v8' || n.file === '' ? '' : n.area === 'node' ? (n.file.startsWith('node:') ? n.file : `node:${n.file}`) : `file:///srv/app/${n.file}`;
    nodes.push({ id, callFrame: { functionName: n.name === '(root)' ? '(root)' : n.name, scriptId: String(id), url, lineNumber: Math.max(0, n.line - 1), columnNumber: Math.max(0, n.column - 1) }, children: [] });
    if (parent !== null) nodes.find((x) => x.id === parent)!.children.push(id);
    for (let i = 0; i < n.selfSamples; i++) pool.push(id);
    for (const c of n.children) todo.push({ n: c, parent: id });
  }
  // Shuffle so samples of one function are spread over the profile as in a real run.
  for (let i = pool.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  const startTime = 1_000_000;
  return { nodes, startTime, endTime: startTime + pool.length * 1000, samples: pool, timeDeltas: pool.map(() => 1000) };
}

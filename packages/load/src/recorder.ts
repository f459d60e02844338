import { LatencyHistogram } from '@redline/core';
import type { CustomMetricSnapshot } from './custom-metrics.js';
import { grpcErrorKind } from './transports/grpc-status.js';
import type { WsCounters } from './script-ws.js';
import type { CacheSnapshot } from './cache-recorder.js';
import type { Exchange } from './transports/transport.js';

/** Counters and histograms for one slice of traffic within one interval. */
class Slice {
  readonly latency = new LatencyHistogram();
  readonly service = new LatencyHistogram();
  requests = 0;
  errors = 0;
  errorsByKind: Record<string, number> = {};
  touched = false;
  /** True once a leaf with late starts was absorbed this interval; until then `latency` stays empty and equals `service`. */
  delayed = false;
  /** The first leaf absorbed this interval, and how many were: a slice of one leaf has that leaf's histograms. */
  firstLeaf: Leaf | null = null;
  leafCount = 0;
  /** Leaves recorded under this slice as their request-name slice, by scenario slice (or scenario × group key), by status index. */
  readonly leaves = new Map<object, Array<Leaf | undefined>>();
  /** On a scenario slice: the leaf key of each group slice seen with it. */
  groupKeys: Map<Slice, object> | null = null;

  reset(): void {
    if (!this.touched) return;
    if (this.delayed) this.latency.reset();
    this.service.reset();
    this.requests = 0;
    this.errors = 0;
    this.errorsByKind = {};
    this.touched = false;
    this.delayed = false;
    this.firstLeaf = null;
    this.leafCount = 0;
  }

  /** Adds a leaf's counts and histograms (lossless HDR merge). */
  absorb(leaf: Leaf): void {
    this.touched = true;
    if (this.leafCount++ === 0) this.firstLeaf = leaf;
    this.requests += leaf.requests;
    if (leaf.errors > 0) {
      this.errors += leaf.errors;
      for (const k in leaf.errorsByKind) this.errorsByKind[k] = (this.errorsByKind[k] ?? 0) + leaf.errorsByKind[k]!;
    }
    if (leaf.delayed && !this.delayed) {
      this.delayed = true;
      this.latency.merge(this.service);
    }
    this.service.merge(leaf.service);
    if (this.delayed) this.latency.merge(leaf.delayed ? leaf.latency : leaf.service);
  }

  /** The interval's histograms encoded; the latency encoding is the service one when no exchange started late. */
  encode(): { latency: string; service: string } {
    // Plain (uncompressed) encodings: the runner, or a distributed run's coordinator, reads every one
    // of them each second, and inflating them cost it more CPU than the bytes saved.
    const service = this.service.encodePlain();
    return { latency: this.delayed ? this.latency.encodePlain() : service, service };
  }
}

/**
 * Traffic of one (request name, scenario, status class) combination within one interval. The hot
 * path records each exchange into exactly one leaf (one or two histogram records instead of eight);
 * the `all`, `name:`, `scenario:` and `status:` slices are filled from the leaves once per interval.
 */
class Leaf {
  readonly service = new LatencyHistogram();
  readonly latency = new LatencyHistogram();
  /**
   * False while every exchange started on time (closed models): latency equals service time, so
   * only `service` is recorded. The first late start copies `service` into `latency` and from then
   * on both are recorded.
   */
  delayed = false;
  requests = 0;
  errors = 0;
  errorsByKind: Record<string, number> = {};
  touched = false;
  readonly name: Slice;
  readonly scenario: Slice;
  readonly status: Slice;
  /** The `group:<path>` slice of requests made inside a group, else null. */
  readonly group: Slice | null;

  constructor(name: Slice, scenario: Slice, status: Slice, group: Slice | null) {
    this.name = name;
    this.scenario = scenario;
    this.status = status;
    this.group = group;
  }

  reset(): void {
    this.service.reset();
    if (this.delayed) this.latency.reset();
    this.delayed = false;
    this.requests = 0;
    if (this.errors > 0) this.errorsByKind = {};
    this.errors = 0;
    this.touched = false;
  }
}

/** One slice of an interval snapshot as sent from a worker to the runner. */
export interface SliceSnapshot {
  /** Corrected latency (µs), `LatencyHistogram.encodePlain()`; read with `mergeEncoded` or `decode`. */
  latency: string;
  /** Service time (µs), encoded the same way. */
  service: string;
  requests: number;
  errors: number;
  errorsByKind: Record<string, number>;
}

/** Everything one worker measured in one interval (one second of the run, or the last partial one). */
export interface IntervalSnapshot {
  /** 1-based second of the run this interval closes. */
  index: number;
  worker: number;
  /** Keys: `all`, `name:<request name>`, `status:<2xx|3xx|4xx|5xx|error>`, `scenario:<name>`, `group:<::path>`. */
  slices: Record<string, SliceSnapshot>;
  iterations: Record<string, number>;
  dropped: Record<string, number>;
  iterationErrors: Record<string, number>;
  /** Iterations whose intended start fell in this interval (open models only). */
  intended: number;
  hasOpenModel: boolean;
  checks: Record<string, [passes: number, fails: number]>;
  bytesSent: number;
  bytesReceived: number;
  vus: number;
  vusMax: number;
  /** Encoded histogram of schedule lag (µs) for open-model iterations. */
  lag: string | null;
  lagCount: number;
  /** This worker's event-loop utilisation over the interval (0–1). */
  elu: number;
  /** Mean number of requests in flight over the interval (sampled every 10 ms). */
  inFlight: number;
  /** First iteration-error message seen in the interval, for the user. */
  firstIterationError: string | null;
  /** Encoded histograms of the request phases (`dns`, `connect`, `tls`, `waiting`, `receiving`), when any request got a response. */
  timings?: Record<string, string>;
  /** This worker's HTTP/2 counters since the run started (cumulative), when it used HTTP/2. */
  http2?: { goaways: number; streamLimitWaits: number; refusedStreams: number; sessions: number };
  /** Encoded histograms (µs) of group durations by group path, when a group finished in the interval. */
  groups?: Record<string, string>;
  /** Custom metrics that got a value in the interval. */
  custom?: Record<string, CustomMetricSnapshot>;
  /** gRPC calls of this interval by status name (`OK`, `NOT_FOUND`, ...), when any got a status. */
  grpc?: Record<string, number>;
  /** WebSocket events of this interval, when any happened. */
  ws?: WsCounters;
  /** Scripted responses whose Content-Encoding was decoded in the interval: count, body bytes on the wire and decoded. */
  compression?: { responses: number; wireBytes: number; decodedBytes: number };
  /** Cache verdicts of the interval, when any response carried a cache header (cache-recorder.ts). */
  cache?: CacheSnapshot;
}

const STATUS_KEYS = ['status:error', 'status:1xx', 'status:2xx', 'status:3xx', 'status:4xx', 'status:5xx'] as const;

/**
 * Records exchanges into per-interval histograms. Never keeps raw samples: memory depends on the
 * number of distinct request names, not on the request count or the run length.
 */
export class IntervalRecorder {
  readonly #slices = new Map<string, Slice>();
  readonly #all: Slice;
  readonly #status: Slice[];
  readonly #leaves: Leaf[] = [];
  iterations: Record<string, number> = {};
  dropped: Record<string, number> = {};
  iterationErrors: Record<string, number> = {};
  checks: Record<string, [number, number]> = {};
  intended = 0;
  bytesSent = 0;
  bytesReceived = 0;
  readonly lag = new LatencyHistogram();
  firstIterationError: string | null = null;
  readonly #groupDurations = new Map<string, LatencyHistogram>();
  /** Request timeout, so timed-out exchanges record a latency of at least the timeout. */
  readonly #maxNames: number;

  constructor(maxNames = 1000) {
    this.#maxNames = maxNames;
    this.#all = this.slice('all');
    this.#status = STATUS_KEYS.map((k) => this.slice(k));
  }

  /** The slice for a key, created on first use. Distinct request names are bounded by `maxNames`. */
  slice(key: string): Slice {
    let s = this.#slices.get(key);
    if (!s) {
      if (this.#slices.size >= this.#maxNames && key.startsWith('name:')) return this.slice('name:(other)');
      if (this.#slices.size >= this.#maxNames && key.startsWith('group:')) return this.slice('group:(other)');
      s = new Slice();
      this.#slices.set(key, s);
    }
    return s;
  }

  /**
   * Records one finished exchange.
   * @param startDelayMs how late the iteration started versus its intended time (open models), added
   *   to the service time to get the coordinated-omission-corrected latency.
   */
  recordExchange(nameSlice: Slice, scenarioSlice: Slice, ex: Exchange, startedAt: number, startDelayMs: number, groupSlice: Slice | null = null): void {
    this.bytesSent += ex.bytesSent;
    this.bytesReceived += ex.bytesReceived;
    const status = ex.status;
    const error = ex.error;
    // A gRPC call that ended with a non-OK status is an error with a latency (like an HTTP 5xx).
    const grpc = ex.grpcStatus !== undefined && ex.grpcStatus > 0 ? ex.grpcStatus : 0;
    let statusIndex = error || grpc ? 0 : (status / 100) | 0;
    if (statusIndex > 5) statusIndex = 0;
    const leaf = this.#leaf(nameSlice, scenarioSlice, statusIndex, groupSlice);
    leaf.touched = true;
    leaf.requests++;
    const kind = error ?? (grpc ? grpcErrorKind(grpc) : status >= 500 ? 'http_5xx' : status >= 400 ? 'http_4xx' : null);
    if (kind) {
      leaf.errors++;
      leaf.errorsByKind[kind] = (leaf.errorsByKind[kind] ?? 0) + 1;
    }
    // Failures before any response have no meaningful latency, except timeouts: those took at
    // least the timeout, and dropping them would flatter the tail.
    if (error === null || error === 'timeout') {
      const serviceUs = (ex.endedAt - startedAt) * 1000;
      if (startDelayMs > 0 && !leaf.delayed) {
        leaf.delayed = true;
        leaf.latency.reset();
        leaf.latency.merge(leaf.service);
      }
      leaf.service.recordUs(serviceUs);
      if (leaf.delayed) leaf.latency.recordUs(serviceUs + startDelayMs * 1000);
    }
  }

  #leaf(nameSlice: Slice, scenarioSlice: Slice, statusIndex: number, groupSlice: Slice | null): Leaf {
    // Requests outside a group (the fast path) key their leaves by the scenario slice alone.
    let key: object = scenarioSlice;
    if (groupSlice) {
      const keys = (scenarioSlice.groupKeys ??= new Map());
      let k = keys.get(groupSlice);
      if (!k) keys.set(groupSlice, (k = {}));
      key = k;
    }
    let byStatus = nameSlice.leaves.get(key);
    if (!byStatus) {
      byStatus = [];
      nameSlice.leaves.set(key, byStatus);
    }
    let leaf = byStatus[statusIndex];
    if (!leaf) {
      leaf = new Leaf(nameSlice, scenarioSlice, this.#status[statusIndex]!, groupSlice);
      byStatus[statusIndex] = leaf;
      this.#leaves.push(leaf);
    }
    return leaf;
  }

  /** Counts a finished iteration for a scenario. */
  countIteration(scenario: string, failed: boolean, message?: string): void {
    this.iterations[scenario] = (this.iterations[scenario] ?? 0) + 1;
    if (failed) {
      this.iterationErrors[scenario] = (this.iterationErrors[scenario] ?? 0) + 1;
      if (this.firstIterationError === null && message) this.firstIterationError = message.slice(0, 500);
    }
  }

  /** Counts an open-model iteration that could not start because every VU was busy (maxVUs). */
  countDropped(scenario: string): void {
    this.dropped[scenario] = (this.dropped[scenario] ?? 0) + 1;
  }

  /** Records how long one call of a group took (ms). Distinct group paths are bounded like request names. */
  recordGroup(path: string, durationMs: number): void {
    let h = this.#groupDurations.get(path);
    if (!h) {
      if (this.#groupDurations.size >= this.#maxNames && path !== '(other)') return this.recordGroup('(other)', durationMs);
      this.#groupDurations.set(path, (h = new LatencyHistogram()));
    }
    h.recordMs(durationMs);
  }

  /** Counts a check outcome. */
  countCheck(name: string, ok: boolean): void {
    const c = (this.checks[name] ??= [0, 0]);
    if (ok) c[0]++;
    else c[1]++;
  }

  /** Encodes the interval and clears it for the next one. */
  snapshot(index: number, worker: number, extra: { vus: number; vusMax: number; elu: number; hasOpenModel: boolean; inFlight: number }): IntervalSnapshot {
    for (const leaf of this.#leaves) {
      if (!leaf.touched) continue;
      this.#all.absorb(leaf);
      leaf.name.absorb(leaf);
      leaf.scenario.absorb(leaf);
      leaf.status.absorb(leaf);
      leaf.group?.absorb(leaf);
      leaf.reset();
    }
    const slices: Record<string, SliceSnapshot> = {};
    // Slices made of one leaf hold the same histograms (one request name: `all`, its name, its
    // scenario and its status class): encoded once.
    const byLeaf = new Map<Leaf, { latency: string; service: string }>();
    for (const [key, s] of this.#slices) {
      if (!s.touched) continue;
      let encoded = s.leafCount === 1 ? byLeaf.get(s.firstLeaf!) : undefined;
      if (!encoded) {
        encoded = s.encode();
        if (s.leafCount === 1) byLeaf.set(s.firstLeaf!, encoded);
      }
      slices[key] = { latency: encoded.latency, service: encoded.service, requests: s.requests, errors: s.errors, errorsByKind: s.errorsByKind };
      s.reset();
    }
    const snap: IntervalSnapshot = {
      index,
      worker,
      slices,
      iterations: this.iterations,
      dropped: this.dropped,
      iterationErrors: this.iterationErrors,
      intended: this.intended,
      hasOpenModel: extra.hasOpenModel,
      checks: this.checks,
      bytesSent: this.bytesSent,
      bytesReceived: this.bytesReceived,
      vus: extra.vus,
      vusMax: extra.vusMax,
      lag: this.lag.count > 0 ? this.lag.encodePlain() : null,
      lagCount: this.lag.count,
      elu: extra.elu,
      inFlight: extra.inFlight,
      firstIterationError: this.firstIterationError,
    };
    this.iterations = {};
    this.dropped = {};
    this.iterationErrors = {};
    this.checks = {};
    this.intended = 0;
    this.bytesSent = 0;
    this.bytesReceived = 0;
    this.lag.reset();
    this.firstIterationError = null;
    if (this.#groupDurations.size) {
      const groups: Record<string, string> = {};
      for (const [path, h] of this.#groupDurations) if (h.count > 0) groups[path] = h.encode();
      this.#groupDurations.clear();
      snap.groups = groups;
    }
    return snap;
  }
}

export type { Slice };

import { hostname } from 'node:os';
import type { RunResult } from '@redline/core';
import { REDLINE_VERSION } from '@redline/load';
import { HttpWriteError, outputUrl, postBody, releaseConnections } from './http-post.js';
import { NativeHistogram } from './native-histogram.js';
import { ProtoWriter } from './protobuf.js';
import { snappyCompress } from './snappy.js';
import type { Output, OutputFactory, OutputSecond, OutputStart } from './types.js';

/** Classic-histogram bounds (seconds) used when the server takes no native histograms. */
export const CLASSIC_BOUNDS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const;

/** Metric names written (documented in docs/outputs.md). */
export const PROM_METRICS = {
  requests: 'redline_http_requests_total',
  errors: 'redline_http_errors_total',
  dropped: 'redline_iterations_dropped_total',
  vus: 'redline_vus',
  inFlight: 'redline_http_requests_in_flight',
  p99: 'redline_http_latency_p99_seconds',
  latency: 'redline_http_latency_seconds',
} as const;

type Labels = Array<[string, string]>;

interface Series {
  labels: Labels;
  value?: number;
  histogram?: NativeHistogram;
}

function label(w: ProtoWriter, name: string, value: string): void {
  w.message(1, new ProtoWriter().string(1, name).string(2, value));
}

/** One prompb.Histogram (integer counts, delta-encoded positive buckets). */
function encodeHistogram(h: NativeHistogram, tsMs: number): ProtoWriter {
  const w = new ProtoWriter().uint(1, h.count).double(3, h.sum).sint(4, h.schema).double(5, 1e-9).uint(6, h.zeroCount);
  const { spans, counts } = h.spans();
  for (const s of spans) w.message(11, new ProtoWriter().sint(1, s.offset).uint(2, s.length));
  let prev = 0;
  w.packedSint(
    12,
    counts.map((c) => {
      const d = c - prev;
      prev = c;
      return d;
    }),
  );
  return w.uint(15, tsMs);
}

/** Encodes a prompb.WriteRequest: one sample (or native histogram) per series at `tsMs`. */
export function encodeWriteRequest(series: readonly Series[], tsMs: number): Uint8Array {
  const req = new ProtoWriter();
  for (const s of series) {
    const ts = new ProtoWriter();
    // Labels sorted by name, as the remote-write spec asks.
    for (const [n, v] of [...s.labels].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) label(ts, n, v);
    if (s.histogram) ts.message(4, encodeHistogram(s.histogram, tsMs));
    else ts.message(2, new ProtoWriter().double(1, s.value ?? 0).uint(2, tsMs));
    req.message(1, ts);
  }
  return req.finish();
}

/**
 * Prometheus remote-write (protobuf + snappy). Counters are cumulative over the run; latency is a
 * native histogram (so percentiles combine across instances with `histogram_quantile`), or classic
 * `_bucket`/`_sum`/`_count` series once the server has refused a native one.
 */
class PrometheusOutput implements Output {
  readonly label: string;
  readonly #url: string;
  readonly #headers: Record<string, string>;
  #mode: 'native' | 'classic' = 'native';
  #base: Labels = [['job', 'redline']];
  readonly #native = new NativeHistogram();
  readonly #classic = new Array<number>(CLASSIC_BOUNDS_S.length + 1).fill(0);
  #classicSum = 0;
  #dropped = 0;
  #lastAt = 0;
  #chain: Promise<void> = Promise.resolve();

  constructor(arg: string, env: Record<string, string | undefined>) {
    const { url, label } = outputUrl('prometheus', arg);
    this.label = label;
    this.#headers = {
      'content-type': 'application/x-protobuf',
      'content-encoding': 'snappy',
      'x-prometheus-remote-write-version': '0.1.0',
      'user-agent': `redline/${REDLINE_VERSION}`,
    };
    if (url.username || url.password) {
      this.#headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
      url.username = '';
      url.password = '';
    }
    const forced = env.REDLINE_PROMETHEUS_HISTOGRAMS;
    if (forced === 'classic') this.#mode = 'classic';
    this.#url = url.href;
  }

  /** `native` until the server refuses a native histogram, then `classic`. */
  get histogramMode(): 'native' | 'classic' {
    return this.#mode;
  }

  start(info: OutputStart): void {
    this.#base = [
      ['job', 'redline'],
      ['instance', hostname()],
      ['run_id', info.runId],
      ['name', info.name],
    ];
  }

  #addLatency(buckets: ReadonlyArray<readonly [number, number]>): void {
    this.#native.addBuckets(buckets);
    for (const [ms, n] of buckets) {
      const s = ms / 1000;
      this.#classicSum += s * n;
      let i = CLASSIC_BOUNDS_S.findIndex((b) => s <= b);
      if (i < 0) i = CLASSIC_BOUNDS_S.length;
      this.#classic[i]! += n;
    }
  }

  #series(s: OutputSecond): Series[] {
    const p = s.status.point;
    const m = (name: string, extra: Labels = []): Labels => [['__name__', name], ...this.#base, ...extra];
    const out: Series[] = [
      { labels: m(PROM_METRICS.requests), value: s.status.totalRequests },
      { labels: m(PROM_METRICS.errors), value: s.status.totalErrors },
      { labels: m(PROM_METRICS.dropped), value: this.#dropped },
      { labels: m(PROM_METRICS.vus), value: p.vus },
      { labels: m(PROM_METRICS.inFlight), value: p.inFlight ?? 0 },
    ];
    if (p.latency !== null) out.push({ labels: m(PROM_METRICS.p99), value: p.latency.p99 / 1000 });
    if (this.#mode === 'native') {
      out.push({ labels: m(PROM_METRICS.latency), histogram: this.#native });
    } else {
      let cum = 0;
      CLASSIC_BOUNDS_S.forEach((b, i) => {
        cum += this.#classic[i]!;
        out.push({ labels: m(`${PROM_METRICS.latency}_bucket`, [['le', String(b)]]), value: cum });
      });
      cum += this.#classic[CLASSIC_BOUNDS_S.length]!;
      out.push({ labels: m(`${PROM_METRICS.latency}_bucket`, [['le', '+Inf']]), value: cum });
      out.push({ labels: m(`${PROM_METRICS.latency}_count`), value: cum });
      out.push({ labels: m(`${PROM_METRICS.latency}_sum`), value: this.#classicSum });
    }
    return out;
  }

  second(s: OutputSecond): Promise<void> {
    this.#addLatency(s.latencyBuckets());
    this.#dropped += s.status.point.iterationsDropped;
    // Remote-write samples of one series must move forward in time, so writes go one after another.
    const at = Math.max(s.atMs, this.#lastAt + 1);
    this.#lastAt = at;
    const body = this.#encode(s, at);
    const p = this.#chain.then(() => this.#send(body, s, at));
    this.#chain = p.catch(() => undefined);
    return p;
  }

  #encode(s: OutputSecond, at: number): Uint8Array {
    return snappyCompress(encodeWriteRequest(this.#series(s), at));
  }

  async #send(body: Uint8Array, s: OutputSecond, at: number): Promise<void> {
    try {
      await postBody(this.#url, body, this.#headers);
    } catch (err) {
      // A server without native histograms refuses them: fall back to classic buckets for good.
      if (this.#mode === 'native' && err instanceof HttpWriteError && err.status >= 400 && /histogram/i.test(err.message)) {
        this.#mode = 'classic';
        await postBody(this.#url, this.#encode(s, at), this.#headers);
        return;
      }
      throw err;
    }
  }

  end(_result: RunResult): Promise<void> {
    return Promise.resolve();
  }
  async close(): Promise<void> {
    await this.#chain;
    releaseConnections();
  }
}

/** `--output prometheus=URL` (a remote-write endpoint such as `http://127.0.0.1:9090/api/v1/write`). */
export const prometheusOutput: OutputFactory = (arg, ctx) => new PrometheusOutput(arg, ctx.env);

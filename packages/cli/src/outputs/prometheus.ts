import { hostname } from 'node:os';
import { REDLINE_VERSION } from '@redline/load';
import { HttpWriteError, outputUrl, postBody, releaseConnections } from './http-post.js';
import { IndexLookup, prefillLookups, type HdrWalk } from './hdr-buckets.js';
import { NativeHistogram, nativeLookup } from './native-histogram.js';
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

/** Classic bucket of each HDR bucket (the first bound at or above its value; the last is +Inf). */
const CLASSIC_INDEX = new IndexLookup((us) => {
  const s = us / 1000 / 1000;
  const i = CLASSIC_BOUNDS_S.findIndex((b) => s <= b);
  return i < 0 ? CLASSIC_BOUNDS_S.length : i;
});

type Labels = Array<[string, string]>;

interface Series {
  labels: Labels;
  value?: number;
  histogram?: NativeHistogram;
  /** Set by the output: the same key means the same labels, whose encoding is then reused. */
  key?: string;
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

/** A series' labels as prompb.Label fields, sorted by name as the remote-write spec asks. */
function encodeLabels(labels: Labels): Uint8Array {
  const w = new ProtoWriter();
  for (const [n, v] of [...labels].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) label(w, n, v);
  return w.finish();
}

/**
 * Encodes a prompb.WriteRequest: one sample (or native histogram) per series at `tsMs`. With a
 * `labelCache`, a series with a `key` encodes its labels once for the run, not every second.
 */
export function encodeWriteRequest(series: readonly Series[], tsMs: number, labelCache?: Map<string, Uint8Array>): Uint8Array {
  const req = new ProtoWriter();
  for (const s of series) {
    const ts = new ProtoWriter();
    let labels = s.key !== undefined ? labelCache?.get(s.key) : undefined;
    if (!labels) {
      labels = encodeLabels(s.labels);
      if (s.key !== undefined) labelCache?.set(s.key, labels);
    }
    ts.append(labels);
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
  /** Encoded labels by series key (the labels change only at `start`). */
  readonly #labelCache = new Map<string, Uint8Array>();

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

  /** Fills the bucket lookups before any load (a few ms once, instead of in the run's first seconds). */
  open(): Promise<void> {
    prefillLookups(nativeLookup(this.#native.schema), CLASSIC_INDEX);
    return Promise.resolve();
  }

  /** `native` until the server refuses a native histogram, then `classic`. */
  get histogramMode(): 'native' | 'classic' {
    return this.#mode;
  }

  start(info: OutputStart): void {
    this.#labelCache.clear();
    this.#base = [
      ['job', 'redline'],
      ['instance', hostname()],
      ['run_id', info.runId],
      ['name', info.name],
    ];
  }

  #addLatency(w: HdrWalk): void {
    this.#native.addWalk(w);
    for (let k = 0; k < w.length; k++) {
      const n = w.count[k]!;
      this.#classicSum += (w.us[k]! / 1000 / 1000) * n;
      this.#classic[CLASSIC_INDEX.at(w.index[k]!, w.us[k]!)]! += n;
    }
  }

  #series(s: OutputSecond): Series[] {
    const p = s.status.point;
    // The key names the labels (the base labels are the run's): their encoding is made once.
    const m = (name: string, extra: Labels = []): Pick<Series, 'labels' | 'key'> => ({ labels: [['__name__', name], ...this.#base, ...extra], key: extra.length ? `${name}{${extra[0]![1]}}` : name });
    const out: Series[] = [
      { ...m(PROM_METRICS.requests), value: s.status.totalRequests },
      { ...m(PROM_METRICS.errors), value: s.status.totalErrors },
      { ...m(PROM_METRICS.dropped), value: this.#dropped },
      { ...m(PROM_METRICS.vus), value: p.vus },
      { ...m(PROM_METRICS.inFlight), value: p.inFlight ?? 0 },
    ];
    if (p.latency !== null) out.push({ ...m(PROM_METRICS.p99), value: p.latency.p99 / 1000 });
    if (this.#mode === 'native') {
      out.push({ ...m(PROM_METRICS.latency), histogram: this.#native });
    } else {
      let cum = 0;
      CLASSIC_BOUNDS_S.forEach((b, i) => {
        cum += this.#classic[i]!;
        out.push({ ...m(`${PROM_METRICS.latency}_bucket`, [['le', String(b)]]), value: cum });
      });
      cum += this.#classic[CLASSIC_BOUNDS_S.length]!;
      out.push({ ...m(`${PROM_METRICS.latency}_bucket`, [['le', '+Inf']]), value: cum });
      out.push({ ...m(`${PROM_METRICS.latency}_count`), value: cum });
      out.push({ ...m(`${PROM_METRICS.latency}_sum`), value: this.#classicSum });
    }
    return out;
  }

  second(s: OutputSecond): Promise<void> {
    this.#addLatency(s.latencyWalk());
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
    return snappyCompress(encodeWriteRequest(this.#series(s), at, this.#labelCache));
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

  async close(): Promise<void> {
    await this.#chain;
    releaseConnections();
  }
}

/** `--output prometheus=URL` (a remote-write endpoint such as `http://127.0.0.1:9090/api/v1/write`). */
export const prometheusOutput: OutputFactory = (arg, ctx) => new PrometheusOutput(arg, ctx.env);

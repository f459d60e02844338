import { hostname } from 'node:os';
import { REDLINE_VERSION } from '@redline/load';
import { outputUrl, postBody, releaseConnections } from './http-post.js';
import { prefillLookups } from './hdr-buckets.js';
import { NativeHistogram, nativeLookup } from './native-histogram.js';
import type { Output, OutputFactory, OutputSecond, OutputStart } from './types.js';

type Attr = { key: string; value: { stringValue: string } };
const attr = (key: string, value: string): Attr => ({ key, value: { stringValue: value } });
const nanos = (ms: number): string => (BigInt(Math.round(ms)) * 1_000_000n).toString();

/**
 * OTLP metrics over HTTP with the JSON encoding (`POST …/v1/metrics`): cumulative sums for requests
 * and errors, gauges for VUs and in-flight requests, and latency as an exponential histogram (the
 * same buckets as the Prometheus native histogram: OTLP bucket i is Prometheus bucket i + 1).
 */
class OtlpOutput implements Output {
  readonly label: string;
  readonly #url: string;
  readonly #hist = new NativeHistogram();
  #resource: Attr[] = [attr('service.name', 'redline')];
  #startMs = 0;
  #chain: Promise<void> = Promise.resolve();

  constructor(arg: string) {
    const { url, label } = outputUrl('otlp', arg);
    if (url.pathname === '/' || url.pathname === '') url.pathname = '/v1/metrics';
    this.label = label;
    this.#url = url.href;
  }

  /** Fills the bucket lookup before any load (see `prefillLookups`). */
  open(): Promise<void> {
    prefillLookups(nativeLookup(this.#hist.schema));
    return Promise.resolve();
  }

  start(info: OutputStart): void {
    this.#resource = [attr('service.name', 'redline'), attr('service.instance.id', hostname()), attr('redline.run_id', info.runId), attr('redline.name', info.name)];
  }

  /** The ExportMetricsServiceRequest of one second, as OTLP/JSON. */
  body(s: OutputSecond): Record<string, unknown> {
    if (this.#startMs === 0) this.#startMs = s.atMs - 1000;
    this.#hist.addWalk(s.latencyWalk());
    const start = nanos(this.#startMs);
    const time = nanos(s.atMs);
    const sum = (name: string, unit: string, v: number): Record<string, unknown> => ({
      name,
      unit,
      sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints: [{ startTimeUnixNano: start, timeUnixNano: time, asInt: String(v) }] },
    });
    const gauge = (name: string, unit: string, v: number): Record<string, unknown> => ({ name, unit, gauge: { dataPoints: [{ timeUnixNano: time, asDouble: v }] } });
    const dense = this.#hist.dense();
    const p = s.status.point;
    return {
      resourceMetrics: [
        {
          resource: { attributes: this.#resource },
          scopeMetrics: [
            {
              scope: { name: 'redline', version: REDLINE_VERSION },
              metrics: [
                sum('http.requests', '{request}', s.status.totalRequests),
                sum('http.errors', '{request}', s.status.totalErrors),
                gauge('vus', '{vu}', p.vus),
                gauge('http.requests.in_flight', '{request}', p.inFlight ?? 0),
                {
                  name: 'http.latency',
                  unit: 's',
                  exponentialHistogram: {
                    aggregationTemporality: 2,
                    dataPoints: [
                      {
                        startTimeUnixNano: start,
                        timeUnixNano: time,
                        count: String(this.#hist.count),
                        sum: this.#hist.sum,
                        scale: this.#hist.schema,
                        zeroCount: String(this.#hist.zeroCount),
                        positive: dense ? { offset: dense.firstIndex - 1, bucketCounts: dense.counts.map(String) } : { offset: 0, bucketCounts: [] },
                      },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
    };
  }

  second(s: OutputSecond): Promise<void> {
    const text = JSON.stringify(this.body(s));
    const p = this.#chain.then(() => postBody(this.#url, text, { 'content-type': 'application/json', 'user-agent': `redline/${REDLINE_VERSION}` }));
    this.#chain = p.catch(() => undefined);
    return p;
  }
  async close(): Promise<void> {
    await this.#chain;
    releaseConnections();
  }
}

/** `--output otlp=URL` (an OTLP/HTTP endpoint such as `http://127.0.0.1:4318/v1/metrics`). */
export const otlpOutput: OutputFactory = (arg) => new OtlpOutput(arg);

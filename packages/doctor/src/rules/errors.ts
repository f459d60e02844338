import type { Finding } from '@redline/core';
import { Thresholds } from '../thresholds.js';
import { round, sustained, type RuleContext } from '../timeline.js';

const KIND_ADVICE: Record<string, string> = {
  timeout: 'Requests timed out: the target is too slow at this load; fix the cause found above before raising timeouts.',
  connect_refused: 'Connections were refused: the target was down, restarting, or its listen backlog was full.',
  reset: 'Connections were reset: the target closed them mid-request (crash, keep-alive timeout shorter than the client\'s, or a proxy limit).',
  http_5xx: 'The target answered with server errors: read its logs for the seconds named here.',
  http_4xx: 'The target rejected requests (4xx): check the scenario sends valid requests (auth, payloads, rate limits).',
  dns: 'Name resolution failed: check the target host name.',
  interrupted: 'Requests were still waiting for a response when the run ended: the target accepted them but did not answer in time.',
  body_too_large: 'Response bodies were larger than the scripted requests\' body limit: raise maxBodySize or set discardBody for requests whose body the script does not read.',
};

/**
 * `protocol` errors mean different things by the protocol the run spoke: the advice names the
 * broken rules of that protocol (one run may speak several: each one's advice, in this order).
 */
const PROTOCOL_ADVICE = {
  grpc: 'gRPC calls got answers that are not gRPC (an HTTP status other than 200, no grpc-status, or broken HTTP/2 framing; see docs/protocols.md#grpc): check the server serves gRPC on this path and that a proxy in front of it speaks HTTP/2 end to end and passes trailers.',
  ws: 'WebSocket upgrades or frames broke RFC 6455 (an upgrade answered with a status other than 101, e.g. a 2xx/3xx from a server or proxy that does not speak WebSocket; a bad Sec-WebSocket-Accept, an unoffered subprotocol or extension; or frames the client closed with 1002/1009; see docs/protocols.md#websocket): check the URL reaches a WebSocket endpoint and any proxy forwards Upgrade.',
  h2: 'The target broke HTTP/2 (no h2 in ALPN, a frame or header block the client rejected, a PROTOCOL_ERROR; see docs/protocols.md): check the server\'s HTTP/2 support (for gRPC calls that got no status: that it serves gRPC on this path) and any proxy in front of it.',
  http1: 'The target sent responses that break HTTP/1.1 framing (status line, Content-Length, chunking or size limits; see docs/protocol-errors.md): fix the server or the proxy in front of it.',
} as const;

type RunProtocol = keyof typeof PROTOCOL_ADVICE;

/** The protocols a run spoke, read from its summary (HTTP/1.1 when it shows no other). */
function runProtocols(s: RuleContext['result']['summary']): RunProtocol[] {
  const found: RunProtocol[] = [];
  if (s.grpc) found.push('grpc');
  if (s.ws) found.push('ws');
  if (s.http2 && !s.grpc) found.push('h2');
  return found.length ? found : ['http1'];
}

/** The advice for the run's most frequent error kind. */
function adviceFor(kind: string, s: RuleContext['result']['summary']): string {
  if (kind === 'protocol') return runProtocols(s).map((p) => PROTOCOL_ADVICE[p]).join(' ');
  return KIND_ADVICE[kind] ?? `Look at the ${kind || 'failed'} errors around the seconds named here.`;
}

/** Errors of the generator itself (out of file descriptors): the generator-limited finding covers them. */
const GENERATOR_KINDS: ReadonlySet<string> = new Set(['generator']);

/**
 * Errors: the whole-run error rate is at least ERROR_RATE_MEDIUM (high from ERROR_RATE_HIGH), or some
 * seconds spike to ERROR_SPIKE_RATE. Reports the kinds and the seconds of the spikes.
 */
export function errorsRule(ctx: RuleContext): Finding | null {
  const s = ctx.result.summary;
  // Requests the generator could not make never reached the target: they are not its errors.
  const generatorErrors = Object.entries(s.errorsByKind).reduce((n, [k, v]) => (GENERATOR_KINDS.has(k) ? n + v : n), 0);
  const total = s.requests - generatorErrors;
  const targetErrors = s.errors - generatorErrors;
  const rate = total > 0 ? targetErrors / total : 0;
  const targetRate = (p: (typeof ctx.result.timeseries)[number]): number => {
    const gen = p.errorsByKind.generator ?? 0;
    return (p.errors - gen) / Math.max(p.requests - gen, 1);
  };
  const spikes = sustained(ctx.result.timeseries, (p) => p.requests + p.errors > 0 && targetRate(p) >= Thresholds.ERROR_SPIKE_RATE);
  if (rate < Thresholds.ERROR_RATE_MEDIUM && spikes.window === null) return null;
  if (targetErrors <= 0) return null;
  const peak = spikes.matched.reduce((m, p) => Math.max(m, targetRate(p)), 0);
  const kinds = Object.entries(s.errorsByKind).filter(([k, n]) => n > 0 && !GENERATOR_KINDS.has(k)).sort((a, b) => b[1] - a[1]);
  const kindText = kinds.map(([k, n]) => `${k} ${n}`).join(', ');
  const firstT = spikes.matched[0]?.t;
  const spikeText = spikes.window === null ? '' : `, spikes in ${spikes.matched.length} s from t=${firstT}s to t=${spikes.window.endS}s`;
  const topKind = kinds[0]?.[0] ?? '';
  return {
    category: 'errors',
    severity: rate >= Thresholds.ERROR_RATE_HIGH ? 'high' : rate >= Thresholds.ERROR_RATE_MEDIUM ? 'medium' : 'low',
    confidence: 0.95,
    title: `Errors: ${round(rate * 100, 2)}% of requests failed (${kindText || 'unclassified'})${spikeText}`,
    window: spikes.window ?? ctx.active,
    evidence: [
      { metric: 'http.errors.rate', value: round(rate, 4), threshold: Thresholds.ERROR_RATE_MEDIUM, comparison: '>=', unit: 'ratio' },
      ...(spikes.window === null ? [] : [{ metric: 'http.errors.rate.peak_second', value: round(peak, 4), threshold: Thresholds.ERROR_SPIKE_RATE, comparison: '>=' as const, unit: 'ratio' }]),
    ],
    frames: [],
    recommendation: adviceFor(topKind, s),
  };
}

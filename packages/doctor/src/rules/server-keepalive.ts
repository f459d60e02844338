import type { Finding, ServerSettings } from '@redline/core';
import type { RuleContext } from '../timeline.js';

/**
 * Idle timeouts of common load balancers in front of a Node service, ms. A server that closes idle
 * keep-alive connections sooner than its balancer races it: the balancer sends a request on a
 * connection the server is closing, and the client gets a 502.
 */
export const LOAD_BALANCER_IDLE_MS = {
  /** AWS Application Load Balancer, default idle timeout. */
  awsAlb: 60_000,
  /** nginx `keepalive_timeout` of an upstream `keepalive` pool (default since 1.15.3). */
  nginxUpstream: 60_000,
  /** Google Cloud external Application Load Balancer, backend keep-alive timeout (fixed). */
  gcp: 600_000,
} as const;

/** Node's default `server.keepAliveTimeout`, ms. */
export const NODE_DEFAULT_KEEP_ALIVE_MS = 5000;

/** Shorter than this (the most common balancer idle timeout, ALB's and nginx's) makes the finding. */
const SHORTEST_LB_IDLE_MS = Math.min(LOAD_BALANCER_IDLE_MS.awsAlb, LOAD_BALANCER_IDLE_MS.nginxUpstream);

const seconds = (ms: number): string => `${ms % 1000 === 0 ? ms / 1000 : (ms / 1000).toFixed(1)} s`;

function where(s: ServerSettings): string {
  const at = s.port !== null ? ` on port ${s.port}` : s.address !== null ? ` on ${s.address}` : '';
  return `${s.kind} server${at}${s.thread !== 'main' ? ` (${s.thread})` : ''}`;
}

/**
 * Server keep-alive shorter than a load balancer's idle timeout: an `http`/`https` server of the
 * target (read by the probe, `target.servers`) closes idle keep-alive connections after
 * `keepAliveTimeout` ms, below the 60 s of AWS ALB and nginx upstream pools (600 s on GCP). Behind
 * such a balancer that gives intermittent 502s. `keepAliveTimeout` 0 (no timeout) is fine here.
 */
export function serverKeepAliveRule(ctx: RuleContext): Finding | null {
  const short = (ctx.result.target?.servers ?? [])
    .filter((s) => (s.kind === 'http' || s.kind === 'https') && s.keepAliveTimeoutMs !== null && s.keepAliveTimeoutMs > 0 && s.keepAliveTimeoutMs < SHORTEST_LB_IDLE_MS)
    .sort((a, b) => (a.keepAliveTimeoutMs ?? 0) - (b.keepAliveTimeoutMs ?? 0));
  const worst = short[0];
  if (worst === undefined || worst.keepAliveTimeoutMs === null) return null;
  const ka = worst.keepAliveTimeoutMs;
  const others = short.length > 1 ? ` (and ${short.length - 1} more server${short.length > 2 ? 's' : ''})` : '';
  const headers = worst.headersTimeoutMs !== null ? `; headersTimeout ${seconds(worst.headersTimeoutMs)}` : '';
  const isDefault = ka === NODE_DEFAULT_KEEP_ALIVE_MS ? " (Node's default)" : '';
  return {
    category: 'server-keepalive',
    severity: 'low',
    confidence: 0.6,
    title: `Server keep-alive: the ${where(worst)}${others} closes idle connections after ${seconds(ka)}${isDefault} (keepAliveTimeout), shorter than a load balancer's idle timeout (AWS ALB ${seconds(LOAD_BALANCER_IDLE_MS.awsAlb)}, nginx upstream keepalive_timeout ${seconds(LOAD_BALANCER_IDLE_MS.nginxUpstream)}, GCP ${seconds(LOAD_BALANCER_IDLE_MS.gcp)}): behind one, expect intermittent 502s`,
    window: ctx.active,
    evidence: [{ metric: 'target.server.keep_alive_timeout', value: ka, threshold: SHORTEST_LB_IDLE_MS, comparison: '<', unit: 'ms' }],
    frames: [],
    recommendation:
      `A load balancer keeps its idle connections to the server open for up to its idle timeout and reuses them; this server closes them after ${seconds(ka)}${headers}. ` +
      'A request the balancer sends on a connection just as the server closes it fails, and the client sees a 502 (ALB: "target closed the connection"). It needs a connection that sat idle for about keepAliveTimeout, so it shows at low traffic and rarely in a steady load test. ' +
      `Set server.keepAliveTimeout above the balancer's idle timeout — 65_000 behind AWS ALB or nginx, 620_000 behind GCP — and server.headersTimeout a little above it (e.g. 66_000), or lower the balancer's idle timeout below ${seconds(ka)}. ` +
      'Only applies when the service runs behind such a proxy.',
  };
}

import type { Finding } from '@redline/core';
import { round, type RuleContext } from '../timeline.js';

/** Waits for a free stream on at least this share of requests make a finding. */
const MIN_WAIT_SHARE = 0.01;

/**
 * HTTP/2 stream limit reached: requests waited because every connection carried as many streams
 * as the server's SETTINGS_MAX_CONCURRENT_STREAMS (or --max-streams) allows, so latency includes
 * the generator-side queue.
 */
export function http2StreamLimitRule(ctx: RuleContext): Finding | null {
  const s = ctx.result.summary;
  const h2 = s.http2;
  if (!h2 || s.requests === 0) return null;
  const share = h2.streamLimitWaits / s.requests;
  if (share < MIN_WAIT_SHARE) return null;
  return {
    category: 'http2-stream-limit',
    severity: share >= 0.1 ? 'medium' : 'low',
    confidence: 0.9,
    title: `HTTP/2 stream limit reached: ${h2.streamLimitWaits} requests (${round(share * 100, 1)}%) waited for a free stream on ${h2.connections} connection${h2.connections === 1 ? '' : 's'}`,
    window: ctx.active,
    evidence: [{ metric: 'http2.stream_limit_waits.share', value: round(share, 4), threshold: MIN_WAIT_SHARE, comparison: '>=', unit: 'ratio' }],
    frames: [],
    recommendation:
      "Every connection was at its stream limit (the server's SETTINGS_MAX_CONCURRENT_STREAMS, or --max-streams), so requests queued in the client and their latency includes that wait. Raise the server's limit (node:http2 peerMaxConcurrentStreams / maxConcurrentStreams setting, nginx http2_max_concurrent_streams) or open more connections (--connections).",
  };
}

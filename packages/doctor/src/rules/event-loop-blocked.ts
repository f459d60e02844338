import type { Evidence, Finding } from '@redline/core';
import { Thresholds } from '../thresholds.js';
import { cpuCores, median, meanOf, responsibleCode, round, secondLatencies, sustained, where, type RuleContext } from '../timeline.js';

/**
 * Event loop blocked: the per-second p99 event-loop delay stays above LOOP_DELAY_P99_MS (or, at most
 * medium severity, above SYNC_SPAN_BLOCKING_MS and half the median span when the profile shows long
 * synchronous calls). With a CPU profile the rule
 * names the application function the samples belong to and measures how long one call of it holds the
 * loop; long stretches (≥ SYNC_SPAN_BLOCKING_MS) make it high severity, unless immediates pile up
 * (chunked work, whose chunks merge in a sampled profile).
 */
export function eventLoopBlockedRule(ctx: RuleContext): Finding | null {
  if (ctx.samples.length === 0) return null;
  let code = responsibleCode(ctx, ctx.active);
  // Pending immediates under load mean the hot code yields between chunks; a sampled profile then
  // merges the chunks of queued requests into long apparent spans that prove nothing.
  const immediates = meanOf(ctx.samples.map((s) => s.activeResources.Immediate ?? 0));
  const chunked = immediates >= Thresholds.CHUNKED_MIN_IMMEDIATES;
  const spanLong = !chunked && code.syncSpanMedianMs !== null && code.syncSpanMedianMs >= Thresholds.SYNC_SPAN_BLOCKING_MS;
  let delayed = sustained(ctx.samples, (s) => s.loopDelayMs.p99 >= Thresholds.LOOP_DELAY_P99_MS);
  let delayThresholdMs: number = Thresholds.LOOP_DELAY_P99_MS;
  if (delayed.fraction < Thresholds.SUSTAINED_FRACTION && spanLong) {
    // Below saturation a blocking call delays the loop by about its own length, not by LOOP_DELAY_P99_MS:
    // with the profile proving long synchronous calls, a loop late by that much is blocked.
    // The loop must be late by a good part of one call (merged back-to-back calls make spans longer
    // than one call, hence half), else the calls are not what delays it.
    const lateMs = Math.max(Thresholds.SYNC_SPAN_BLOCKING_MS, (code.syncSpanMedianMs ?? 0) / 2);
    // Only below one core: at a full core every task queues for the CPU, which cpu-saturated explains.
    const late = sustained(ctx.samples, (s) => s.loopDelayMs.p99 >= lateMs && cpuCores(s) < Thresholds.CPU_SATURATED_CORES);
    if (late.fraction > delayed.fraction) {
      delayed = late;
      delayThresholdMs = round(lateMs);
    }
  }
  if (delayed.window === null) return null;
  const window = delayed.window;
  code = responsibleCode(ctx, window);
  const delayP99 = median(delayed.matched.map((s) => s.loopDelayMs.p99));
  const elu = meanOf(delayed.matched.map((s) => s.elu));
  const longSync = spanLong;
  // Short stretches (or chunked work) prove the loop is late from many small tasks, not one blocking
  // call. Long stretches prove less: back-to-back calls for queued requests merge in a sampled profile.
  const shortSync = chunked || (code.syncSpanMedianMs !== null && !longSync);
  const isSustained = delayed.fraction >= Thresholds.SUSTAINED_FRACTION;
  const evidence: Evidence[] = [
    { metric: 'target.loop_delay.p99', value: round(delayP99), threshold: delayThresholdMs, comparison: '>=', unit: 'ms' },
    { metric: 'target.loop_delay.seconds_share', value: round(delayed.fraction), threshold: Thresholds.SUSTAINED_FRACTION, comparison: '>=', unit: 'ratio' },
    { metric: 'target.elu', value: round(elu), threshold: Thresholds.ELU_BUSY, comparison: '>=', unit: 'ratio' },
  ];
  if (code.syncSpanMedianMs !== null) {
    evidence.push({ metric: 'profile.sync_span.median', value: round(code.syncSpanMedianMs), threshold: Thresholds.SYNC_SPAN_BLOCKING_MS, comparison: '>=', unit: 'ms' });
  }
  if (chunked) {
    evidence.push({ metric: 'target.active_resources.Immediate', value: round(immediates, 1), threshold: Thresholds.CHUNKED_MIN_IMMEDIATES, comparison: '<', unit: 'count' });
  }
  // CPU ms per request in the responsible function: its share of the window's time over the requests served.
  const served = ctx.timeseries.filter((p) => p.t > window.startS && p.t <= window.endS).reduce((n, p) => n + p.requests, 0);
  const msPerRequest = code.top !== null && served > 0 ? (code.topAttributedShare * (window.endS - window.startS) * 1000) / served : null;
  if (msPerRequest !== null) {
    evidence.push({ metric: 'profile.responsible.ms_per_request', value: round(msPerRequest), threshold: Thresholds.SYNC_SPAN_BLOCKING_MS, comparison: '>=', unit: 'ms' });
  }
  const latencies = secondLatencies(ctx.timeseries.filter((p) => p.t > window.startS && p.t <= window.endS), 'p99');
  const latencyNote = latencies.length > 0 ? `, p99 latency ${Math.round(median(latencies))} ms` : '';
  const blocker = !shortSync && code.top !== null ? ` by synchronous work in ${where(code.top)}` : '';
  // Below LOOP_DELAY_P99_MS the loop still turns often enough: a real finding, not the top emergency.
  const belowEmergency = delayThresholdMs < Thresholds.LOOP_DELAY_P99_MS;
  const severity = !isSustained ? 'low' : shortSync || belowEmergency ? 'medium' : 'high';
  let confidence = 0.5 + 0.25 * delayed.fraction + (elu >= Thresholds.ELU_BUSY ? 0.1 : 0) + (longSync ? 0.15 : 0);
  if (shortSync) confidence -= 0.2;
  const recommendation =
    !shortSync && code.top !== null
      ? `Take the synchronous work in ${code.top.functionName} (${code.top.file}:${code.top.line}) off the event loop: use the async API (e.g. crypto.pbkdf2 instead of pbkdf2Sync, streaming JSON), move it to a worker thread pool, or cache its result${msPerRequest !== null ? `; it costs about ${round(msPerRequest, 1)} ms of main-thread time per request` : ''}.`
      : 'Find the long synchronous tasks (the frames below) and move them off the event loop: async APIs, a worker thread pool, or splitting the work into chunks that yield with setImmediate.';
  return {
    category: 'event-loop-blocked',
    severity,
    confidence: round(Math.min(0.98, Math.max(0.1, confidence))),
    title: `Event loop blocked${blocker}: p99 loop delay ${Math.round(delayP99)} ms in ${delayed.matched.length} of ${ctx.samples.length} s${latencyNote}`,
    window,
    evidence,
    frames: code.frames,
    recommendation,
  };
}

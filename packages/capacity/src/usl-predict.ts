import { ErrorCodes, RedlineError } from '@redline/core';
import { burnRate, meetsSlo, type Slo } from './slo.js';
import { uslPeak, uslThroughput, type UslParams } from './usl.js';

function checkConcurrency(n: number): void {
  if (!Number.isFinite(n) || n <= 0) {
    throw new RedlineError(ErrorCodes.INVALID_ARGUMENT, `concurrency must be a finite number > 0, got ${n}`);
  }
}

function checkThinkTime(thinkTimeMs: number): void {
  if (!Number.isFinite(thinkTimeMs) || thinkTimeMs < 0) {
    throw new RedlineError(ErrorCodes.INVALID_ARGUMENT, `thinkTimeMs must be a finite number >= 0, got ${thinkTimeMs}`);
  }
}

/** Predicted throughput (per second) at concurrency `n` (> 0). */
export function predictThroughput(params: UslParams, n: number): number {
  checkConcurrency(n);
  return uslThroughput(params, n);
}

/**
 * Predicted mean response time in ms at concurrency `n`, by Little's law for a closed system:
 * R = N/X − Z, with Z the think time between a client's requests (default 0 ms).
 */
export function predictLatencyMs(params: UslParams, n: number, thinkTimeMs = 0): number {
  checkConcurrency(n);
  checkThinkTime(thinkTimeMs);
  return Math.max(0, (n / uslThroughput(params, n)) * 1000 - thinkTimeMs);
}

/**
 * Smallest concurrency (not rounded) at which the model reaches `throughput` per second, on the
 * rising side of the curve; `null` when the model never reaches it (above X at the peak).
 */
export function concurrencyForThroughput(params: UslParams, throughput: number): number | null {
  if (!Number.isFinite(throughput) || throughput <= 0) {
    throw new RedlineError(ErrorCodes.INVALID_ARGUMENT, `target throughput must be a finite number > 0, got ${throughput}`);
  }
  const { sigma, kappa, lambda } = params;
  const t = throughput;
  // X(N) = T  ⇔  Tκ·N² + (T(σ−κ) − λ)·N + T(1−σ) = 0; the smaller root lies on the rising side.
  const a = t * kappa;
  const b = t * (sigma - kappa) - lambda;
  const c = t * (1 - sigma);
  if (a === 0) {
    if (b >= 0) return null;
    return -c / b;
  }
  const disc = b * b - 4 * a * c;
  if (disc < 0) return null;
  // The numerically stable form of the smaller root.
  const q = -0.5 * (b - Math.sqrt(disc));
  const root = c / q;
  const { nPeak } = uslPeak(params);
  return root > 0 && root <= nPeak * (1 + 1e-9) ? root : null;
}

/** Share of requests slower than `limitMs` given their mean latency; the latency model of a prediction. */
export type LatencyModel = (meanLatencyMs: number, limitMs: number) => number;

/** Exponentially distributed response times: P(R > t) = exp(−t / mean). A queueing-theory default. */
export const exponentialLatency: LatencyModel = (meanMs, limitMs) => (meanMs > 0 ? Math.exp(-limitMs / meanMs) : 0);

/** SLO forecast for one load level. */
export interface BurnRatePrediction {
  concurrency: number;
  throughput: number;
  meanLatencyMs: number;
  /** Predicted share of requests over the SLO limit, 0–1. */
  exceedance: number;
  /** exceedance / allowed share; > 1 spends the error budget faster than the SLO allows. */
  burnRate: number;
  /** Predicted latency at the SLO percentile (ms), for the exponential model; otherwise null. */
  percentileLatencyMs: number | null;
  meetsSlo: boolean;
}

/**
 * Predicts, for each concurrency level, throughput, mean latency (Little's law) and the SLO burn
 * rate under a latency model (exponential by default). `thinkTimeMs` as in {@link predictLatencyMs}.
 */
export function predictBurnRates(
  params: UslParams,
  slo: Slo,
  levels: readonly number[],
  options: { latencyModel?: LatencyModel; thinkTimeMs?: number } = {},
): BurnRatePrediction[] {
  const model = options.latencyModel ?? exponentialLatency;
  const thinkTimeMs = options.thinkTimeMs ?? 0;
  return levels.map((n) => {
    const meanLatencyMs = predictLatencyMs(params, n, thinkTimeMs);
    const exceedance = Math.min(1, Math.max(0, model(meanLatencyMs, slo.limitMs)));
    const percentileLatencyMs =
      model === exponentialLatency && slo.percentile < 100 ? -meanLatencyMs * Math.log(1 - slo.percentile / 100) : null;
    const rate = burnRate(slo, exceedance);
    return {
      concurrency: n,
      throughput: uslThroughput(params, n),
      meanLatencyMs,
      exceedance,
      burnRate: rate,
      percentileLatencyMs,
      meetsSlo: percentileLatencyMs !== null ? meetsSlo(slo, percentileLatencyMs) : rate <= 1,
    };
  });
}

import { ErrorCodes, RedlineError } from '@redline/core';

/** A latency objective: the `percentile`-th latency must stay below `limitMs`. */
export interface Slo {
  /** Percentile in (0, 100], e.g. 99 or 99.9. */
  percentile: number;
  /** Latency limit in milliseconds (> 0). */
  limitMs: number;
  /** `true` for `<=`, `false` for `<`. */
  inclusive: boolean;
  /** The expression as given, trimmed. */
  expression: string;
}

const UNIT_MS: Record<string, number> = { us: 0.001, µs: 0.001, ms: 1, s: 1000 };
const SLO_RE = /^p\(\s*(\d+(?:\.\d+)?)\s*\)\s*(<=|<)\s*(\d+(?:\.\d+)?)\s*(us|µs|ms|s)?$/;
const EXPECTED = "expected p(<percentile>)<<limit>, such as p(99)<100 or p(99.9)<=250ms (limit in ms unless a unit us, ms or s is given)";

/**
 * Parses an SLO expression such as `p(99)<100`, `p(95) < 250ms`, `p(99.9)<=1s` (bare limits are
 * milliseconds). Throws REDLINE_ERR_INVALID_THRESHOLD naming the expression and the expected form
 * for anything else, including percentiles outside (0, 100] and a zero limit.
 */
export function parseSlo(expression: string): Slo {
  if (typeof expression !== 'string') {
    throw new RedlineError(ErrorCodes.INVALID_THRESHOLD, `invalid SLO ${String(expression)}: ${EXPECTED}`);
  }
  const text = expression.trim();
  const match = SLO_RE.exec(text);
  if (!match) throw new RedlineError(ErrorCodes.INVALID_THRESHOLD, `invalid SLO "${text}": ${EXPECTED}`);
  const percentile = Number(match[1]);
  const limitMs = Number(match[3]) * UNIT_MS[match[4] ?? 'ms']!;
  if (!(percentile > 0 && percentile <= 100)) {
    throw new RedlineError(ErrorCodes.INVALID_THRESHOLD, `invalid SLO "${text}": the percentile must be greater than 0 and at most 100, got ${match[1]}`);
  }
  if (!(limitMs > 0)) {
    throw new RedlineError(ErrorCodes.INVALID_THRESHOLD, `invalid SLO "${text}": the latency limit must be greater than 0`);
  }
  return { percentile, limitMs, inclusive: match[2] === '<=', expression: text };
}

/** True when a latency (ms) at the SLO's percentile meets the SLO. */
export function meetsSlo(slo: Slo, latencyMs: number): boolean {
  return slo.inclusive ? latencyMs <= slo.limitMs : latencyMs < slo.limitMs;
}

/** Share of requests the SLO allows above the limit, e.g. 0.01 for p(99). */
export function sloAllowedExceedance(slo: Slo): number {
  return 1 - slo.percentile / 100;
}

/**
 * Burn rate: the observed share of requests over the limit divided by the share the SLO allows.
 * 1 spends the budget exactly; 2 twice as fast. A p(100) SLO allows nothing, so any excess is `Infinity`.
 */
export function burnRate(slo: Slo, exceedance: number): number {
  const allowed = sloAllowedExceedance(slo);
  if (allowed <= 0) return exceedance > 0 ? Infinity : 0;
  return exceedance / allowed;
}

/** Latency quantiles of one measurement, in ms. */
export interface LatencyQuantiles {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/**
 * Estimates the share of requests slower than `limitMs` from a few measured quantiles:
 * log-linear interpolation of the tail between p50, p90 and p99 (exponential tails are straight
 * lines there), linear between p99 and max, 0 above max, and linear from (0 ms, 0) below p50.
 */
export function exceedanceFromQuantiles(q: LatencyQuantiles, limitMs: number): number {
  if (limitMs >= q.max) return 0;
  if (limitMs < q.p50) return q.p50 > 0 ? 1 - 0.5 * (limitMs / q.p50) : 0.5;
  const knots: Array<[number, number]> = [
    [q.p50, 0.5],
    [q.p90, 0.1],
    [q.p99, 0.01],
  ];
  for (let i = 0; i + 1 < knots.length; i++) {
    const [v0, e0] = knots[i]!;
    const [v1, e1] = knots[i + 1]!;
    if (limitMs >= v0 && limitMs < v1) {
      const f = (limitMs - v0) / (v1 - v0);
      return Math.exp(Math.log(e0) + f * (Math.log(e1) - Math.log(e0)));
    }
  }
  if (limitMs < q.p99) return 0.01;
  const span = q.max - q.p99;
  return span > 0 ? 0.01 * (1 - (limitMs - q.p99) / span) : 0;
}

/**
 * Which requests the generator flags as sampled (the W3C `traceparent`'s sampled bit), decided at
 * send time. The target records only flagged requests, so this sets what tracing costs it.
 *
 * Two policies:
 * - a **ratio** (`--trace-sample 0.2`): each request with that probability. The cost grows with
 *   the throughput.
 * - a **budget** (`--trace-sample 50/s`, the default): about that many requests per second for the
 *   whole run, so the cost is bounded however fast the target goes; below the budget every
 *   request is sampled. The budget is spent in **one burst per second**: from a pseudo-random phase
 *   of the second that every worker thread computes alike (from the run tag and the wall-clock
 *   second), every request is flagged until the budget is spent. The phase is chosen so that the
 *   burst fits in the second at last second's rate; the burst is counted, not timed, because traced
 *   requests are slower than untraced ones: with a closed model a window sized from the untraced
 *   rate let through a fifth of the budget (10 of 50 at 0.5 ms untraced, 3 ms traced). Why bursts: on Node 20 a sampled request in flight turns the async
 *   hooks of context propagation on for the whole process (the unsampled requests in flight
 *   beside it pay them too), so the cost follows the time some sampled request is in flight. The
 *   same number of sampled requests spread over the second keeps the hooks on most of it; in one
 *   burst they are on for about the window plus one latency. The tail is still chosen by the
 *   generator's latency, among the sampled requests (the running p99 is over all requests).
 */

/** A sampling policy: a ratio in (0, 1], or a budget of sampled requests per second (whole run). */
export type TraceSamplePolicy = { ratio: number } | { perSecond: number };

/** A sampler for one engine (worker thread). */
export interface TraceSampler {
  /** Whether the request sent now (epoch ms) carries the sampled flag. */
  sampled(nowMs: number): boolean;
}

/** FNV-1a of the run tag and the second, then a 32-bit finaliser (consecutive seconds differ only in their last digits): the burst's phase in [0, 1), the same in every worker. */
function phaseOf(runTag: string, second: number): number {
  let h = 0x811c9dc5;
  const s = `${runTag}:${second}`;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 2 ** 32;
}

class RatioSampler implements TraceSampler {
  constructor(readonly ratio: number) {}
  sampled(): boolean {
    return this.ratio >= 1 || Math.random() < this.ratio;
  }
}

/** Spends a per-second budget in one window per second (see the file comment). */
export class BudgetSampler implements TraceSampler {
  readonly #budget: number;
  readonly #runTag: string;
  #second = -1;
  /** Requests seen in the current and the previous second. */
  #seen = 0;
  #lastSeen = -1;
  #taken = 0;
  /** When this second's burst starts (epoch ms). */
  #from = 0;

  /** `perSecond` is this worker's share of the run's budget. */
  constructor(perSecond: number, runTag: string) {
    if (!(perSecond > 0) || !Number.isFinite(perSecond)) throw new RangeError(`trace sampling budget must be a positive number of requests per second, got ${perSecond}`);
    this.#budget = perSecond;
    this.#runTag = runTag;
  }

  #newSecond(second: number): void {
    // A second without requests says nothing about the rate: the last known one stays.
    if (this.#seen > 0) this.#lastSeen = this.#seen;
    this.#second = second;
    this.#seen = 0;
    this.#taken = 0;
    // The first second has no rate yet: its first `budget` requests are sampled.
    const share = this.#lastSeen <= 0 ? 1 : Math.min(1, this.#budget / this.#lastSeen);
    const width = share * 1000;
    this.#from = second * 1000 + phaseOf(this.#runTag, second) * (1000 - width);
  }

  sampled(nowMs: number): boolean {
    const second = Math.floor(nowMs / 1000);
    if (second !== this.#second) this.#newSecond(second);
    this.#seen++;
    if (this.#taken >= this.#budget || nowMs < this.#from) return false;
    this.#taken++;
    return true;
  }
}

/** The sampler of one of `workers` engines for a policy. */
export function createTraceSampler(policy: TraceSamplePolicy, runTag: string, workers: number): TraceSampler {
  if ('perSecond' in policy) return new BudgetSampler(policy.perSecond / Math.max(1, workers), runTag);
  return new RatioSampler(policy.ratio);
}

/**
 * Parses `--trace-sample`: a ratio `0 < R ≤ 1` or a budget `N/s` (N > 0 requests per second).
 * Returns null for anything else (the caller words the error).
 */
export function parseTraceSample(text: string): TraceSamplePolicy | null {
  const t = text.trim();
  const budget = /^(\d+(?:\.\d+)?)\s*\/\s*s$/.exec(t);
  if (budget) {
    const n = Number(budget[1]);
    return n > 0 && Number.isFinite(n) ? { perSecond: n } : null;
  }
  if (!/^(\d+(?:\.\d*)?|\.\d+)$/.test(t)) return null;
  const r = Number(t);
  return r > 0 && r <= 1 ? { ratio: r } : null;
}

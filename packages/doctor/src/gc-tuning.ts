import type { RunResult, TargetSample } from '@redline/core';

/** Semi-space size the doctor suggests trying first, in MB (Node 20's default maximum is 16 MB on 64-bit). */
export const SUGGESTED_SEMI_SPACE_MB = 64;
/** Heap used over the heap limit from which the old generation counts as near its limit (0–1). */
export const OLD_SPACE_NEAR_LIMIT = 0.7;

/** Which V8 heap flag fits a run's GC pauses, and why. */
export interface GcFlagAdvice {
  flag: '--max-semi-space-size' | '--max-old-space-size';
  /** The whole option to try, e.g. `--max-semi-space-size=64`. */
  option: string;
  /** One sentence: which pauses dominate (or how near the limit the heap is). */
  because: string;
}

/** GC pause totals of a run's samples, by kind. */
function pauseTotals(samples: readonly TargetSample[]): { scavenges: number; scavengeMs: number; majorMs: number; majors: number } {
  let scavenges = 0;
  let scavengeMs = 0;
  let majors = 0;
  let majorMs = 0;
  for (const s of samples) {
    for (const [kind, p] of Object.entries(s.gcPauses)) {
      if (kind === 'minor') {
        scavenges += p.count;
        scavengeMs += p.totalMs;
      } else if (kind === 'major' || kind === 'incremental') {
        majors += kind === 'major' ? p.count : 0;
        majorMs += p.totalMs;
      }
    }
  }
  return { scavenges, scavengeMs, majorMs, majors };
}

/**
 * The V8 flag that fits the GC pauses of `samples`: the old generation's (`--max-old-space-size`, set
 * to twice the current limit) when the heap came within OLD_SPACE_NEAR_LIMIT of its limit or full
 * collections take more pause time than scavenges; else the young generation's
 * (`--max-semi-space-size`), which lets short-lived objects die young instead of being copied and promoted.
 */
export function gcFlagAdvice(samples: readonly TargetSample[]): GcFlagAdvice {
  const t = pauseTotals(samples);
  let limit = 0;
  let peak = 0;
  for (const s of samples) {
    if (s.heapLimitBytes !== undefined) limit = Math.max(limit, s.heapLimitBytes);
    peak = Math.max(peak, s.heapUsedBytes);
  }
  const MB = 1024 * 1024;
  if (limit > 0 && peak / limit >= OLD_SPACE_NEAR_LIMIT) {
    const next = Math.ceil((2 * limit) / MB / 256) * 256;
    return { flag: '--max-old-space-size', option: `--max-old-space-size=${next}`, because: `the heap reached ${Math.round((peak / limit) * 100)}% of its ${Math.round(limit / MB)} MB limit` };
  }
  if (t.majorMs > t.scavengeMs) {
    const next = limit > 0 ? Math.ceil((2 * limit) / MB / 256) * 256 : 4096;
    return { flag: '--max-old-space-size', option: `--max-old-space-size=${next}`, because: `full collections took ${Math.round(t.majorMs)} ms of the pauses, scavenges ${Math.round(t.scavengeMs)} ms` };
  }
  return {
    flag: '--max-semi-space-size',
    option: `--max-semi-space-size=${SUGGESTED_SEMI_SPACE_MB}`,
    because: `scavenges (young generation) took ${Math.round(t.scavengeMs)} ms of the pauses in ${t.scavenges} collections, full collections ${Math.round(t.majorMs)} ms`,
  };
}

/** One side of a GC A/B: what the runs measured. */
export interface GcSideMeasure {
  nodeOptions: string[];
  /** Scavenges (minor GCs) per second of load. */
  scavengesPerSec: number;
  /** Scavenges per 1000 requests served: the fair measure when the two sides served different rates. */
  scavengesPer1kRequests: number;
  /** Mean share of wall time in GC pauses over the seconds of load (0–1). */
  gcShare: number;
  /** The run's p99 latency (its summary histogram), ms; null without one. */
  p99Ms: number | null;
}

/** The measured effect of changing the target's V8/Node flags between two sets of runs. */
export interface GcTuningEffect {
  base: GcSideMeasure;
  candidate: GcSideMeasure;
  /** One line, e.g. `(no flags) → --max-semi-space-size=64: scavenges 120.0 → 30.0 per 1000 requests (−75%) (4.8/s → 1.2/s), GC share 12.1% → 3.0%, p99 48 → 21 ms`. */
  summary: string;
}

/**
 * Samples of the steady state: the second half of the seconds of load, because V8 grows the young
 * generation towards `--max-semi-space-size` over its first scavenges under load, and a short run
 * would otherwise mostly measure the growing.
 */
function loadedSamples(r: RunResult): TargetSample[] {
  const loaded = r.timeseries.filter((p) => p.requests > 0);
  const first = loaded[0]?.t ?? 0;
  const last = loaded.at(-1)?.t ?? Infinity;
  const from = first + Math.max(1, Math.floor((last - first) / 2));
  return (r.target?.samples ?? []).filter((s) => s.t > from && s.t <= last);
}

function measure(runs: readonly RunResult[]): GcSideMeasure {
  let scavenges = 0;
  let seconds = 0;
  let share = 0;
  let p99Sum = 0;
  let p99n = 0;
  let requests = 0;
  for (const r of runs) {
    const samples = loadedSamples(r);
    scavenges += pauseTotals(samples).scavenges;
    const inSamples = new Set(samples.map((s) => s.t));
    requests += r.timeseries.filter((p) => inSamples.has(p.t)).reduce((n, p) => n + p.requests, 0);
    seconds += samples.length;
    share += samples.reduce((sum, s) => sum + s.gcShare, 0);
    const l = r.summary.latency;
    if (l !== undefined && l.count > 0) {
      p99Sum += l.p99;
      p99n += 1;
    }
  }
  return {
    nodeOptions: runs[0]?.target?.nodeOptions ?? [],
    scavengesPerSec: seconds > 0 ? scavenges / seconds : 0,
    scavengesPer1kRequests: requests > 0 ? (scavenges * 1000) / requests : 0,
    gcShare: seconds > 0 ? share / seconds : 0,
    p99Ms: p99n > 0 ? p99Sum / p99n : null,
  };
}

const key = (r: RunResult): string => JSON.stringify(r.target?.nodeOptions ?? []);

/**
 * The GC A/B between two sets of probed runs whose target node options (`--target-node-options`)
 * differ: scavenges per second, GC share and p99 before and after. Null when a side is not probed, the
 * runs of one side disagree on their options, or both sides ran with the same options.
 */
export function gcTuningEffect(base: readonly RunResult[], candidate: readonly RunResult[]): GcTuningEffect | null {
  if (base.length === 0 || candidate.length === 0) return null;
  if ([...base, ...candidate].some((r) => r.target === null || r.target === undefined || r.target.samples.length === 0)) return null;
  if (new Set(base.map(key)).size !== 1 || new Set(candidate.map(key)).size !== 1 || key(base[0]!) === key(candidate[0]!)) return null;
  const b = measure(base);
  const c = measure(candidate);
  const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
  const change = b.scavengesPer1kRequests > 0 ? ` (${c.scavengesPer1kRequests >= b.scavengesPer1kRequests ? '+' : '−'}${Math.abs(Math.round((c.scavengesPer1kRequests / b.scavengesPer1kRequests - 1) * 100))}%)` : '';
  const opts = (o: string[]): string => (o.length === 0 ? '(no flags)' : o.join(' '));
  const p99 = b.p99Ms !== null && c.p99Ms !== null ? `, p99 ${Math.round(b.p99Ms)} → ${Math.round(c.p99Ms)} ms` : '';
  return {
    base: b,
    candidate: c,
    summary: `${opts(b.nodeOptions)} → ${opts(c.nodeOptions)}: scavenges ${b.scavengesPer1kRequests.toFixed(1)} → ${c.scavengesPer1kRequests.toFixed(1)} per 1000 requests${change} (${b.scavengesPerSec.toFixed(1)}/s → ${c.scavengesPerSec.toFixed(1)}/s), GC share ${pct(b.gcShare)} → ${pct(c.gcShare)}${p99}`,
  };
}

import type { Finding, HotFrame } from '@redline/core';
import { Thresholds } from '../thresholds.js';
import { meanOf, median, profileWindow, round, secondLatencies, sustained, type RuleContext, type SecondsWindow } from '../timeline.js';
import { isSyncApi, probedSubmitters, type ThreadpoolSubmitter } from './threadpool-callers.js';

export type { ThreadpoolSubmitter } from './threadpool-callers.js';

/** Node modules whose async functions queue work on the libuv thread pool, by operation type. */
const THREADPOOL_MODULES: Array<[RegExp, string]> = [
  [/^node:internal\/crypto\/(pbkdf2|scrypt|random|keygen|hkdf|sig|cipher|diffiehellman|util)/, 'crypto'],
  [/^node:crypto$/, 'crypto'],
  [/^node:zlib$/, 'zlib'],
  [/^node:(internal\/)?fs/, 'fs'],
  [/^node:dns$/, 'dns.lookup'],
];

/** Finds the thread-pool entry points on the profile's stacks in the window, most sampled first. */
export function threadpoolSubmitters(ctx: RuleContext, w: SecondsWindow): ThreadpoolSubmitter[] {
  const p = ctx.profile;
  if (p === undefined || p.sampleCount() === 0) return [];
  const found = new Map<string, ThreadpoolSubmitter>();
  for (const sample of p.samples(profileWindow(ctx, w))) {
    // Outermost Node frame of a thread-pool module, then the innermost app frame above it.
    for (let d = 0; d < sample.stack.length; d++) {
      const f = p.frames[sample.stack[d]!]!;
      const op = THREADPOOL_MODULES.find(([re]) => re.test(f.file))?.[1];
      if (op === undefined) continue;
      // brotliCompressSync, readFileSync...: the same modules, but the work runs on the main thread.
      if (sample.stack.slice(d).some((i) => isSyncApi(p.frames[i]!.functionName))) break;
      // The innermost named app function (a Promise executor or callback around the call is anonymous).
      let caller: HotFrame | null = null;
      for (let u = d - 1; u >= 0; u--) {
        const c = p.frames[sample.stack[u]!]!;
        if (c.kind !== 'function' || c.area !== 'app') continue;
        const named = c.functionName !== '' && c.functionName !== '(anonymous)';
        if (caller === null || named) caller = { functionName: c.functionName, file: c.file, line: c.line, column: c.column, area: c.area, selfShare: 0, totalShare: 0 };
        if (named) break;
      }
      const key = `${op}|${f.functionName}|${caller?.functionName ?? ''}|${caller?.file ?? ''}|${caller?.line ?? 0}`;
      const entry = found.get(key) ?? { op, api: f.functionName, caller, samples: 0, source: 'profile' as const };
      entry.samples += 1;
      found.set(key, entry);
      break;
    }
  }
  // Submissions with their calling code first: completion callbacks (job.ondone) have none on the stack.
  return [...found.values()].sort((a, b) => Number(b.caller !== null) - Number(a.caller !== null) || b.samples - a.samples);
}

const ADVICE: Record<string, string> = {
  crypto: 'async crypto (pbkdf2/scrypt/key generation) runs on the thread pool: cache derived keys, lower the work factor where policy allows, or run it in a worker pool (e.g. piscina) sized to the cores',
  zlib: 'zlib compression runs on the thread pool: compress once and cache, lower the level, or let a proxy compress',
  fs: 'file-system calls run on the thread pool: cache what is read repeatedly and stream large files',
  'dns.lookup': 'dns.lookup runs getaddrinfo on the thread pool: cache resolutions, connect by address, or use dns.resolve* (no thread pool)',
};

/**
 * The libuv thread pool is saturated: for at least SUSTAINED_FRACTION of the active seconds the probe's
 * tiny thread-pool task waited THREADPOOL_DELAY_MS or more beyond the event loop's own delay (its p99).
 * Names the operation type and the calling code: from the probe's stack samples of the requests that
 * were submitted while the pool queued, else from the CPU profile when it shows them.
 */
export function threadpoolSaturatedRule(ctx: RuleContext): Finding | null {
  const measured = ctx.samples.filter((s) => s.threadpoolDelayMs !== undefined);
  if (measured.length === 0) return null;
  const excess = (s: (typeof measured)[number]): number => (s.threadpoolDelayMs?.mean ?? 0) - s.loopDelayMs.p99;
  // The probe's task completes through the event loop, so its latency includes the loop's own delay:
  // only the excess over that is time queued in the thread pool. The p99, not the mean: a loop busy
  // with GC pauses and long callbacks (gc-churn at 300/s: loop delay mean 80–138 ms, p99 98–375 ms)
  // delays the completion by up to its worst turns, and must not masquerade as a full thread pool.
  const queued = sustained(measured, (s) => excess(s) >= Thresholds.THREADPOOL_DELAY_MS);
  if (queued.window === null || queued.fraction < Thresholds.SUSTAINED_FRACTION) return null;
  const delay = median(queued.matched.map((s) => s.threadpoolDelayMs?.mean ?? 0));
  const elu = meanOf(queued.matched.map((s) => s.elu));
  const latencyP50 = median(secondLatencies(ctx.timeseries, 'p50'));
  // The probe's stack samples of thread-pool requests name the caller directly; the CPU profile is the
  // fallback (runs without them), and there the JS side of submitting takes microseconds, so a sampled
  // profile may catch only the completion callbacks (no caller on the stack) or nothing at all.
  const probed = probedSubmitters(ctx, queued.window);
  const submitters = probed.length > 0 ? probed : threadpoolSubmitters(ctx, queued.window);
  // With the main thread busy, the probe's task also waits for its completion callback behind long
  // callbacks in the poll phase, which the loop-delay timer does not see (a service compressing with
  // brotliCompressSync at ELU 0.99 read as a full pool): only thread-pool work seen being submitted
  // makes it the pool's queue.
  if (elu >= Thresholds.ELU_BUSY && submitters.length === 0) return null;
  const top = submitters[0];
  const sampled = submitters.reduce((n, s) => n + s.samples, 0);
  const share = top !== undefined && top.source === 'probe' && submitters.length > 1 ? `, ${Math.round((100 * top.samples) / Math.max(1, sampled))}% of ${sampled} sampled submissions` : '';
  const named =
    top === undefined
      ? ''
      : top.caller === null
        ? `; the work queued is ${top.op} (${top.source === 'probe' ? `${top.api}, from code without a named caller on its stack` : `seen completing in ${top.api}; the submitting call was not sampled`})`
        : `; the work queued is ${top.op} (${top.api} called from ${top.caller.functionName} (${top.caller.file}:${top.caller.line})${share})`;
  const specific = top === undefined ? 'find the async crypto, zlib, fs or dns.lookup calls on the hot path' : (ADVICE[top.op] ?? '');
  return {
    category: 'threadpool-saturated',
    severity: latencyP50 > 0 && delay >= 0.25 * latencyP50 ? 'high' : 'medium',
    confidence: round(Math.min(0.95, 0.6 + 0.35 * queued.fraction)),
    title: `libuv thread pool saturated: work waits ${round(delay, 1)} ms in its queue (median per second)${elu < Thresholds.ELU_BUSY ? ` while the main thread is mostly idle (ELU ${round(elu, 2)})` : ''}${named}`,
    window: queued.window,
    evidence: [
      { metric: 'target.threadpool_delay_ms', value: round(delay, 2), threshold: Thresholds.THREADPOOL_DELAY_MS, comparison: '>=', unit: 'ms' },
      { metric: 'target.elu', value: round(elu), threshold: Thresholds.ELU_BUSY, comparison: '<', unit: 'ratio' },
      { metric: 'target.threadpool.seconds_share', value: round(queued.fraction), threshold: Thresholds.SUSTAINED_FRACTION, comparison: '>=', unit: 'ratio' },
    ],
    frames: submitters.flatMap((s) => (s.caller === null ? [] : [s.caller])).slice(0, Thresholds.FRAMES_PER_FINDING),
    recommendation: `The main thread is not the limit; the libuv thread pool (4 threads unless UV_THREADPOOL_SIZE says otherwise) is. ${specific[0]?.toUpperCase() ?? ''}${specific.slice(1)}. Raising UV_THREADPOOL_SIZE (set it before the process starts, up to the cores available) helps only when cores are idle; otherwise move the work to a worker pool or use a synchronous-free alternative. More event-loop tuning will not help.`,
  };
}

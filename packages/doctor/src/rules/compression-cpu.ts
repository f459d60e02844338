import type { Finding } from '@redline/core';
import { round, type RuleContext } from '../timeline.js';

/** Share of the target's busy CPU samples inside node:zlib that makes a finding ... */
const COMPRESSION_MIN_SHARE = 0.2;
/** ... and a medium one. */
const COMPRESSION_MEDIUM_SHARE = 0.4;
/** Fewer busy samples than this say nothing. */
const MIN_BUSY_SAMPLES = 50;

/**
 * Compression CPU share: the target's CPU profile spends a large share of its busy samples inside
 * `node:zlib` (gzip, deflate, brotli compressing or decompressing), e.g. brotli at its default
 * quality 11 on dynamic responses.
 */
export function compressionCpuRule(ctx: RuleContext): Finding | null {
  const profile = ctx.profile;
  if (!profile) return null;
  const frames = profile.frames;
  const zlib = new Uint8Array(frames.length);
  for (const f of frames) if (f.file === 'node:zlib' || f.generated.url === 'node:zlib') zlib[f.index] = 1;
  let busy = 0;
  let inZlib = 0;
  let busyCount = 0;
  const callers = new Map<string, number>();
  for (const s of profile.samples()) {
    const top = s.stack[s.stack.length - 1];
    if (top === undefined || frames[top]?.kind === 'idle') continue;
    busy += s.weightUs;
    busyCount++;
    const at = s.stack.findIndex((i) => zlib[i] === 1);
    if (at < 0) continue;
    inZlib += s.weightUs;
    // The nearest frame outside node: that asked for the compression.
    for (let j = at - 1; j >= 0; j--) {
      const f = frames[s.stack[j]!]!;
      if (f.area === 'app' || f.area === 'dependency') {
        const key = `${f.functionName || '(anonymous)'} ${f.file}:${f.line}`;
        callers.set(key, (callers.get(key) ?? 0) + s.weightUs);
        break;
      }
    }
  }
  if (busyCount < MIN_BUSY_SAMPLES || busy <= 0) return null;
  const share = inZlib / busy;
  if (share < COMPRESSION_MIN_SHARE) return null;
  const caller = [...callers].sort((a, b) => b[1] - a[1])[0]?.[0];
  return {
    category: 'compression-cpu',
    severity: share >= COMPRESSION_MEDIUM_SHARE ? 'medium' : 'low',
    confidence: 0.85,
    title: `Compression CPU: ${round(share * 100, 0)}% of the target's busy CPU is in node:zlib${caller ? ` (called from ${caller})` : ''}`,
    window: ctx.active,
    evidence: [{ metric: 'target.cpu.zlib_share', value: round(share, 3), threshold: COMPRESSION_MIN_SHARE, comparison: '>=', unit: 'ratio' }],
    frames: [],
    recommendation:
      'The server spends its CPU compressing. Brotli at zlib\'s default quality 11 costs about 135× the CPU of quality 4 for ~22% fewer bytes (BENCHMARKS.md, bench/compression-levels.bench.ts): use quality 4–5 (BROTLI_PARAM_QUALITY) or gzip level 6 for dynamic responses, compress static assets once at build time, skip bodies under ~1 KB, or let a proxy or CDN compress.',
  };
}

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { LatencyHistogram, type RunResult, type TargetSample, type TimeseriesPoint } from '@redline/core';
import { makeRunResult } from './run-result.ts';
import { createProfileModel, type CpuProfile, type ProfileModel } from '../../src/index.ts';
import { FIXTURES } from './record.ts';

interface AutocannonInstance extends PromiseLike<unknown> {
  on(event: 'response', cb: (client: unknown, status: number, bytes: number, responseTimeMs: number) => void): void;
}
type Autocannon = (opts: Record<string, unknown>) => AutocannonInstance;
// autocannon ships no type declarations; this is the part of its API the run uses.
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

/** Root of the demo service. */
export const DEMO_ROOT = fileURLToPath(new URL('../../../demo/', import.meta.url));

/** A short probed load run against the demo service, shaped as the run engine would record it. */
export interface DemoRun {
  result: RunResult;
  profile: ProfileModel;
}

interface ProbeOut {
  startEpochMs: number;
  profile: CpuProfile;
  samples: (Omit<TargetSample, 't'> & { epochMs: number })[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Starts the demo with `bottleneck` and the mini probe, puts `rate` requests/s on it for `durationS`
 * seconds with autocannon (bounded connections and time), and returns a RunResult plus the profile.
 */
export async function runDemo(bottleneck: string, opts: { durationS?: number; rate?: number; connections?: number } = {}): Promise<DemoRun> {
  const durationS = opts.durationS ?? 6;
  const rate = opts.rate ?? 200;
  const connections = opts.connections ?? 64;
  const dir = mkdtempSync(join(tmpdir(), 'redline-demo-'));
  const outPath = join(dir, 'probe.json');
  const child = spawn(process.execPath, ['--import', join(FIXTURES, 'mini-probe.mjs'), join(DEMO_ROOT, 'dist/server.js'), '--bottleneck', bottleneck], {
    env: { ...process.env, PORT: '0', MINI_PROBE_OUT: outPath },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let text = '';
      const timer = setTimeout(() => reject(new Error(`demo did not start: ${stderr}`)), 15_000);
      child.stdout.on('data', (d: Buffer) => {
        text += d.toString();
        const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(text);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      child.once('exit', (code) => reject(new Error(`demo exited with ${code}: ${stderr}`)));
    });
    // Per-second buckets keyed by the second the response arrived in, as the run engine's timeline.
    const startMs = Date.now();
    const buckets: { requests: number; errors: number; hist: LatencyHistogram }[] = Array.from({ length: durationS + 2 }, () => ({
      requests: 0,
      errors: 0,
      hist: new LatencyHistogram(),
    }));
    const instance = autocannon({ url: `http://127.0.0.1:${port}/`, connections, overallRate: rate, duration: durationS, timeout: 10 });
    instance.on('response', (_c, status, _bytes, responseTimeMs) => {
      const b = buckets[Math.min(buckets.length - 1, Math.floor((Date.now() - startMs) / 1000))]!;
      b.requests++;
      if (status >= 400) b.errors++;
      b.hist.recordMs(responseTimeMs);
    });
    await instance;
    child.kill('SIGUSR2');
    for (let i = 0; i < 100 && !existsSync(outPath); i++) await sleep(100);
    const probe = JSON.parse(readFileSync(outPath, 'utf8')) as ProbeOut;
    const timeseries: TimeseriesPoint[] = buckets.slice(0, durationS).map((b, i) => {
      const q = (p: number): number => (b.requests > 0 ? b.hist.percentileMs(p) : 0);
      const lat = { p50: q(50), p90: q(90), p99: q(99), max: q(100) };
      return {
        t: i + 1,
        requests: b.requests,
        errors: b.errors,
        errorsByKind: (b.errors > 0 ? { http_5xx: b.errors } : {}) as Record<string, number>,
        latency: lat,
        serviceTime: lat,
        iterations: b.requests,
        iterationsDropped: 0,
        vus: connections,
        intendedRate: rate,
        scheduleLagMs: { p50: 0, p99: 0, max: 0 },
      };
    });
    const samples: TargetSample[] = probe.samples
      .map(({ epochMs, ...s }) => ({ ...s, t: Math.round((epochMs - startMs) / 1000) }))
      .filter((s) => s.t >= 1 && s.t <= durationS);
    const requests = timeseries.reduce((n, p) => n + p.requests, 0);
    const errors = timeseries.reduce((n, p) => n + p.errors, 0);
    const result = makeRunResult({ startMs, durationS, timeseries, samples, requests, errors });
    const profile = createProfileModel(probe.profile, { startEpochMs: probe.startEpochMs, appRoot: DEMO_ROOT });
    return { result, profile };
  } finally {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      const exited = await Promise.race([once(child, 'exit').then(() => true), sleep(3000).then(() => false)]);
      if (!exited) child.kill('SIGKILL');
    }
  }
}

/** Compiles the demo service (TypeScript → dist/ with source maps), as `npm run build` does for packages/demo. */
export async function buildDemo(): Promise<void> {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [tsc, '-p', join(DEMO_ROOT, 'tsconfig.json')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`demo build failed: ${out}`))));
  });
}

// Real runs for judging compare on real noise: a work server in its own process, the real load
// engine, run directories on disk. Shared by compare-real-noise.test.ts (short) and
// bench/compare-noise.bench.ts (long).
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { quickPlan, runLoad, writeRunDir } from '@redline/load';
import { compareRuns, type CompareResult } from '../../src/index.ts';

/** A work server: `url`, and `close()` to stop its process. */
export interface WorkServer {
  url: string;
  close(): Promise<void>;
}

/** What a work server does per request: `workUs` µs of synchronous work, then a `delayMs` ms timer. */
export interface WorkSpec {
  workUs?: number;
  delayMs?: number;
}

/** Starts a work server (port 0, own process). */
export async function startWorkServer(spec: WorkSpec): Promise<WorkServer> {
  const child: ChildProcess = spawn(process.execPath, [new URL('../fixtures/work-server.mjs', import.meta.url).pathname], {
    env: { ...process.env, WORK_US: String(spec.workUs ?? 0), DELAY_MS: String(spec.delayMs ?? 0) },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('work server did not start within 10 s')), 10_000);
    let text = '';
    child.stdout!.on('data', (d: Buffer) => {
      text += d.toString();
      const m = /port (\d+)/.exec(text);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => reject(new Error(`work server exited with ${String(code)}`)));
  });
  return {
    url: `http://127.0.0.1:${port}/work`,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** One real run of constant-arrival-rate load against `url`, written to `dir`. */
export async function realRun(url: string, dir: string, ratePerSec: number, durationS: number): Promise<string> {
  const plan = await quickPlan({ url, rate: String(ratePerSec), duration: `${durationS}s`, timeout: '5s' });
  return writeRunDir(await runLoad(plan, { workers: 1 }), dir);
}

/** Settings of one repetition. */
export interface NoiseTrialOptions {
  root: string;
  /** Servers: `base` for the base side, then each of `candidates` for one comparison each. */
  base: WorkServer;
  candidates: Record<string, WorkServer>;
  runsPerSide: number;
  ratePerSec: number;
  durationS: number;
  seed: number;
}

/**
 * One repetition: `runsPerSide` runs against the base server and against each candidate server,
 * interleaved (base, candidate 1, candidate 2, base, ...) so a drift in the machine's load hits both
 * sides alike, then one comparison per candidate against the same base runs.
 */
export async function noiseTrial(o: NoiseTrialOptions): Promise<Record<string, CompareResult>> {
  const baseDirs: string[] = [];
  const candDirs: Record<string, string[]> = Object.fromEntries(Object.keys(o.candidates).map((k) => [k, []]));
  for (let i = 0; i < o.runsPerSide; i++) {
    baseDirs.push(await realRun(o.base.url, join(o.root, `base-${i}`), o.ratePerSec, o.durationS));
    for (const [name, server] of Object.entries(o.candidates)) {
      candDirs[name]!.push(await realRun(server.url, join(o.root, `${name}-${i}`), o.ratePerSec, o.durationS));
    }
  }
  const out: Record<string, CompareResult> = {};
  for (const name of Object.keys(o.candidates)) out[name] = await compareRuns(baseDirs, candDirs[name]!, { seed: o.seed, profiles: false });
  return out;
}

/** The metrics a comparison called regressed. */
export function regressedMetrics(cmp: CompareResult): string[] {
  return cmp.metrics.filter((m) => m.verdict === 'regressed').map((m) => m.metric);
}

// Cost of each streaming output and of the dashboard on the fast path: HTTP/1.1 keep-alive GET
// against nginx (core 1), 50 VUs, 1 engine worker, generator pinned to core 0 (its main thread,
// where the outputs run, shares that core with the engine). Modes, interleaved per round in rotating
// order: no outputs; each output on its own — json=FILE, csv=FILE, prometheus= (remote write to a
// real Prometheus with native histograms), otlp= (OTLP/HTTP JSON to a small receiver process); the
// dashboard with one SSE client; and json + csv + prometheus together (`outputs`, session 4's mode).
//
// What decides the verdict is measured directly, per thread (/proc/self/task/*/schedstat): the CPU
// per second of every thread but the engine's — the runner's main thread, where the outputs run
// with their write callbacks, and the rest (V8's GC helpers, libuv's pool for file writes) — in a
// mode, minus the same in the "none" run of the same round, as a share of the generator's whole CPU
// per second in that "none" run (the verdict: the engine's fast path saturates its core, so its
// throughput is what it gets of that CPU) and of one core. The engine thread, whose CPU is what throughput is made
// of, never runs output code, so that difference is the CPU the outputs take from the core the
// engine shares: it resolves 2 % where end-to-end request ratios on a busy machine cannot (they
// are printed too). Median over rounds, with the range.
// Usage: node --import tsx bench/outputs-overhead.bench.ts
//   OUTPUTS_BENCH_DURATION_S=10, OUTPUTS_BENCH_ROUNDS=4, OUTPUTS_BENCH_WARMUP_S=4 (the steady-state window
//   opens at that second: before, V8 is still compiling the outputs' code, which runs once a second),
//   OUTPUTS_BENCH_MODES=json,csv,prometheus,otlp,dashboard (which to run besides "none"; add `outputs` for the three together)
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startNginx } from './nginx/start-nginx.js';
import { envInt, perCpuSecond, runGen, verdict, type GenResult } from './fixtures/load-harness.js';

const VUS = 50;
const durationS = envInt('OUTPUTS_BENCH_DURATION_S', 10);
const rounds = envInt('OUTPUTS_BENCH_ROUNDS', 4);
/** Seconds before the steady-state window opens: V8 compiles and optimises code that runs once a second only after a few runs. */
const warmupS = envInt('OUTPUTS_BENCH_WARMUP_S', 4);
const GEN = fileURLToPath(new URL('./fixtures/outputs-gen.ts', import.meta.url));
const SINK = fileURLToPath(new URL('./fixtures/otlp-sink.ts', import.meta.url));
const ALL_MODES = ['json', 'csv', 'prometheus', 'otlp', 'dashboard', 'outputs'] as const;
const LABELS: Record<string, string> = {
  json: 'json=FILE',
  csv: 'csv=FILE',
  prometheus: 'prometheus remote write',
  otlp: 'otlp metrics',
  dashboard: 'dashboard + 1 SSE client',
  outputs: 'json+csv+prometheus together',
};

/** The OTLP receiver, another process on core 1. */
async function startOtlpSink(): Promise<{ url: string; stop(): void }> {
  const child = spawn('taskset', ['-c', '1', process.execPath, '--import', 'tsx', SINK], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const line = out.split('\n')[0]!;
      if (out.includes('\n')) resolve(line.trim());
    });
    child.once('exit', (code) => reject(new Error(`otlp sink exited (${code})`)));
  });
  return { url, stop: () => void child.kill('SIGTERM') };
}

async function startPrometheus(): Promise<{ writeUrl: string; stop(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'redline-bench-prom-'));
  writeFileSync(join(dir, 'prometheus.yml'), 'global: {}\n');
  const port = await freePort();
  const child = spawn('taskset', ['-c', '1', 'prometheus', '--web.enable-remote-write-receiver', '--enable-feature=native-histograms', `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  while (!(await fetch(`${base}/-/ready`).then((r) => r.ok, () => false))) {
    if (Date.now() > deadline) throw new Error('prometheus did not get ready');
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    writeUrl: `${base}/api/v1/write`,
    stop: () => {
      child.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const median = (xs: number[]): number => {
  const o = [...xs].sort((a, b) => a - b);
  const m = Math.floor(o.length / 2);
  return o.length % 2 ? o[m]! : (o[m - 1]! + o[m]!) / 2;
};
const range = (xs: number[], digits: number): string => `${Math.min(...xs).toFixed(digits)} … ${Math.max(...xs).toFixed(digits)}`;
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

/** What the generator child adds to GenResult: per-thread CPU over the load window, and the outputs' own synchronous CPU. */
type Threads = { mainMs: number; poolMs: number; otherMs: number };
/** One measurement window of a run: the whole load, or its steady state (after the warm-up seconds). */
type Window = { requests: number; cpuMs: number; wallMs: number; threads: Threads };
type Run = GenResult & { outputsSyncMsPerSecond?: number; outputProblems?: string[]; threads: Threads; steady: Window };
const perS = (r: Window, ms: number): number => ms / (r.wallMs / 1000);
/** CPU ms per second of every thread but the engine's (the engine's threads have exited by the last reading: they are the rest of process.cpuUsage). */
const runnerSide = (r: Window): number => perS(r, r.threads.mainMs + r.threads.poolMs + r.threads.otherMs);
const engineMs = (r: Window): number => r.cpuMs - r.threads.mainMs - r.threads.poolMs - r.threads.otherMs;

async function main(): Promise<void> {
  const wanted = (process.env.OUTPUTS_BENCH_MODES ?? 'json,csv,prometheus,otlp,dashboard').split(',').map((m) => m.trim()).filter(Boolean);
  for (const m of wanted) if (!(ALL_MODES as readonly string[]).includes(m)) throw new Error(`OUTPUTS_BENCH_MODES: unknown mode ${m} (known: ${ALL_MODES.join(', ')})`);
  const nginx = await startNginx(1);
  const prom = await startPrometheus();
  const sink = await startOtlpSink();
  try {
    console.log(`outputs-overhead: GET ${nginx.url}, ${VUS} VUs, 1 worker, ${durationS} s × ${rounds} rounds (steady state from second ${warmupS + 1}), modes none + ${wanted.join(', ')}; generator on core 0, nginx, prometheus and the OTLP receiver on core 1`);
    const modes = ['none', ...wanted];
    const byMode: Record<string, Run[]> = Object.fromEntries(modes.map((m) => [m, []]));
    for (let round = 1; round <= rounds; round++) {
      // Rotate the order each round so drift on a shared machine does not favour one mode.
      const order = modes.map((_, i) => modes[(i + round - 1) % modes.length]!);
      for (const mode of order) {
        const r = (await runGen(mode, { url: nginx.url, vus: VUS, durationS, workers: 1, promUrl: prom.writeUrl, otlpUrl: sink.url, warmupS }, { script: GEN })) as Run;
        byMode[mode]!.push(r);
        for (const p of r.outputProblems ?? []) console.log(`    ${p}`);
        const t = r.threads;
        console.log(
          `  round ${round} ${mode.padEnd(10)} ${fmt(r.requests).padStart(9)} req  ${fmt(perCpuSecond(r)).padStart(7)} req/CPU-s  CPU/s: all ${perS(r, r.cpuMs).toFixed(0).padStart(4)} ms, engine ${perS(r, engineMs(r)).toFixed(0).padStart(4)}, main ${perS(r, t.mainMs).toFixed(1).padStart(5)}, other threads ${perS(r, t.poolMs + t.otherMs).toFixed(1)}${r.outputsSyncMsPerSecond ? `; process CPU during set.second() ${r.outputsSyncMsPerSecond.toFixed(2)} ms/s` : ''}  ${r.errors} errors`,
        );
      }
    }
    const table: string[] = [];
    for (const mode of wanted) {
      const label = LABELS[mode]!;
      const row: string[] = [label];
      for (const which of ['steady', 'whole'] as const) {
        const pick = (r: Run): Window => (which === 'steady' ? r.steady : r);
        const runs = byMode[mode]!.map(pick);
        const base = byMode.none!.map(pick);
        const tag = which === 'steady' ? `steady state (from second ${warmupS + 1})` : 'whole run (with the first seconds)';
        const mainDelta = runs.map((r, i) => perS(r, r.threads.mainMs) - perS(base[i]!, base[i]!.threads.mainMs));
        const otherDelta = runs.map((r, i) => perS(r, r.threads.otherMs + r.threads.poolMs) - perS(base[i]!, base[i]!.threads.otherMs + base[i]!.threads.poolMs));
        const delta = runs.map((r, i) => runnerSide(r) - runnerSide(base[i]!));
        const share = runs.map((r, i) => (100 * (runnerSide(r) - runnerSide(base[i]!))) / perS(base[i]!, base[i]!.cpuMs));
        const eff = runs.map((r, i) => perCpuSecond(r) / perCpuSecond(base[i]!));
        console.log(`  ${label}, ${tag}: +${median(delta).toFixed(2)} ms CPU per second outside the engine over "none" (rounds ${range(delta, 2)}): main thread +${median(mainDelta).toFixed(2)} (${range(mainDelta, 2)}), other threads +${median(otherDelta).toFixed(2)} (${range(otherDelta, 2)})`);
        console.log(`  ${label}, ${tag}: = ${median(share).toFixed(2)} % of the generator's CPU per second (rounds ${range(share, 2)}), ${(median(delta) / 10).toFixed(2)} % of one core; end to end req/CPU-s ${median(eff).toFixed(3)}× of none (rounds ${range(eff, 3)})`);
        // The engine's throughput is made of the CPU it gets on its core: what the outputs take there is
        // the share of throughput they cost, relative to the generator's whole CPU (≈ one core when quiet).
        if (which === 'steady') verdict(`${label} costs ≤ 2 % of the generator's CPU in steady state (median of per-round differences)`, median(share) <= 2, `${median(share).toFixed(2)} % (${(median(delta) / 10).toFixed(2)} % of one core)`);
        row.push(`+${median(delta).toFixed(1)} [${range(delta, 1)}]`, `${median(share).toFixed(2)} % [${range(share, 2)}]`);
        if (which === 'steady') row.push(`+${median(mainDelta).toFixed(1)} / +${median(otherDelta).toFixed(1)}`);
      }
      const sync = byMode[mode]!.map((r) => r.outputsSyncMsPerSecond ?? 0);
      row.push(median(sync).toFixed(2));
      table.push(`| ${row.join(' | ')} |`);
    }
    console.log('\n| mode | steady Δ ms/s [rounds] | steady / generator CPU [rounds] | steady main / other Δ | whole-run Δ ms/s [rounds] | whole-run / generator CPU [rounds] | process CPU in set.second() ms/s |');
    console.log('|---|---|---|---|---|---|---|');
    for (const row of table) console.log(row);
  } finally {
    sink.stop();
    prom.stop();
    await nginx.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

// HTTP/2 fast path: requests per generator CPU-second of Redline (static quick mode, --http2, h2c
// with prior knowledge, 1 connection, 50 VUs = 50 concurrent streams, 1 worker thread) against
// h2load (nghttp2, native: -c1 -m50 -t1) and a plain node:http2 client loop (50 concurrent streams
// on one session), all against nginx with http2 on the other core, in the same run. Then the
// HTTP/1.1 fast path against autocannon (50 connections), to check it keeps its ratio.
// Targets: Redline ≥ 0.5× h2load and ≥ 2× the node:http2 loop.
// Usage: node --import tsx bench/http2.bench.ts   (LOAD_BENCH_DURATION_S=10, LOAD_BENCH_ROUNDS=1)
// H2_BENCH_BASELINE=<dir>: also runs the Redline of another built checkout (its
// bench/fixtures/h2-gen.ts) in every round, for a before/after in the same conditions.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startNginx } from './nginx/start-nginx.js';
import { envInt, perCpuSecond, runGen, verdict, type GenResult } from './fixtures/load-harness.js';

const STREAMS = 50;
const durationS = envInt('LOAD_BENCH_DURATION_S', 10);
const rounds = envInt('LOAD_BENCH_ROUNDS', 1);
const H2_GEN = fileURLToPath(new URL('./fixtures/h2-gen.ts', import.meta.url));
const baselineDir = process.env.H2_BENCH_BASELINE;

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Runs h2load pinned to `core`; CPU time from /usr/bin/time (user + system). */
function runH2load(url: string, streams: number, seconds: number, core = 0): Promise<{ requests: number; errors: number; cpuMs: number }> {
  const cmd = `exec /usr/bin/time -f 'CPU %U %S' taskset -c ${core} h2load -t1 -c1 -m${streams} -D ${seconds} '${url}'`;
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', cmd], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => {
      const req = /requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded/.exec(out);
      const cpu = /CPU ([\d.]+) ([\d.]+)/.exec(err);
      if (code !== 0 || !req || !cpu) reject(new Error(`h2load failed (exit ${code}): ${out}${err}`));
      else resolve({ requests: Number(req[2]), errors: Number(req[2]) - Number(req[3]), cpuMs: (Number(cpu[1]) + Number(cpu[2])) * 1000 });
    });
  });
}

function row(name: string, r: { requests: number; cpuMs: number; errors: number; syscalls?: { writes: number } }): void {
  const perWrite = r.syscalls && r.syscalls.writes > 0 ? `  ${(r.requests / r.syscalls.writes).toFixed(1)} req/write` : '';
  console.log(`  ${name.padEnd(34)} ${fmt(r.requests).padStart(10)} req  ${(r.cpuMs / 1000).toFixed(2).padStart(6)} CPU-s  ${fmt(perCpuSecond(r)).padStart(8)} req/CPU-s${r.errors ? `  errors ${r.errors}` : ''}${perWrite}`);
}

async function main(): Promise<void> {
  const h2 = await startNginx(1, 'nginx-h2.conf.template');
  const vsH2load: number[] = [];
  const vsNode: number[] = [];
  try {
    console.log(`http2: GET ${h2.url} (h2c, prior knowledge), 1 connection × ${STREAMS} streams, ${durationS} s, generator on core 0, nginx on core 1`);
    for (let round = 1; round <= rounds; round++) {
      const redlineOptions = { url: h2.url, vus: STREAMS, connections: 1, maxStreams: 100, durationS };
      const redline: GenResult = await runGen('redline-h2', redlineOptions, { script: H2_GEN });
      const native = await runH2load(h2.url, STREAMS, durationS);
      const loop: GenResult = await runGen('node-h2-loop', { url: h2.url, streams: STREAMS, durationS }, { script: H2_GEN });
      const before = baselineDir ? await runGen('redline-h2', redlineOptions, { script: `${baselineDir}/bench/fixtures/h2-gen.ts` }) : null;
      console.log(`round ${round}:`);
      row('redline --http2 (static, 1 worker)', redline);
      row('h2load -c1 -m50 -t1 (native)', native);
      row('node:http2 loop (50 streams)', loop);
      if (before) row('redline before (H2_BENCH_BASELINE)', before);
      const a = perCpuSecond(redline) / perCpuSecond(native);
      const b = perCpuSecond(redline) / perCpuSecond(loop);
      vsH2load.push(a);
      vsNode.push(b);
      const was = before ? `   before / h2load = ${(perCpuSecond(before) / perCpuSecond(native)).toFixed(2)}×   redline / before = ${(perCpuSecond(redline) / perCpuSecond(before)).toFixed(2)}×` : '';
      console.log(`  redline / h2load = ${a.toFixed(2)}×   redline / node:http2 loop = ${b.toFixed(2)}×${was}`);
    }
  } finally {
    await h2.stop();
  }
  const h1 = await startNginx(1);
  let h1Ratio = 0;
  try {
    const redline = await runGen('redline-vus', { url: h1.url, vus: STREAMS, durationS, workers: 1 });
    const ac = await runGen('autocannon', { url: h1.url, connections: STREAMS, durationS });
    console.log(`http1 check: GET ${h1.url}, ${STREAMS} connections, ${durationS} s`);
    row('redline (HTTP/1.1 static, 1 worker)', redline);
    row('autocannon', ac);
    h1Ratio = perCpuSecond(redline) / perCpuSecond(ac);
    console.log(`  redline / autocannon = ${h1Ratio.toFixed(2)}×`);
  } finally {
    await h1.stop();
  }
  const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  const spread = (xs: number[]): string => (xs.length > 1 ? ` (${xs.map((x) => x.toFixed(2)).join(', ')})` : '');
  verdict('HTTP/2 fast path ≥ 0.5× h2load req/CPU-s', median(vsH2load) >= 0.5, `median ${median(vsH2load).toFixed(2)}×${spread(vsH2load)}`);
  verdict('HTTP/2 fast path ≥ 2× node:http2 loop req/CPU-s', median(vsNode) >= 2, `median ${median(vsNode).toFixed(2)}×${spread(vsNode)}`);
  verdict('HTTP/1.1 fast path still ≥ 1.5× autocannon req/CPU-s', h1Ratio >= 1.5, `${h1Ratio.toFixed(2)}×`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

// gRPC unary calls per generator CPU-second: Redline's --grpc fast path (quick mode, 1 worker
// thread, 50 VUs) against a plain @grpc/grpc-js client loop (proto-loader, 50 concurrent calls on
// one channel), in the same run, both against the same server on the other core: a minimal gRPC
// server on node:http2 (bench/fixtures/grpc-h2-server.mjs) that answers every call with one fixed
// reply, so the generators are the limit.
// Target: Redline ≥ 1.5× the @grpc/grpc-js loop.
// Usage: node --import tsx bench/grpc.bench.ts   (LOAD_BENCH_DURATION_S=10, LOAD_BENCH_ROUNDS=3)
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { envInt, perCpuSecond, runGen, verdict, type GenResult } from './fixtures/load-harness.js';

const CONCURRENCY = 50;
const durationS = envInt('LOAD_BENCH_DURATION_S', 10);
const rounds = envInt('LOAD_BENCH_ROUNDS', 3);
const GEN = fileURLToPath(new URL('./fixtures/h2-gen.ts', import.meta.url));
const SERVER = fileURLToPath(new URL('./fixtures/grpc-h2-server.mjs', import.meta.url));

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function startServer(core: number): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn('taskset', ['-c', String(core), process.execPath, SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /LISTENING (\d+)/.exec(out);
      if (m) resolve({ port: Number(m[1]), child });
    });
    child.once('exit', (code) => reject(new Error(`gRPC bench server exited (${code})`)));
  });
}

function row(name: string, r: GenResult): void {
  console.log(`  ${name.padEnd(38)} ${fmt(r.requests).padStart(9)} calls  ${(r.cpuMs / 1000).toFixed(2).padStart(6)} CPU-s  ${fmt(perCpuSecond(r)).padStart(7)} calls/CPU-s${r.errors ? `  errors ${r.errors}` : ''}`);
}

async function main(): Promise<void> {
  const server = await startServer(1);
  const address = `127.0.0.1:${server.port}`;
  const ratios: number[] = [];
  try {
    console.log(`grpc: redline.test.Echo/Say on ${address}, ${CONCURRENCY} concurrent calls, ${durationS} s, generator on core 0, server on core 1`);
    for (let round = 1; round <= rounds; round++) {
      const redline = await runGen('redline-grpc', { address, vus: CONCURRENCY, durationS }, { script: GEN });
      const loop = await runGen('grpcjs-loop', { address, concurrency: CONCURRENCY, durationS }, { script: GEN });
      const ratio = perCpuSecond(redline) / perCpuSecond(loop);
      ratios.push(ratio);
      console.log(`round ${round}:`);
      row('redline --grpc (fast path, 1 worker)', redline);
      row(`@grpc/grpc-js loop (${CONCURRENCY} calls)`, loop);
      console.log(`  redline / grpc-js loop = ${ratio.toFixed(2)}×`);
    }
  } finally {
    server.child.kill('SIGTERM');
  }
  const median = [...ratios].sort((x, y) => x - y)[Math.floor(ratios.length / 2)]!;
  verdict('gRPC fast path ≥ 1.5× @grpc/grpc-js loop calls/CPU-s', median >= 1.5, `median ${median.toFixed(2)}× (${ratios.map((r) => r.toFixed(2)).join(', ')})`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

// WebSocket: echoed messages per generator CPU-second of Redline's fast path (quick mode on a ws://
// URL: no script per message) and of its ctx.ws (scripted), each 1 worker thread and 50 VUs sending
// the next message when the echo arrives, latency recorded per message, against a plain `ws`
// client loop doing the same on 50 connections, in the same run (order rotated per round), against
// a `ws` echo server on the other core. 32-byte text messages everywhere. Then 10,000 connections opened by ctx.ws at 1,000/s and held
// open (all open at once for a few seconds): the generator's peak RSS, next to a run of 100.
// Targets: Redline (fast path) ≥ 1.5× the ws loop; 10,000 open connections (ctx.ws) ≤ 300 MB RSS.
// Usage: node --import tsx bench/websocket.bench.ts
//   (LOAD_BENCH_DURATION_S=10, LOAD_BENCH_ROUNDS=3 (0: the held connections only), WS_BENCH_CONNECTIONS=10000)
// The 10,000 connections need 10,000 file descriptors in the generator and in the server: the
// children raise their soft limit to the hard limit (`ulimit -n $(ulimit -Hn)`), nothing more.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { envInt, perCpuSecond, runGen, verdict, type GenResult } from './fixtures/load-harness.js';

const CONNECTIONS = 50;
const durationS = envInt('LOAD_BENCH_DURATION_S', 10);
const rounds = envInt('LOAD_BENCH_ROUNDS', 3);
const held = envInt('WS_BENCH_CONNECTIONS', 10_000);
const GEN = fileURLToPath(new URL('./fixtures/ws-gen.ts', import.meta.url));
const SERVER = fileURLToPath(new URL('./fixtures/ws-server.mjs', import.meta.url));

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function startServer(core: number): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn('bash', ['-c', `ulimit -n $(ulimit -Hn); exec taskset -c ${core} '${process.execPath}' '${SERVER}'`], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /LISTENING (\d+)/.exec(out);
      if (m) resolve({ port: Number(m[1]), child });
    });
    child.once('exit', (code) => reject(new Error(`WebSocket bench server exited (${code})`)));
  });
}

function row(name: string, r: GenResult): void {
  // User and system CPU apart: a message's floor is one write and one read system call on each side.
  console.log(`  ${name.padEnd(36)} ${fmt(r.requests).padStart(9)} msgs  ${(r.cpuMs / 1000).toFixed(2).padStart(6)} CPU-s (user ${(r.userMs / 1000).toFixed(2)}, sys ${(r.sysMs / 1000).toFixed(2)})  ${fmt(perCpuSecond(r)).padStart(7)} msgs/CPU-s${r.errors ? `  errors ${r.errors}` : ''}`);
}

async function main(): Promise<void> {
  const server = await startServer(1);
  const url = `ws://127.0.0.1:${server.port}/`;
  const ratios: number[] = [];
  const scriptedRatios: number[] = [];
  let hold: GenResult | null = null;
  try {
    console.log(`websocket: echo on ${url}, ${CONNECTIONS} connections, ${durationS} s, generator on core 0, server on core 1`);
    for (let round = 1; round <= rounds; round++) {
      // Rotate the order: the machine's load drifts within a round.
      const modes = ['redline-ws-fast', 'redline-ws', 'ws-loop'];
      const order = modes.map((_, i) => modes[(i + round - 1) % modes.length]!);
      const got: Record<string, GenResult> = {};
      for (const mode of order) got[mode] = await runGen(mode, mode === 'ws-loop' ? { url, connections: CONNECTIONS, durationS } : { url, vus: CONNECTIONS, durationS }, { script: GEN });
      const fast = got['redline-ws-fast']!;
      const scripted = got['redline-ws']!;
      const loop = got['ws-loop']!;
      const ratio = perCpuSecond(fast) / perCpuSecond(loop);
      ratios.push(ratio);
      scriptedRatios.push(perCpuSecond(scripted) / perCpuSecond(loop));
      console.log(`round ${round} (order ${order.join(', ')}):`);
      row('redline fast path (quick ws://, 1 worker)', fast);
      row('redline ctx.ws (scripted, 1 worker)', scripted);
      row(`ws loop (${CONNECTIONS} connections)`, loop);
      console.log(`  fast path / ws loop = ${ratio.toFixed(2)}×, ctx.ws / ws loop = ${scriptedRatios.at(-1)!.toFixed(2)}×`);
    }
    // Connections opened at 1,000/s (open model) and each held 12 s, so all are open at once.
    const base = await runGen('redline-ws-hold', { url, vus: 100, rate: 100, holdMs: 2000 }, { script: GEN });
    hold = await runGen('redline-ws-hold', { url, vus: held, rate: 1000, holdMs: 12_000 }, { script: GEN });
    const perConnKb = ((hold.maxRssMb - base.maxRssMb) * 1024) / (held - 100);
    console.log(`hold: 100 connections: peak RSS ${base.maxRssMb.toFixed(0)} MB; ${fmt(held)} connections: peak RSS ${hold.maxRssMb.toFixed(0)} MB (${perConnKb.toFixed(1)} KB per extra connection)${hold.errors ? `, errors ${hold.errors}` : ''}`);
  } finally {
    server.child.kill('SIGTERM');
  }
  const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  // LOAD_BENCH_ROUNDS=0: the held connections only.
  if (ratios.length) verdict('WebSocket fast path messages ≥ 1.5× ws loop msgs/CPU-s', median(ratios) >= 1.5, `median ${median(ratios).toFixed(2)}× (${ratios.map((r) => r.toFixed(2)).join(', ')})`);
  if (ratios.length) console.log(`info  ctx.ws (scripted) / ws loop msgs/CPU-s: median ${median(scriptedRatios).toFixed(2)}× (${scriptedRatios.map((r) => r.toFixed(2)).join(', ')})`);
  verdict(`${fmt(held)} open WebSocket connections ≤ 300 MB RSS`, hold !== null && hold.errors === 0 && hold.maxRssMb <= 300, `${hold?.maxRssMb.toFixed(0)} MB, handshake failures ${hold?.errors}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

/**
 * What one sampled request costs the traced target, in its own CPU time: the `healthy` pg fixture
 * (real PostgreSQL) with Redline's preload, loaded with a fixed number of requests flagged
 * unsampled, then the same number flagged sampled, in alternating blocks; the CPU the target
 * used per request (all its threads, from /proc) in each block. One connection at a time by
 * default, so sampled requests never overlap (the async hooks are on only during each one);
 * `--connections N` overlaps them. Complements bench/trace-overhead.bench.ts (capacity A/B): this
 * is far less noisy on a busy machine because it counts CPU, not requests per second.
 * Usage: node --import tsx bench/trace-sampled-cost.bench.ts [--requests N] [--blocks B] [--connections C] [--env K=V]
 */
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { launchTarget } from '@redline/probe/host';
import { startReceiver, TRACE_REGISTER_CJS } from '@redline/trace';
import { envArgs, numberArg, processCpuSeconds } from './fixtures/bench-args.ts';
import { startOrdersDb } from './fixtures/orders-db.ts';

type Autocannon = (opts: { url: string; connections: number; amount: number; requests?: Array<{ setupRequest(req: object): object }> }) => Promise<{ requests: { total: number }; errors: number; non2xx: number }>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const args = process.argv.slice(2);
const arg = (name: string, fallback: number): number => numberArg(args, name, fallback);
const requests = arg('--requests', 2000);
const blocks = arg('--blocks', 4);
const connections = arg('--connections', 1);
const extraEnv = envArgs(args);
const fixture = fileURLToPath(new URL('../packages/trace/test/fixtures/pg-service.mjs', import.meta.url));
const TAG = 'c0ffee01';

const db = await startOrdersDb();
const receiver = await startReceiver({ runTag: TAG, pendingTtlMs: 2000 });
const srv = createServer();
await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
const port = (srv.address() as { port: number }).port;
await new Promise((r) => srv.close(r));
const target = await launchTarget({
  command: `exec "${process.execPath}" "${fixture}" healthy`,
  env: { PORT: String(port), PG_URL: db.url, NODE_OPTIONS: `--require "${TRACE_REGISTER_CJS}"`, REDLINE_TRACE_ENDPOINT: receiver.url, ...extraEnv },
  probe: false,
  waitForUrl: `http://127.0.0.1:${port}/`,
});

let seq = 0;
async function block(sampled: boolean, n: number): Promise<number> {
  const before = processCpuSeconds(target.pid);
  const setupRequest = (req: { headers?: Record<string, string> }): object => ({
    ...req,
    headers: { ...req.headers, traceparent: `00-${TAG}${(++seq).toString(16).padStart(24, '0')}-1000000000000001-${sampled ? '01' : '00'}` },
  });
  const r = await autocannon({ url: `http://127.0.0.1:${port}/`, connections, amount: n, requests: [{ setupRequest }] });
  if (r.errors > 0 || r.non2xx > 0) throw new Error(`errors: ${r.errors}, non-2xx: ${r.non2xx}`);
  // Let the batch processor export what the block left (200 ms delay), inside the block's CPU.
  await new Promise((res) => setTimeout(res, 400));
  return ((processCpuSeconds(target.pid) - before) / r.requests.total) * 1e6;
}

try {
  // Warm-up: both paths optimised before anything counts.
  await block(false, requests / 2);
  await block(true, requests / 2);
  const un: number[] = [];
  const sa: number[] = [];
  for (let i = 0; i < blocks; i++) {
    un.push(await block(false, requests));
    sa.push(await block(true, requests));
    console.log(`block ${i + 1}: unsampled ${un.at(-1)!.toFixed(0)} µs/request, sampled ${sa.at(-1)!.toFixed(0)} µs/request, extra per sampled request ${(sa.at(-1)! - un.at(-1)!).toFixed(0)} µs`);
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const extra = sa.map((s, i) => s - un[i]!);
  console.log(`median: unsampled ${median(un).toFixed(0)} µs, sampled ${median(sa).toFixed(0)} µs, extra ${median(extra).toFixed(0)} µs per sampled request (${(median(sa) / median(un)).toFixed(2)}×), connections ${connections}`);
} finally {
  await target.stop();
  await receiver.close();
  await db.stop();
}

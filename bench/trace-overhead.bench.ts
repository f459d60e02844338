/**
 * Capacity cost of `--trace` on a pg-backed service (real PostgreSQL): closed-loop throughput of the
 * same service without tracing ("off") and with Redline's OpenTelemetry preload exporting every
 * request's spans to a loopback receiver ("on", the default `--trace-sample 1`), measured A/B AT
 * THE SAME TIME under two identical autocannon loads, so whatever else runs on the shared machine
 * hits both alike. Alternate rounds compare off with the preload loaded but the requests flagged
 * unsampled (`-00`), which is what the unsampled share of `--trace-sample R` costs. Every request
 * carries a traceparent in both arms. Target: ≤ 10 % capacity loss.
 * Usage: node --import tsx bench/trace-overhead.bench.ts [--rounds N] [--seconds S]
 */
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { launchTarget } from '@redline/probe/host';
import { startReceiver, TRACE_REGISTER_CJS } from '@redline/trace';
import { startPostgres } from '../test-support/postgres.ts';

interface AutocannonResult {
  requests: { total: number };
  errors: number;
  non2xx: number;
  duration: number;
}
type Autocannon = (opts: { url: string; connections: number; duration: number; headers?: Record<string, string> }) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const args = process.argv.slice(2);
const arg = (name: string, fallback: number): number => {
  const i = args.indexOf(name);
  return i !== -1 && args[i + 1] !== undefined ? Number(args[i + 1]) : fallback;
};
const rounds = arg('--rounds', 6);
const seconds = arg('--seconds', 5);
const connections = 8;
const fixture = fileURLToPath(new URL('../packages/trace/test/fixtures/pg-service.mjs', import.meta.url));
const TAG = 'c0ffee00';

const db = await startPostgres();
const c = new pg.Client({ connectionString: db.url });
await c.connect();
await c.query('CREATE TABLE orders (id int PRIMARY KEY, user_id int NOT NULL, total numeric NOT NULL); INSERT INTO orders SELECT g, g % 100, g * 1.5 FROM generate_series(1, 1000) g; ANALYZE;');
await c.end();
// Spans of the "on" arm land here; nobody keeps them, so they expire (bounded) after 2 s.
const receiver = await startReceiver({ runTag: TAG, pendingTtlMs: 2000 });

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

async function start(traced: boolean): Promise<{ port: number; stop(): Promise<void> }> {
  const port = await freePort();
  const h = await launchTarget({
    command: `exec "${process.execPath}" "${fixture}" healthy`,
    env: { PORT: String(port), PG_URL: db.url, ...(traced ? { NODE_OPTIONS: `--require "${TRACE_REGISTER_CJS}"`, REDLINE_TRACE_ENDPOINT: receiver.url } : {}) },
    probe: false,
    waitForUrl: `http://127.0.0.1:${port}/`,
  });
  return { port, stop: async () => void (await h.stop()) };
}

let seq = 0;
const traceparent = (sampled: boolean): string => `00-${TAG}${(++seq).toString(16).padStart(24, '0')}-1000000000000001-${sampled ? '01' : '00'}`;

async function rps(port: number, sampled: boolean, duration = seconds): Promise<number> {
  const r = await autocannon({ url: `http://127.0.0.1:${port}/`, connections, duration, headers: { traceparent: traceparent(sampled) } });
  if (r.errors > 0 || r.non2xx > 0) throw new Error(`errors: ${r.errors}, non-2xx: ${r.non2xx}`);
  return r.requests.total / r.duration;
}

const ratios: Record<'sampled' | 'unsampled', number[]> = { sampled: [], unsampled: [] };
for (let i = 0; i < rounds; i++) {
  const sampled = i % 2 === 0;
  const [off, on] = await Promise.all([start(false), start(true)]);
  try {
    await Promise.all([rps(off.port, sampled, 1), rps(on.port, sampled, 1)]);
    const [a, b] = await Promise.all([rps(off.port, sampled), rps(on.port, sampled)]);
    ratios[sampled ? 'sampled' : 'unsampled'].push(b / a);
    console.log(`round ${i + 1} (${sampled ? 'every request sampled' : 'flagged unsampled'}): off ${a.toFixed(0)} req/s, on ${b.toFixed(0)} req/s, ratio ${(b / a).toFixed(3)}`);
  } finally {
    await Promise.all([off.stop(), on.stop()]);
  }
}
const median = (xs: number[]): number => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
for (const k of ['sampled', 'unsampled'] as const) {
  const m = median(ratios[k]);
  console.log(`${k}: median on/off ${m.toFixed(3)} → capacity loss ${((1 - m) * 100).toFixed(1)} % (target ≤ 10 %: ${1 - m <= 0.1 ? 'met' : 'NOT met'})`);
}
const st = receiver.stats();
console.log(`receiver: ${st.spansReceived} spans received, ${st.rejected.garbage} garbage`);
await receiver.close();
await db.stop();

/**
 * Capacity cost of `--trace` on a pg-backed service (real PostgreSQL): closed-loop throughput of the
 * same service without tracing ("off") and with Redline's OpenTelemetry preload exporting every
 * request's spans to a loopback receiver ("on", the default `--trace-sample 1`), measured A/B AT
 * THE SAME TIME under two identical autocannon loads, so whatever else runs on the shared machine
 * hits both alike. Alternate rounds compare off with the preload loaded but the requests flagged
 * unsampled (`-00`), which is what the unsampled share of `--trace-sample R` costs. Every request
 * carries a traceparent in both arms. `--ratios` takes shares (`0.1`) and budgets (`50/s`: the
 * generator's default sampler, one burst per second, `@redline/load`'s BudgetSampler). Target: ≤ 10 %
 * capacity loss.
 * Usage: node --import tsx bench/trace-overhead.bench.ts [--rounds N] [--seconds S] [--ratios 1,0.1,0,50/s] [--http otel] [--env K=V] [--prof DIR]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { BudgetSampler } from '@redline/load';
import { launchTarget } from '@redline/probe/host';
import { startReceiver, TRACE_REGISTER_CJS } from '@redline/trace';
import { envArgs, numberArg, processCpuSeconds } from './fixtures/bench-args.ts';
import { startOrdersDb } from './fixtures/orders-db.ts';

interface AutocannonResult {
  requests: { total: number };
  errors: number;
  non2xx: number;
  duration: number;
}
type Autocannon = (opts: { url: string; connections: number; duration: number; requests?: Array<{ setupRequest(req: object): object }> }) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const args = process.argv.slice(2);
const arg = (name: string, fallback: number): number => numberArg(args, name, fallback);
const rounds = arg('--rounds', 6);
const seconds = arg('--seconds', 5);
const connections = 8;
const fixture = fileURLToPath(new URL('../packages/trace/test/fixtures/pg-service.mjs', import.meta.url));
const TAG = 'c0ffee00';

const db = await startOrdersDb();
// Spans of the "on" arm land here; nobody keeps them, so they expire (bounded) after 2 s.
const receiver = await startReceiver({ runTag: TAG, pendingTtlMs: 2000 });

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** `--http otel` measures the preload with @opentelemetry/instrumentation-http instead of Redline's own HTTP hook. */
const httpArg = args.includes('--http') ? args[args.indexOf('--http') + 1] : undefined;
/** `--prof DIR` writes a CPU profile of each traced target to DIR (`--cpu-prof`), to see where a sampled request's cost goes. */
const profDir = args.includes('--prof') ? args[args.indexOf('--prof') + 1] : undefined;
/** `--env K=V` (repeatable) adds to the traced arm's environment, e.g. REDLINE_TRACE_INSTRUMENTATIONS=http. */
const extraEnv = envArgs(args);


/** Per-thread CPU seconds of a process, by thread name (`--threads`: where the CPU goes besides the main thread). */
function threadSeconds(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) + (tid === String(pid) ? ' (main)' : '');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(name, (out.get(name) ?? 0) + (Number(rest[11]) + Number(rest[12])) / 100);
    }
  } catch {
    // Not Linux, or the process is gone.
  }
  return out;
}
const showThreads = args.includes('--threads');

async function start(traced: boolean): Promise<{ port: number; pid: number; stop(): Promise<void> }> {
  const port = await freePort();
  const h = await launchTarget({
    // --cpu-prof is not allowed in NODE_OPTIONS: it goes on the command line.
    command: `exec "${process.execPath}"${profDir && (traced || args.includes("--prof-both")) ? ` --cpu-prof --cpu-prof-dir "${profDir}"` : ''} "${fixture}" healthy`,
    env: {
      PORT: String(port),
      PG_URL: db.url,
      ...(traced ? { NODE_OPTIONS: `--require "${TRACE_REGISTER_CJS}"`, REDLINE_TRACE_ENDPOINT: receiver.url, ...(httpArg === 'otel' ? { REDLINE_TRACE_HTTP: 'otel' } : {}), ...extraEnv } : {}),
    },
    probe: false,
    waitForUrl: `http://127.0.0.1:${port}/`,
  });
  // `exec` in the command: the shell's pid is the target's.
  return { port, pid: h.pid, stop: async () => void (await h.stop()) };
}

let seq = 0;
const traceparent = (sampled: boolean): string => `00-${TAG}${(++seq).toString(16).padStart(24, '0')}-1000000000000001-${sampled ? '01' : '00'}`;

/**
 * Every request gets its own trace id; a share (`0.1`: spread evenly) or a budget (`50/s`: the
 * generator's burst sampler) of them carry the sampled flag, as the generator's --trace-sample does.
 * Returns req/s and the share that was flagged.
 */
async function rps(port: number, policy: string, duration = seconds): Promise<{ rps: number; share: number; requests: number }> {
  let credit = 0;
  let flagged = 0;
  let sent = 0;
  const budget = policy.endsWith('/s') ? new BudgetSampler(Number(policy.slice(0, -2)), TAG) : null;
  const ratio = budget ? 0 : Number(policy);
  const setupRequest = (req: { headers?: Record<string, string> }): object => {
    let sampled: boolean;
    if (budget) sampled = budget.sampled(Date.now());
    else {
      credit += ratio;
      sampled = credit >= 1;
      if (sampled) credit -= 1;
    }
    sent++;
    if (sampled) flagged++;
    return { ...req, headers: { ...req.headers, traceparent: traceparent(sampled) } };
  };
  const r = await autocannon({ url: `http://127.0.0.1:${port}/`, connections, duration, requests: [{ setupRequest }] });
  if (r.errors > 0 || r.non2xx > 0) throw new Error(`errors: ${r.errors}, non-2xx: ${r.non2xx}`);
  return { rps: r.requests.total / r.duration, share: sent ? flagged / sent : 0, requests: r.requests.total };
}

/** `--ratios 1,0.1,0,50/s`: shares or budgets of requests flagged sampled, one per round in turn (default 50/s and 0). */
const ratioList = (args.includes('--ratios') ? args[args.indexOf('--ratios') + 1]! : '50/s,0').split(',');
const byRatio = new Map<string, number[]>(ratioList.map((r) => [r, []]));
const shares = new Map<string, number[]>(ratioList.map((r) => [r, []]));
/** Per round: the traced target's CPU per request over the untraced one's (the capacity cost if CPU bounds both). */
const cpuRatios = new Map<string, number[]>(ratioList.map((r) => [r, []]));
for (let i = 0; i < rounds; i++) {
  const ratio = ratioList[i % ratioList.length]!;
  const [off, on] = await Promise.all([start(false), start(true)]);
  try {
    await Promise.all([rps(off.port, ratio, 1), rps(on.port, ratio, 1)]);
    const cpu0 = [processCpuSeconds(off.pid), processCpuSeconds(on.pid)];
    const threads0 = [threadSeconds(off.pid), threadSeconds(on.pid)];
    const [ra, rb] = await Promise.all([rps(off.port, ratio), rps(on.port, ratio)]);
    const cpu1 = [processCpuSeconds(off.pid), processCpuSeconds(on.pid)];
    if (showThreads) {
      for (const [arm, pid, before] of [['off', off.pid, threads0[0]!], ['on', on.pid, threads0[1]!]] as const) {
        const after = threadSeconds(pid);
        console.log(`  ${arm} threads (CPU s): ${[...after].map(([n, v]) => `${n} ${(v - (before.get(n) ?? 0)).toFixed(2)}`).join(', ')}`);
      }
    }
    const [a, b] = [ra.rps, rb.rps];
    const usOff = ((cpu1[0]! - cpu0[0]!) / ra.requests) * 1e6;
    const usOn = ((cpu1[1]! - cpu0[1]!) / rb.requests) * 1e6;
    byRatio.get(ratio)!.push(b / a);
    shares.get(ratio)!.push(rb.share);
    cpuRatios.get(ratio)!.push(usOn / usOff);
    console.log(
      `round ${i + 1} (sampling ${ratio}): off ${a.toFixed(0)} req/s, on ${b.toFixed(0)} req/s, ratio ${(b / a).toFixed(3)}, flagged ${(rb.share * 100).toFixed(1)} % of the traced arm's requests; ` +
        `target CPU per request off ${usOff.toFixed(0)} µs, on ${usOn.toFixed(0)} µs (on/off ${(usOn / usOff).toFixed(3)})`,
    );
  } finally {
    await Promise.all([off.stop(), on.stop()]);
  }
}
const median = (xs: number[]): number => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
for (const [ratio, xs] of byRatio) {
  if (xs.length === 0) continue;
  const m = median(xs);
  const sh = shares.get(ratio)!;
  const cr = cpuRatios.get(ratio)!;
  console.log(`sampling ${ratio} (flagged ${sh.map((x) => (x * 100).toFixed(1)).join(', ')} %): median on/off ${m.toFixed(3)} over ${xs.length} rounds (${xs.map((x) => x.toFixed(2)).join(', ')}) → capacity loss ${((1 - m) * 100).toFixed(1)} % (target ≤ 10 %: ${1 - m <= 0.1 ? 'met' : 'NOT met'})`);
  console.log(`  target CPU per request on/off: median ${median(cr).toFixed(3)} (${cr.map((x) => x.toFixed(2)).join(', ')})`);
}
const st = receiver.stats();
console.log(`receiver: ${st.spansReceived} spans received, ${st.rejected.garbage} garbage`);
await receiver.close();
await db.stop();

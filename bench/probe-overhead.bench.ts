/**
 * Probe overhead: throughput of a CPU-bound HTTP target at the same load (fixed connection count,
 * closed loop) without the probe ("off") and with the probe plus CPU profiling at the defaults ("on"),
 * measured A/B in one run. The development machine is shared and its load swings by 2x within
 * seconds, so each round runs the two targets AT THE SAME TIME, each under its own autocannon with the
 * same settings: whatever else happens on the machine hits both alike, and the ratio of their
 * throughputs is the probe's cost. Rounds alternate with two more pairs (off vs probe without
 * profiling, off vs profiling at 10 ms, the default before 2026-12-02) to split the cost between
 * sampling and profiling. Also reported: CPU time per request
 * (all threads, /proc/<pid>/stat), i.e. the inverse of a CPU-bound target's capacity.
 * Target: ≤ 3 % throughput loss. Usage: node --import tsx bench/probe-overhead.bench.ts [--rounds N] [--seconds S]
 */
import { loadavg } from 'node:os';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { defaultCpuSamplingIntervalUs, launchTarget } from '@redline/probe/host';
import { numberArg, processCpuSeconds } from './fixtures/bench-args.ts';

/** The interval `redline run`/`redline demo` use by default for a 12 s run (profiled for about 10 s). */
const DEFAULT_US = defaultCpuSamplingIntervalUs(10_200);

interface AutocannonResult {
  requests: { average: number; total: number };
  errors: number;
  non2xx: number;
  duration: number;
}
type Autocannon = (opts: { url: string; connections: number; duration: number; pipelining: number }) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const args = process.argv.slice(2);
const argValue = (name: string, fallback: number): number => numberArg(args, name, fallback);
const rounds = argValue('--rounds', 8);
const seconds = argValue('--seconds', 4);
const connections = 16;
const fixture = fileURLToPath(new URL('../packages/probe/test/fixtures/cpu-server.mjs', import.meta.url));

/** User+system CPU of a process (all its threads) in ms, from /proc (Linux). */
const processCpuMs = (pid: number): number => processCpuSeconds(pid) * 1000;

interface Measurement {
  rps: number;
  cpuUsPerRequest: number;
}

interface Arm {
  port: number;
  pid: number;
  finish(): Promise<void>;
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** The same launch path as the probed arm (shell, process group, readiness poll), without the probe. */
async function startOff(): Promise<Arm> {
  const port = await freePort();
  const h = await launchTarget({
    command: `exec "${process.execPath}" "${fixture}"`,
    env: { PORT: String(port) },
    probe: false,
    waitForUrl: `http://127.0.0.1:${port}/`,
  });
  return { port, pid: h.pid, finish: async () => void (await h.stop()) };
}

/** Probe loaded and sampling every 100 ms, with CPU profiling at `samplingUs` (none when null). */
async function startOn(samplingUs: number | null): Promise<Arm> {
  // `exec` so the shell is replaced by node and /proc/<pid> is the target itself.
  const h = await launchTarget({ command: `exec "${process.execPath}" "${fixture}"`, cpuSamplingIntervalUs: samplingUs ?? 1000 });
  if (samplingUs !== null) await h.startCpuProfile();
  return {
    port: h.port as number,
    pid: h.probePid as number,
    finish: async () => {
      if (samplingUs !== null) {
        const cpu = await h.stopCpuProfile();
        if ((cpu.profile as { samples: number[] }).samples.length < 100) throw new Error('the CPU profile is nearly empty');
      }
      if (h.samples().length === 0) throw new Error('the probe sent no samples');
      await h.stop();
    },
  };
}

async function load(arm: Arm): Promise<Measurement> {
  const cpu0 = processCpuMs(arm.pid);
  const r = await autocannon({ url: `http://127.0.0.1:${arm.port}/`, connections, duration: seconds, pipelining: 1 });
  const cpuMs = processCpuMs(arm.pid) - cpu0;
  if (r.errors > 0 || r.non2xx > 0) throw new Error(`errors during the measurement: ${r.errors} errors, ${r.non2xx} non-2xx`);
  return { rps: r.requests.total / r.duration, cpuUsPerRequest: (cpuMs * 1000) / Math.max(1, r.requests.total) };
}

/** Runs off and on side by side under identical load; returns both measurements. */
async function pair(startB: () => Promise<Arm>, flip: boolean): Promise<[Measurement, Measurement]> {
  const a = flip ? await startB() : await startOff();
  const b = flip ? await startOff() : await startB();
  const [off, on] = flip ? [b, a] : [a, b];
  try {
    // Warm-up so both run optimised code, then the measured window, both at once.
    await Promise.all([off, on].map((arm) => autocannon({ url: `http://127.0.0.1:${arm.port}/`, connections, duration: 1, pipelining: 1 })));
    const [mOff, mOn] = await Promise.all([load(off), load(on)]);
    return [mOff, mOn];
  } finally {
    await Promise.all([off.finish(), on.finish()]);
  }
}

const median = (xs: number[]): number => {
  const s = xs.slice().sort((x, y) => x - y);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

const pairs = [
  { name: `probe at defaults (profile @${DEFAULT_US / 1000}ms)`, start: () => startOn(DEFAULT_US), rpsRatio: [] as number[], cpuRatio: [] as number[] },
  { name: 'probe on, CPU profile @10ms (old default)', start: () => startOn(10_000), rpsRatio: [] as number[], cpuRatio: [] as number[] },
  { name: 'probe on, no CPU profile', start: () => startOn(null), rpsRatio: [] as number[], cpuRatio: [] as number[] },
];
const loads = (): string => loadavg().map((x) => x.toFixed(2)).join(' ');
console.log(`load average at start ${loads()}`);
for (let i = 0; i < rounds; i++) {
  for (const p of pairs) {
    const [off, on] = await pair(p.start, i % 2 === 1);
    p.rpsRatio.push(on.rps / off.rps);
    p.cpuRatio.push(off.cpuUsPerRequest / on.cpuUsPerRequest);
    console.log(
      `round ${i + 1} ${p.name}: off ${off.rps.toFixed(0)} req/s ${off.cpuUsPerRequest.toFixed(0)} µs/req, ` +
        `on ${on.rps.toFixed(0)} req/s ${on.cpuUsPerRequest.toFixed(0)} µs/req → ratio ${(on.rps / off.rps).toFixed(3)}`,
    );
  }
}
console.log(`\nload average at end ${loads()}; medians over ${rounds} rounds of ${seconds} s, ${connections} connections per target:`);
for (const [k, p] of pairs.entries()) {
  const rps = median(p.rpsRatio);
  const cpu = median(p.cpuRatio);
  const cpuLosses = p.cpuRatio.map((r) => (1 - r) * 100).sort((x, y) => x - y);
  const rpsLoss = (1 - rps) * 100;
  const cpuLoss = (1 - cpu) * 100;
  console.log(
    `${p.name.padEnd(40)} throughput on/off ${rps.toFixed(4)} (loss ${rpsLoss.toFixed(2)} %), ` +
      `CPU/req off/on ${cpu.toFixed(4)} (capacity loss ${cpuLoss.toFixed(2)} %, rounds ${cpuLosses[0]!.toFixed(1)} … ${cpuLosses[cpuLosses.length - 1]!.toFixed(1)} %)` +
      // The verdict uses CPU per request: on the shared 2-vCPU machine single-round throughput ratios
      // swing from 0.6 to 4 while CPU per request stays within a few percent.
      (k === 0 ? `  → target ≤ 3 %: ${cpuLoss <= 3 ? 'met' : 'NOT met'} (by CPU per request)` : ''),
  );
}

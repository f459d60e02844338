/**
 * Probe overhead: throughput of a CPU-bound HTTP target at the same load (fixed connection count,
 * closed loop) without the probe and with the probe plus CPU profiling at 1 ms, measured A/B in one run.
 * Rounds alternate (off, on, on, off, ...) so drift on the shared machine hits both sides alike.
 * Besides req/s it reports the target's CPU time per request (all threads, from /proc/<pid>/stat):
 * for a CPU-bound target, capacity is 1 / (CPU per request), and that number does not move when
 * other processes take turns on the cores, unlike raw req/s on a shared machine.
 * Target: ≤ 3 % throughput loss. Usage: node --import tsx bench/probe-overhead.bench.ts [--rounds N] [--seconds S]
 */
import { readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { launchTarget } from '@redline/probe/host';

interface AutocannonResult {
  requests: { average: number; total: number };
  errors: number;
  non2xx: number;
  duration: number;
}
type Autocannon = (opts: { url: string; connections: number; duration: number; pipelining: number }) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const args = process.argv.slice(2);
const argValue = (name: string, fallback: number): number => {
  const i = args.indexOf(name);
  return i !== -1 && args[i + 1] !== undefined ? Number(args[i + 1]) : fallback;
};
const rounds = argValue('--rounds', 8);
const seconds = argValue('--seconds', 4);
const connections = 16;
const fixture = fileURLToPath(new URL('../packages/probe/test/fixtures/cpu-server.mjs', import.meta.url));

/** User+system CPU of a process (all its threads) in ms, from /proc (Linux). */
function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 (utime, stime) counted from 1, in clock ticks (100 Hz on Linux).
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

interface Measurement {
  rps: number;
  cpuUsPerRequest: number;
}

async function startPlain(): Promise<{ port: number; pid: number; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [fixture], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /port (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`target exited with ${String(code)}`)));
  });
  return {
    port,
    pid: child.pid as number,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

async function measure(port: number, pid: number): Promise<Measurement> {
  // Short warm-up so both sides run optimised code, then the measured window.
  await autocannon({ url: `http://127.0.0.1:${port}/`, connections, duration: 1, pipelining: 1 });
  const cpu0 = processCpuMs(pid);
  const r = await autocannon({ url: `http://127.0.0.1:${port}/`, connections, duration: seconds, pipelining: 1 });
  const cpuMs = processCpuMs(pid) - cpu0;
  if (r.errors > 0 || r.non2xx > 0) throw new Error(`errors during the measurement: ${r.errors} errors, ${r.non2xx} non-2xx`);
  return { rps: r.requests.total / r.duration, cpuUsPerRequest: (cpuMs * 1000) / Math.max(1, r.requests.total) };
}

async function runOff(): Promise<Measurement> {
  const t = await startPlain();
  try {
    return await measure(t.port, t.pid);
  } finally {
    await t.stop();
  }
}

/** Probe loaded and sampling every 100 ms, with CPU profiling at `samplingUs` (or none when null). */
async function runOn(samplingUs: number | null): Promise<Measurement & { profileSamples: number }> {
  // `exec` so the shell is replaced by node and /proc/<pid> is the target itself.
  const h = await launchTarget({ command: `exec "${process.execPath}" "${fixture}"`, cpuSamplingIntervalUs: samplingUs ?? 1000, intervalMs: 100 });
  try {
    if (samplingUs !== null) await h.startCpuProfile();
    const m = await measure(h.port as number, h.probePid as number);
    let profileSamples = 0;
    if (samplingUs !== null) {
      const cpu = await h.stopCpuProfile();
      profileSamples = (cpu.profile as { samples: number[] }).samples.length;
    }
    if (h.samples().length === 0) throw new Error('the probe sent no samples');
    return { ...m, profileSamples };
  } finally {
    await h.stop();
  }
}

const median = (xs: number[]): number => {
  const s = xs.slice().sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

const arms = [
  { name: 'probe off', run: runOff },
  { name: 'probe on, CPU profile @1ms', run: () => runOn(1000) },
  { name: 'probe on, no CPU profile', run: () => runOn(null) },
] as const;
const results: Measurement[][] = arms.map(() => []);
for (let i = 0; i < rounds; i++) {
  // Reverse the order every other round so slow drift on the shared machine hits every arm alike.
  const order = i % 2 === 0 ? [0, 1, 2] : [2, 1, 0];
  for (const k of order) (results[k] as Measurement[]).push(await (arms[k] as (typeof arms)[number]).run());
  console.log(
    `round ${i + 1}: ` +
      arms.map((arm, k) => {
        const m = (results[k] as Measurement[])[i] as Measurement;
        return `${arm.name} ${m.rps.toFixed(0)} req/s ${m.cpuUsPerRequest.toFixed(0)} µs/req`;
      }).join(' | '),
  );
}
const base = results[0] as Measurement[];
const offRps = median(base.map((m) => m.rps));
const offCpu = median(base.map((m) => m.cpuUsPerRequest));
console.log(`\n${'arm'.padEnd(30)} ${'req/s'.padStart(8)} ${'loss'.padStart(8)} ${'µs CPU/req'.padStart(11)} ${'capacity loss'.padStart(14)}`);
for (const [k, arm] of arms.entries()) {
  const ms = results[k] as Measurement[];
  const rps = median(ms.map((m) => m.rps));
  const cpu = median(ms.map((m) => m.cpuUsPerRequest));
  const rpsLoss = ((offRps - rps) / offRps) * 100;
  // Capacity of a CPU-bound target is inversely proportional to its CPU per request.
  const cpuLoss = (1 - offCpu / cpu) * 100;
  console.log(
    `${arm.name.padEnd(30)} ${rps.toFixed(1).padStart(8)} ${`${rpsLoss.toFixed(2)}%`.padStart(8)} ${cpu.toFixed(1).padStart(11)} ${`${cpuLoss.toFixed(2)}%`.padStart(14)}` +
      (k === 1 ? `   target ≤ 3 %: ${rpsLoss <= 3 ? 'met' : 'NOT met'} (req/s), ${cpuLoss <= 3 ? 'met' : 'NOT met'} (CPU/req)` : ''),
  );
}

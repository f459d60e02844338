/**
 * The probe's sampling cost in the target's main thread, measured directly (no A/B): the real sampler
 * with the probe's own dependencies closes a window (`take()`: ELU, loop delay, GC, memory, CPU, active
 * resources, /proc/self/io) and the window is serialised as the probe sends it, WINDOWS times; the
 * mean per window times the probe's 10 windows per second is the share of one core it takes. Runs in
 * a few seconds. Usage: node --import tsx bench/probe-sampler-cost.bench.ts [--windows N]
 */
import { readFileSync } from 'node:fs';
import { createSampler } from '../packages/probe/src/sampler.cjs';
import { realSamplerDeps } from '../packages/probe/test/helpers/sampler-deps.ts';

const args = process.argv.slice(2);
const i = args.indexOf('--windows');
const windows = i !== -1 ? Number(args[i + 1]) : 5000;
const sampler = createSampler(realSamplerDeps({ readProcIo: () => (process.platform === 'linux' ? readFileSync('/proc/self/io', 'latin1') : null) }));
// Some handles, as a small server has (the sampler lists them every window).
const timers = Array.from({ length: 20 }, () => setInterval(() => undefined, 60_000));
let bytes = 0;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
for (let k = 0; k < windows; k++) bytes += JSON.stringify({ type: 'sample', sample: sampler.take(0, 100) }).length + 1;
const wallMs = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
sampler.stop();
for (const t of timers) clearInterval(t);
const usPerWindow = (wallMs * 1000) / windows;
const cpuUsPerWindow = (cpu.user + cpu.system) / windows;
console.log(`${windows} windows: ${usPerWindow.toFixed(1)} µs wall, ${cpuUsPerWindow.toFixed(1)} µs CPU per window, ${(bytes / windows).toFixed(0)} bytes per message`);
console.log(`at 10 windows/s: ${((usPerWindow * 10) / 1e4).toFixed(3)} % of one core (wall), ${((cpuUsPerWindow * 10) / 1e4).toFixed(3)} % (CPU)`);

/**
 * What V8's CPU profiler costs a busy main thread, split into its parts, in one process so that the
 * shared machine's load hits every arm alike. A child process runs a fixed unit of work (JS arithmetic
 * plus a few calls into C++ bindings, like a request handler) in a loop that yields to the event loop
 * between units, and measures process CPU (all threads: the profiler's thread counts) per unit in
 * short slices that rotate through the arms: profiler off; on at 10, 20 and 40 ms (continuous). The
 * per-arm cost = CPU/unit on ÷ CPU/unit off − 1 (median over rounds). Then the one-off cost of a
 * profiling cycle — `Profiler.start` + `Profiler.stop` with the profile handed to JS, as a duty-cycled
 * probe pays it — at two heap sizes (the start logs every compiled function, so it grows with the heap).
 * Usage: node --import tsx bench/probe-profiler-cost.bench.ts [--rounds N] [--slice-ms MS]
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { numberArg } from './fixtures/bench-args.ts';

const args = process.argv.slice(2);
const argValue = (name: string, fallback: number): number => numberArg(args, name, fallback);
const rounds = argValue('--rounds', 12);
const sliceMs = argValue('--slice-ms', 1500);

// The child: plain JS so that it runs under plain node, without tsx's hooks in the measured process.
const child = String.raw`
const { Session } = require('node:inspector');
const { createHash } = require('node:crypto');
const s = new Session(); s.connect();
const post = (m, p = {}) => new Promise((res, rej) => s.post(m, p, (e, r) => (e ? rej(e) : res(r))));
const ROUNDS = Number(process.env.ROUNDS), SLICE = Number(process.env.SLICE_MS);
function work() {
  let acc = 0;
  for (let i = 0; i < 20000; i++) acc = (acc * 31 + (i ^ (acc >>> 3))) % 1000003;
  // A few binding calls per unit, as a request handler makes (the profiler taxes API callbacks).
  const h = createHash('sha1'); h.update(String(acc)); h.digest('hex');
  Buffer.from(JSON.stringify({ acc, t: Date.now() }));
  return acc;
}
const cpuUs = () => { const c = process.cpuUsage(); return c.user + c.system; };
function slice(ms) {
  return new Promise((resolve) => {
    const c0 = cpuUs(), t0 = performance.now(); let n = 0;
    const step = () => {
      for (let k = 0; k < 4; k++) { work(); n++; }
      if (performance.now() - t0 < ms) setImmediate(step);
      else resolve((cpuUs() - c0) / n);
    };
    step();
  });
}
const median = (xs) => { const a = xs.slice().sort((x, y) => x - y); const m = a.length >> 1; return a.length % 2 ? a[m] : (a[m - 1] + a[m]) / 2; };
(async () => {
  await post('Profiler.enable');
  await slice(1000); // warm up
  const arms = [null, 10000, 20000, 40000];
  const per = arms.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    for (let k = 0; k < arms.length; k++) {
      const a = (k + r) % arms.length; // rotate the order
      const us = arms[a];
      if (us !== null) { await post('Profiler.setSamplingInterval', { interval: us }); await post('Profiler.start'); }
      per[a].push(await slice(SLICE));
      if (us !== null) await post('Profiler.stop');
    }
  }
  const off = median(per[0]);
  const out = { offUsPerUnit: off, arms: arms.slice(1).map((us, i) => {
    const ratios = per[i + 1].map((x, j) => x / per[0][j]);
    return { intervalMs: us / 1000, usPerUnit: median(per[i + 1]), costPct: (median(ratios) - 1) * 100, spread: [Math.min(...ratios), Math.max(...ratios)].map((x) => (x - 1) * 100) };
  }) };
  // One profiling cycle (start + 1 s + stop, profile parsed in JS) at the current heap, then at ~60 MB
  // of retained objects and ~20k extra compiled closures.
  async function cycles() {
    const res = [];
    for (let i = 0; i < 5; i++) {
      const c0 = cpuUs(), t0 = performance.now();
      await post('Profiler.setSamplingInterval', { interval: 10000 }); await post('Profiler.start');
      const startCpu = cpuUs() - c0, startMs = performance.now() - t0;
      await slice(500);
      const c1 = cpuUs(), t1 = performance.now();
      const { profile } = await post('Profiler.stop');
      res.push({ startCpuMs: startCpu / 1000, startMs, stopCpuMs: (cpuUs() - c1) / 1000, stopMs: performance.now() - t1, nodes: profile.nodes.length });
    }
    return { startCpuMs: median(res.map((r) => r.startCpuMs)), stopCpuMs: median(res.map((r) => r.stopCpuMs)), nodes: res[0].nodes, heapMB: process.memoryUsage().heapUsed / 1e6 };
  }
  out.cycleSmallHeap = await cycles();
  const keep = [];
  for (let i = 0; i < 20000; i++) { const f = new Function('x', 'return x + ' + i); f(i); f(i + 1); keep.push(f); }
  for (let i = 0; i < 600000; i++) keep.push({ i, s: 'v' + i, a: [i, i + 1] });
  out.cycleLargeHeap = await cycles();
  process.stdout.write(JSON.stringify(out));
  s.disconnect();
})();
`;

const dir = mkdtempSync(join(tmpdir(), 'redline-prof-cost-'));
const file = join(dir, 'child.cjs');
writeFileSync(file, child);
const load0 = loadavg().map((x) => x.toFixed(2)).join(' ');
const r = spawnSync(process.execPath, [file], { env: { ...process.env, ROUNDS: String(rounds), SLICE_MS: String(sliceMs) }, encoding: 'utf8', timeout: 600_000 });
if (r.status !== 0) throw new Error(`child failed (${r.status}): ${r.stderr}`);
const out = JSON.parse(r.stdout) as {
  offUsPerUnit: number;
  arms: Array<{ intervalMs: number; usPerUnit: number; costPct: number; spread: number[] }>;
  cycleSmallHeap: { startCpuMs: number; stopCpuMs: number; nodes: number; heapMB: number };
  cycleLargeHeap: { startCpuMs: number; stopCpuMs: number; nodes: number; heapMB: number };
};
console.log(`load average ${load0} → ${loadavg().map((x) => x.toFixed(2)).join(' ')}; ${rounds} rounds of ${sliceMs} ms slices`);
console.log(`profiler off: ${out.offUsPerUnit.toFixed(1)} µs CPU per unit`);
for (const a of out.arms) {
  console.log(`profiler @ ${a.intervalMs} ms: ${a.usPerUnit.toFixed(1)} µs/unit → cost ${a.costPct.toFixed(2)} % (rounds ${a.spread.map((x) => x.toFixed(1)).join(' … ')} %)`);
}
for (const [name, c] of [['small heap', out.cycleSmallHeap], ['large heap', out.cycleLargeHeap]] as const) {
  console.log(`one cycle, ${name} (${c.heapMB.toFixed(0)} MB used, ${c.nodes} profile nodes): Profiler.start ${c.startCpuMs.toFixed(2)} ms CPU, Profiler.stop + parse ${c.stopCpuMs.toFixed(2)} ms CPU`);
}

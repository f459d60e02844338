// The overload experiment in simulation (test-support/flow-sim.ts): the real @redline/flow limiter on
// a virtual clock in front of a simulated one-core service (4 ms of CPU per request, shared by the
// requests in flight), on a dedicated core and on a core the process gets ~1/8 of the time. The same
// limiter configurations on both machines tell which misses of bench/flow-overload.bench.ts are the
// algorithm's and which the machine's. Deterministic per seed; no sockets, no sleeping.
// Usage: node --import tsx bench/flow-overload-sim.bench.ts   (SIM_SEEDS=3)
import { loadavg } from 'node:os';
import type { LimiterOptions } from '@redline/flow';
import { overloadSteps, simulateOverload, simulatedMaxRate, verdict, type SimMachine } from '../test-support/flow-sim.ts';

const SLO_MS = 250;
const SEEDS = Number(process.env.SIM_SEEDS ?? 3);
const demo: LimiterOptions = { name: 'demo', algorithm: 'gradient2', min: 1, max: 64, initial: 4, maxQueue: 0, gradient2: { queueSize: 1 } };
const configs: { label: string; limiter: LimiterOptions | null; stallClock?: boolean }[] = [
  { label: 'no limiter', limiter: null },
  { label: 'gradient2, the demo (queueSize 1, no queue)', limiter: demo },
  { label: 'gradient2, the demo + stallClock', limiter: demo, stallClock: true },
  { label: 'gradient2, the demo + queue 2', limiter: { ...demo, maxQueue: 2 } },
  { label: 'gradient2, the demo + queue 2 + stallClock', limiter: { ...demo, maxQueue: 2 }, stallClock: true },
  { label: 'vegas, no queue', limiter: { ...demo, algorithm: 'vegas' } },
  { label: 'aimd, no queue', limiter: { ...demo, algorithm: 'aimd' } },
];
const machines: { label: string; machine: SimMachine }[] = [
  { label: 'dedicated core', machine: { share: 1 } },
  { label: 'busy machine, no wake-up credit (1/8 of a core in 4 ms quanta, ±50 % per second)', machine: { share: 0.125, quantumMs: 4, jitter: 0.5 } },
  { label: 'busy machine, CFS-like (1/12 of a core in 4 ms quanta, ±50 % per second, 3 ms at once on waking)', machine: { share: 1 / 12, quantumMs: 4, jitter: 0.5, wakeCreditMs: 3 } },
];

const spread = (xs: number[]): string => {
  const s = [...xs].sort((a, b) => a - b);
  return `${s[Math.floor(s.length / 2)]!.toFixed(2)} [${s[0]!.toFixed(2)}–${s.at(-1)!.toFixed(2)}]`;
};

console.log(`flow-overload-sim: ${new Date().toISOString()} node ${process.version}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}, ${SEEDS} seeds, SLO p(99)<${SLO_MS}`);
for (const { label, machine } of machines) {
  const maxRate = await simulatedMaxRate(machine, SLO_MS);
  console.log(`\n${label}: max sustainable ${maxRate.toFixed(1)}/s (no limiter, p99 < ${SLO_MS} ms)`);
  console.log('  config                                         goodput@3×/peak     adm. p99@3×/unloaded  recovery s  mean limit@3×');
  for (const c of configs) {
    const share: number[] = [];
    const ratio: number[] = [];
    const rec: number[] = [];
    const limits: number[] = [];
    for (let seed = 1; seed <= SEEDS; seed++) {
      const r = await simulateOverload({ steps: overloadSteps(maxRate), limiter: c.limiter, stallClock: c.stallClock === true, sloMs: SLO_MS, machine, seed });
      const v = verdict(r);
      share.push(v.goodputShareAt3);
      ratio.push(v.p99RatioAt3);
      rec.push(v.recoverySeconds ?? Infinity);
      limits.push(r.steps[3]!.meanLimit);
    }
    console.log(`  ${c.label.padEnd(46)} ${spread(share).padEnd(19)} ${spread(ratio).padEnd(21)} ${spread(rec).padEnd(11)} ${c.limiter ? spread(limits) : '—'}`);
  }
}

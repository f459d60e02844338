// Per-call overhead of @redline/flow's limiter beside p-limit, in the same process and run.
// Usage: node --import tsx bench/flow-limiter.bench.ts
// Two shapes: uncontended (one call at a time: the fast path) and contended (100k calls launched at
// once into a limit of 10, so nearly every call waits in the queue). The work is an already-resolved
// async function, so what is measured is the limiter's own cost per call.
import { loadavg } from 'node:os';
import pLimit from 'p-limit';
import { createLimiter } from '@redline/flow';

const SEQ_CALLS = 200_000;
const BURST_CALLS = 100_000;
const ROUNDS = 7;
const work = async (): Promise<number> => 1;

type Runner = (fn: () => Promise<number>) => Promise<number>;

function makeRunners(): Record<string, Runner> {
  const pl = pLimit(10);
  const fixed = createLimiter({ algorithm: 'fixed', initial: 10, min: 10, max: 10, maxQueue: BURST_CALLS, statsIntervalMs: 0 });
  const gradient = createLimiter({ algorithm: 'gradient2', initial: 10, min: 10, max: 10, maxQueue: BURST_CALLS, statsIntervalMs: 0 });
  return {
    'p-limit 7': (fn) => pl(fn),
    'redline fixed': (fn) => fixed.run(fn),
    'redline gradient2': (fn) => gradient.run(fn),
  };
}

async function sequential(run: Runner): Promise<number> {
  const t = performance.now();
  let sink = 0;
  for (let i = 0; i < SEQ_CALLS; i++) sink += await run(work);
  if (sink !== SEQ_CALLS) throw new Error('lost calls');
  return ((performance.now() - t) * 1e6) / SEQ_CALLS;
}

async function burst(run: Runner): Promise<number> {
  const t = performance.now();
  const all: Promise<number>[] = new Array(BURST_CALLS);
  for (let i = 0; i < BURST_CALLS; i++) all[i] = run(work);
  const values = await Promise.all(all);
  if (values.length !== BURST_CALLS) throw new Error('lost calls');
  return ((performance.now() - t) * 1e6) / BURST_CALLS;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const runners = makeRunners();
  const names = Object.keys(runners);
  const seq: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  const par: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  // Warm-up, then interleave the contenders round by round so machine noise hits all alike.
  for (const n of names) {
    await sequential(runners[n]!);
    await burst(runners[n]!);
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const n of round % 2 ? [...names].reverse() : names) {
      seq[n]!.push(await sequential(runners[n]!));
      par[n]!.push(await burst(runners[n]!));
    }
  }
  const base = { seq: median(seq['p-limit 7']!), par: median(par['p-limit 7']!) };
  console.log(`flow-limiter: ${new Date().toISOString()} node ${process.version}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`median of ${ROUNDS} rounds, ns per call (ratio to p-limit; < 1 is cheaper)`);
  console.log('contender'.padEnd(20), 'uncontended'.padStart(18), 'contended (limit 10)'.padStart(24));
  for (const n of names) {
    const s = median(seq[n]!);
    const p = median(par[n]!);
    console.log(n.padEnd(20), `${s.toFixed(0)} ns (${(s / base.seq).toFixed(2)}×)`.padStart(18), `${p.toFixed(0)} ns (${(p / base.par).toFixed(2)}×)`.padStart(24));
  }
}

await main();

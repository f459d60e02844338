// L1 hit `get` throughput of @redline/cache beside lru-cache, in the same process and run.
// Usage: node --import tsx bench/cache-l1.bench.ts
import { loadavg } from 'node:os';
import { LRUCache } from 'lru-cache';
import { createCache } from '@redline/cache';

const KEYS = 10_000;
const OPS = 1_000_000;
const ROUNDS = 10;
const keys = Array.from({ length: KEYS }, (_, i) => `user:${i}`);
// A fixed pseudo-random access order so both caches see the same sequence.
const order = new Uint32Array(OPS);
for (let i = 0, x = 12345; i < OPS; i++) {
  x = (Math.imul(x, 1103515245) + 12345) >>> 0;
  order[i] = x % KEYS;
}

function opsPerSec(ms: number): number {
  return OPS / (ms / 1000);
}

async function main(): Promise<void> {
  const lru = new LRUCache<string, { id: number }>({ max: KEYS * 2, ttl: 60_000, ttlAutopurge: false });
  const tiny = createCache<{ id: number }>({ ttl: '1m', l1: { maxEntries: KEYS * 2 } });
  const lruCache = createCache<{ id: number }>({ ttl: '1m', l1: { maxEntries: KEYS * 2, policy: 'lru' } });
  for (let i = 0; i < KEYS; i++) {
    lru.set(keys[i]!, { id: i });
    await tiny.set(keys[i]!, { id: i });
    await lruCache.set(keys[i]!, { id: i });
  }
  // The floor of any promise-returning get: awaiting one already-settled promise, no cache work.
  const settled = Promise.resolve({ id: 1 });
  const results: Record<string, number[]> = { 'await settled promise (floor)': [], 'lru-cache get (sync)': [], 'lru-cache get (awaited)': [], 'redline get W-TinyLFU (awaited)': [], 'redline get LRU (awaited)': [], 'redline getSync W-TinyLFU': [] };
  let sink = 0;
  for (let round = 0; round < ROUNDS; round++) {
    let t = performance.now();
    for (let i = 0; i < OPS; i++) sink += (await settled).id + order[i]!;
    results['await settled promise (floor)']!.push(opsPerSec(performance.now() - t));

    t = performance.now();
    for (let i = 0; i < OPS; i++) sink += lru.get(keys[order[i]!]!)!.id;
    results['lru-cache get (sync)']!.push(opsPerSec(performance.now() - t));

    t = performance.now();
    for (let i = 0; i < OPS; i++) sink += (await lru.get(keys[order[i]!]!))!.id;
    results['lru-cache get (awaited)']!.push(opsPerSec(performance.now() - t));

    t = performance.now();
    for (let i = 0; i < OPS; i++) sink += (await tiny.get(keys[order[i]!]!))!.id;
    results['redline get W-TinyLFU (awaited)']!.push(opsPerSec(performance.now() - t));

    t = performance.now();
    for (let i = 0; i < OPS; i++) sink += (await lruCache.get(keys[order[i]!]!))!.id;
    results['redline get LRU (awaited)']!.push(opsPerSec(performance.now() - t));

    t = performance.now();
    for (let i = 0; i < OPS; i++) sink += tiny.getSync(keys[order[i]!]!)!.id;
    results['redline getSync W-TinyLFU']!.push(opsPerSec(performance.now() - t));
  }
  const best = (xs: number[]): number => Math.max(...xs);
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(`L1 hit get: ${KEYS} keys, ${OPS} gets per round, ${ROUNDS} rounds (sink ${sink % 7}), load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  for (const [name, xs] of Object.entries(results)) {
    console.log(`  ${name.padEnd(36)} median ${(median(xs) / 1e6).toFixed(2)} M ops/s   best ${(best(xs) / 1e6).toFixed(2)} M ops/s`);
  }
  const ours = median(results['redline get W-TinyLFU (awaited)']!);
  console.log(`  target >= 5 M ops/s: ${ours >= 5e6 ? 'reached' : 'NOT reached'} (${(ours / 1e6).toFixed(2)} M ops/s)`);
  console.log(`  ratio redline / lru-cache (sync): ${(ours / median(results['lru-cache get (sync)']!)).toFixed(2)}`);
  console.log(`  ratio redline / lru-cache (awaited): ${(ours / median(results['lru-cache get (awaited)']!)).toFixed(2)}`);
  console.log(`  ratio redline (awaited) / await floor: ${(ours / median(results['await settled promise (floor)']!)).toFixed(2)}`);
  const sync = median(results['redline getSync W-TinyLFU']!);
  console.log(`  getSync (L1 only, no promise): ${(sync / 1e6).toFixed(2)} M ops/s, ratio to lru-cache (sync) ${(sync / median(results['lru-cache get (sync)']!)).toFixed(2)}`);
}

await main();

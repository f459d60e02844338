// Hit ratio of W-TinyLFU vs LRU at equal capacity on synthetic traces (simulator and live cache).
// Usage: node --import tsx bench/cache-hit-ratio.bench.ts
import { createCache, generateZipfTrace, renderSimulationTable, simulateTrace, type TraceEvent } from '@redline/cache';

const KEYS = 100_000;
const EVENTS = 500_000;
const SIZES = [1_000, 5_000, 10_000];

const traces: Array<{ name: string; events: TraceEvent[]; target: boolean }> = [
  {
    name: `Zipf(0.9) over ${KEYS} keys + a one-time scan of 5,000 new keys after every 10,000 requests`,
    events: generateZipfTrace({ keys: KEYS, events: EVENTS, alpha: 0.9, seed: 7, scan: { every: 10_000, length: 5_000 } }),
    target: true,
  },
  { name: `plain Zipf(0.9) over ${KEYS} keys`, events: generateZipfTrace({ keys: KEYS, events: EVENTS, alpha: 0.9, seed: 7 }), target: false },
];

/** Replays a trace through a real cache instance (getOrSet), to check the simulator against the live L1. */
async function live(events: TraceEvent[], policy: 'lru' | 'w-tinylfu', size: number): Promise<number> {
  const cache = createCache({ ttl: '1h', l1: { maxEntries: size, policy } });
  for (const e of events) await cache.getOrSet(e.k, () => 1);
  return cache.stats().hitRatio;
}

for (const trace of traces) {
  const t0 = performance.now();
  const result = simulateTrace(trace.events, { sizes: SIZES });
  console.log(`\n${trace.name}`);
  process.stdout.write(renderSimulationTable(result));
  const gaps = result.rows.map((r) => ((r.results['w-tinylfu']!.hitRatio - r.results.lru!.hitRatio) * 100));
  const minGap = Math.min(...gaps);
  const verdict = trace.target ? ` (target >= +5 pp: ${minGap >= 5 ? 'reached' : 'NOT reached'})` : ' (reported, no target)';
  console.log(`smallest W-TinyLFU − LRU gap ${minGap.toFixed(1)} pp${verdict}; simulated in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const size = SIZES[1]!;
  const [lruLive, tinyLive] = [await live(trace.events, 'lru', size), await live(trace.events, 'w-tinylfu', size)];
  console.log(`live cache at ${size} entries: LRU ${(lruLive * 100).toFixed(1)} %, W-TinyLFU ${(tinyLive * 100).toFixed(1)} %`);
}

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes, isRedlineError } from '@redline/core';
import {
  createCache,
  createKeyTraceRecorder,
  formatTrace,
  generateZipfTrace,
  parseTrace,
  readTraceFile,
  renderSimulationTable,
  simulateTrace,
} from '@redline/cache';
import { FrequencySketch } from '../src/eviction/frequency-sketch.ts';

describe('hit ratio simulation', () => {
  it('W-TinyLFU beats LRU by at least 5 points on Zipf(0.9) with periodic one-time scans', () => {
    const events = generateZipfTrace({ keys: 20_000, events: 100_000, alpha: 0.9, seed: 3, scan: { every: 5_000, length: 2_000 } });
    const result = simulateTrace(events, { sizes: [500, 2000] });
    for (const row of result.rows) {
      const lru = row.results.lru!.hitRatio;
      const tiny = row.results['w-tinylfu']!.hitRatio;
      assert.ok(tiny >= lru + 0.05, `size ${row.size}: W-TinyLFU ${(tiny * 100).toFixed(1)} % vs LRU ${(lru * 100).toFixed(1)} %`);
    }
    assert.equal(result.requests, 100_000);
    const first = result.rows[0]!.results.lru!;
    assert.equal(first.hits + first.misses, 100_000);
  });

  it('hit ratio grows with cache size for both policies', () => {
    const events = generateZipfTrace({ keys: 10_000, events: 50_000, alpha: 0.9, seed: 5 });
    const result = simulateTrace(events, { sizes: [100, 1000, 5000] });
    for (const policy of ['lru', 'w-tinylfu'] as const) {
      const ratios = result.rows.map((r) => r.results[policy]!.hitRatio);
      assert.ok(ratios[0]! < ratios[1]! && ratios[1]! < ratios[2]!, `${policy}: ${ratios.join(' < ')}`);
    }
  });

  it('counts exact hits for a tiny hand-made trace', () => {
    const k = (key: string, op: 'get' | 'set' | 'del' = 'get') => ({ t: 0, k: key, op });
    const result = simulateTrace([k('a'), k('b'), k('a'), k('c'), k('a'), k('b'), k('a', 'del'), k('a')], { sizes: [2], policies: ['lru'] });
    // a miss, b miss, a hit, c miss (evicts b), a hit, b miss (evicts c), del a, a miss
    assert.deepEqual(result.rows[0]!.results.lru, { hits: 2, misses: 5, hitRatio: 2 / 7 });
  });

  it('scales sizes by the trace sample rate and renders a table', () => {
    const events = generateZipfTrace({ keys: 1000, events: 5000, alpha: 0.9, seed: 9 });
    const result = simulateTrace({ sampleRate: 0.1, events }, { sizes: [1000, 5000] });
    assert.deepEqual(
      result.rows.map((r) => r.simulatedSize),
      [100, 500],
    );
    const table = renderSimulationTable(result);
    const lines = table.trimEnd().split('\n');
    assert.match(lines[0]!, /^hit ratio by L1 size — 5000 gets, \d+ distinct keys, key sample rate 0\.1$/);
    assert.match(lines[1]!, /^size\s+simulated\s+LRU\s+W-TinyLFU\s+W-TinyLFU − LRU$/);
    assert.equal(lines.length, 5);
    assert.match(lines[3]!, /^1000\s+100\s+\d+\.\d %\s+\d+\.\d %\s+[+-]\d+\.\d pp$/);
  });

  it('picks default sizes from the number of distinct keys', () => {
    const events = generateZipfTrace({ keys: 1000, events: 20_000, alpha: 0.9, seed: 1 });
    const result = simulateTrace(events);
    assert.ok(result.rows.length >= 4);
    assert.equal(result.rows.at(-1)!.size, Math.round(result.distinctKeys * 0.5));
  });

  it('rejects bad options with INVALID_ARGUMENT', () => {
    const events = [{ t: 0, k: 'a', op: 'get' as const }];
    assert.throws(
      () => simulateTrace(events, { sizes: [0] }),
      (err: unknown) => isRedlineError(err, ErrorCodes.INVALID_ARGUMENT) && err.message === 'simulateTrace: sizes must be integers >= 1, got 0',
    );
    assert.throws(
      () => simulateTrace(events, { policies: ['fifo' as 'lru'] }),
      (err: unknown) => isRedlineError(err, ErrorCodes.INVALID_ARGUMENT) && err.message === 'simulateTrace: unknown policy "fifo"; expected "lru" or "w-tinylfu"',
    );
    assert.throws(
      () => generateZipfTrace({ keys: 0, events: 1, alpha: 0.9 }),
      (err: unknown) => isRedlineError(err, ErrorCodes.INVALID_ARGUMENT) && err.message === 'generateZipfTrace: keys must be an integer >= 1, got 0',
    );
  });
});

describe('frequency sketch', () => {
  it('skipping increments of saturated keys until the epoch changes gives the same counts as always incrementing', () => {
    const always = new FrequencySketch(64);
    const skipping = new FrequencySketch(64);
    const marks = new Map<number, number>();
    let x = 99;
    let skipped = 0;
    let agings = 0;
    let lastEpoch = skipping.epoch;
    const hashes = Array.from({ length: 200 }, (_, i) => Math.imul(i + 1, 0x9e3779b1) >>> 0);
    for (let step = 0; step < 20_000; step++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      // Skewed: a few hot keys saturate, the tail stays cold, and aging runs every 640 additions.
      const h = hashes[Math.floor(((x >>> 8) / (1 << 24)) ** 3 * hashes.length)]!;
      always.increment(h);
      if (marks.get(h) === skipping.epoch) skipped++;
      else marks.set(h, skipping.increment(h));
      if (skipping.epoch !== lastEpoch) {
        agings++;
        lastEpoch = skipping.epoch;
      }
      assert.equal(skipping.frequency(h), always.frequency(h), `step ${step}`);
    }
    for (const h of hashes) assert.equal(skipping.frequency(h), always.frequency(h));
    assert.ok(skipped > 1_000, `skipped ${skipped}`);
    assert.ok(agings > 3, `agings ${agings}`);
  });

  it('returns the epoch once a key is saturated and halves every counter on aging', () => {
    const sketch = new FrequencySketch(16);
    const epochs: number[] = [];
    for (let i = 0; i < 15; i++) epochs.push(sketch.increment(42));
    assert.deepEqual(epochs.slice(0, 14), new Array(14).fill(-1));
    assert.equal(epochs[14], sketch.epoch);
    assert.equal(sketch.frequency(42), 15);
    assert.equal(sketch.increment(42), sketch.epoch);
    const before = sketch.epoch;
    // 160 additions (10 × capacity) trigger aging, which halves every counter: 15 → 7.
    let agedAt = -1;
    for (let i = 0; i < 200 && agedAt < 0; i++) if (sketch.increment(1000 + i) === -1 && sketch.epoch !== before) agedAt = i;
    assert.ok(agedAt >= 0);
    assert.equal(sketch.frequency(42), 7);
    for (let i = 0; i < 200; i++) assert.ok(sketch.frequency(1000 + i) <= 7);
    assert.notEqual(sketch.epoch, before);
    // Saturated again only after 8 more increments.
    for (let i = 0; i < 7; i++) assert.equal(sketch.increment(42), -1);
    assert.equal(sketch.increment(42), sketch.epoch);
  });
});

describe('key trace recorder', () => {
  it('records hashed keys from a live cache, sampled by key, and round-trips through NDJSON', async () => {
    const recorder = createKeyTraceRecorder({ sampleRate: 1, salt: 's', now: () => 0 });
    const cache = createCache({ trace: recorder });
    await cache.getOrSet('user:1', () => 1);
    await cache.get('user:1');
    await cache.delete('user:1');
    const trace = recorder.trace();
    assert.deepEqual(
      trace.events.map((e) => [e.op, e.hit]),
      [
        ['get', false],
        ['set', undefined],
        ['get', true],
        ['del', undefined],
      ],
    );
    assert.ok(trace.events.every((e) => /^[0-9a-f]{16}$/.test(e.k) && !e.k.includes('user')));
    assert.equal(new Set(trace.events.map((e) => e.k)).size, 1, 'one key, one hash');
    const parsed = parseTrace(recorder.toNdjson());
    assert.deepEqual(parsed, trace);
  });

  it('samples whole keys at roughly the requested rate and stays bounded', () => {
    const feed = (r: ReturnType<typeof createKeyTraceRecorder>): void => {
      for (let round = 0; round < 3; round++) for (let i = 0; i < 1000; i++) r.record('get', `key${i}`, false);
    };
    const unbounded = createKeyTraceRecorder({ sampleRate: 0.1, salt: 'x' });
    feed(unbounded);
    const perKey = new Map<string, number>();
    for (const e of unbounded.trace().events) perKey.set(e.k, (perKey.get(e.k) ?? 0) + 1);
    assert.ok(perKey.size >= 60 && perKey.size <= 140, `${perKey.size} of 1000 keys sampled`);
    assert.ok([...perKey.values()].every((n) => n === 3), 'a sampled key is recorded on every access');
    const bounded = createKeyTraceRecorder({ sampleRate: 0.1, salt: 'x', maxEvents: 100 });
    feed(bounded);
    assert.equal(bounded.trace().events.length, 100);
    assert.equal(bounded.dropped, perKey.size * 3 - 100);
  });

  it('reads a trace file and reports malformed lines with file:line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'redline-cache-'));
    try {
      const good = join(dir, 'good.ndjson');
      await writeFile(good, formatTrace({ sampleRate: 0.5, events: [{ t: 1, k: 'a', op: 'get', hit: true }] }));
      assert.deepEqual(await readTraceFile(good), { sampleRate: 0.5, events: [{ t: 1, k: 'a', op: 'get', hit: true }] });
      const bad = join(dir, 'bad.ndjson');
      await writeFile(bad, '{"k":"a","op":"get"}\n{"k":"b","op":"put"}\n');
      await assert.rejects(readTraceFile(bad), (err: unknown) => isRedlineError(err, ErrorCodes.BAD_DATA_FILE) && err.message === `${bad}:2: event "op" must be "get", "set" or "del", got "put"`);
      await writeFile(bad, 'not json\n');
      await assert.rejects(readTraceFile(bad), (err: unknown) => isRedlineError(err, ErrorCodes.BAD_DATA_FILE) && err.message === `${bad}:1: not valid JSON`);
      const missing = join(dir, 'missing.ndjson');
      await assert.rejects(readTraceFile(missing), (err: unknown) => isRedlineError(err, ErrorCodes.BAD_DATA_FILE) && err.message === `cannot read trace file ${missing}: ENOENT`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects a bad sample rate', () => {
    assert.throws(
      () => createKeyTraceRecorder({ sampleRate: 0 }),
      (err: unknown) => isRedlineError(err, ErrorCodes.INVALID_ARGUMENT) && err.message === 'createKeyTraceRecorder: sampleRate must be in (0, 1], got 0',
    );
  });
});

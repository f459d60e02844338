import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createLimiter, parallelMap, parallelMapStream } from '@redline/flow';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A source that records how far it has been read. */
function countingSource(n: number): { source: AsyncGenerator<number>; pulled: () => number; returned: () => boolean } {
  let pulled = 0;
  let returned = false;
  async function* gen(): AsyncGenerator<number> {
    try {
      for (let i = 0; i < n; i++) {
        pulled++;
        yield i;
      }
    } finally {
      returned = true;
    }
  }
  return { source: gen(), pulled: () => pulled, returned: () => returned };
}

describe('parallelMap', () => {
  it('keeps source order, runs at most `concurrency` at once', async () => {
    let running = 0;
    let peak = 0;
    const out: number[] = [];
    for await (const v of parallelMap([5, 1, 4, 2, 3], async (x) => {
      running++;
      peak = Math.max(peak, running);
      await sleep(x * 3);
      running--;
      return x * 10;
    }, { concurrency: 3 })) out.push(v);
    assert.deepEqual(out, [50, 10, 40, 20, 30]);
    assert.equal(peak, 3);
  });

  it('yields in completion order when ordered is false', async () => {
    const out: number[] = [];
    for await (const v of parallelMap([30, 5, 15], async (ms) => { await sleep(ms); return ms; }, { concurrency: 3, ordered: false })) out.push(v);
    assert.deepEqual(out, [5, 15, 30]);
  });

  it('reads no further than highWaterMark ahead of a slow consumer', async () => {
    const { source, pulled } = countingSource(100);
    let consumed = 0;
    let maxAhead = 0;
    for await (const _ of parallelMap(source, (x) => x, { concurrency: 2, highWaterMark: 4 })) {
      consumed++;
      await sleep(1);
      maxAhead = Math.max(maxAhead, pulled() - consumed);
      if (consumed === 20) break;
    }
    assert.ok(maxAhead <= 4, `read ${maxAhead} ahead`);
    assert.ok(pulled() <= 25, `pulled ${pulled()}`);
  });

  it('stops reading, closes the source and throws the first error', async () => {
    const { source, returned } = countingSource(1000);
    await assert.rejects(async () => {
      for await (const _ of parallelMap(source, async (x) => {
        if (x === 7) throw new Error('bad record 7');
        return x;
      }, { concurrency: 4 })) { /* consume */ }
    }, /bad record 7/);
    assert.equal(returned(), true);
  });

  it('bounds concurrency by an adaptive limiter when one is given', async () => {
    const limiter = createLimiter({ algorithm: 'fixed', initial: 2, max: 2, statsIntervalMs: 0 });
    let running = 0;
    let peak = 0;
    const out: number[] = [];
    for await (const v of parallelMap(Array.from({ length: 12 }, (_, i) => i), async (x) => {
      running++;
      peak = Math.max(peak, running);
      await sleep(2);
      running--;
      return x;
    }, { limiter })) out.push(v);
    assert.equal(out.length, 12);
    assert.equal(peak, 2);
    limiter.close();
  });

  it('pauses a Node Readable source (its buffer stays bounded) and works inside pipeline()', async () => {
    let produced = 0;
    const readable = new Readable({
      objectMode: true,
      highWaterMark: 2,
      read() {
        this.push(produced < 200 ? produced++ : null);
      },
    });
    let written = 0;
    let maxAhead = 0;
    const sink = new Writable({
      objectMode: true,
      highWaterMark: 1,
      write(_chunk, _enc, cb) {
        written++;
        maxAhead = Math.max(maxAhead, produced - written);
        setTimeout(cb, 0);
      },
    });
    await pipeline(readable, parallelMapStream((x: number) => x + 1, { concurrency: 2 }), sink);
    assert.equal(written, 200);
    // readable buffer (2) + map (2) + duplex buffers (16 + 16) + sink (1): bounded, far below 200.
    assert.ok(maxAhead <= 40, `source ran ${maxAhead} ahead of the sink`);
  });

  it('rejects bad options with the option named', () => {
    assert.throws(() => parallelMap([1], (x) => x, { concurrency: 0 }), (e: Error & { code?: string }) => e.name === 'RangeError' && e.code === 'REDLINE_ERR_FLOW_INVALID_OPTION' && /^concurrency must be an integer ≥ 1, got 0$/.test(e.message));
  });
});

// The leak rule's evidence (heap after full GC, forced or V8's own) and what heap snapshots name:
// real snapshots of a real leaking process, parsed by the streaming reader and diffed.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { isRedlineError, type LeakSuspect } from '@redline/core';
import { analyzeHeap, diagnose, diffHeapSnapshots, readHeapSnapshot, type HeapSnapshot } from '../src/index.ts';
import { FIXTURES } from './helpers/record.ts';
import { makeRunResult, point, sample, seconds } from './helpers/run-result.ts';

const MB = 1024 * 1024;
let dir = '';
let a: HeapSnapshot;
let b: HeapSnapshot;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'redline-leak-'));
  await promisify(execFile)(process.execPath, [join(FIXTURES, 'leak-snapshots.mjs'), dir], { timeout: 120_000 });
  a = await readHeapSnapshot(join(dir, 'a.heapsnapshot'));
  b = await readHeapSnapshot(join(dir, 'b.heapsnapshot'));
});

test('of two closures that keep the holder\'s scope, the one first in the source is named, whichever was made first', async () => {
  // Node order in a snapshot follows the heap, not the source: naming the first closure met by index
  // read "closure close" in one leak-map run and "closure handle" in the next.
  const other = await mkdtemp(join(tmpdir(), 'redline-leak-order-'));
  await promisify(execFile)(process.execPath, [join(FIXTURES, 'leak-snapshots.mjs'), other, 'close-first'], { timeout: 120_000 });
  const closeFirst = diffHeapSnapshots([await readHeapSnapshot(join(other, 'a.heapsnapshot')), await readHeapSnapshot(join(other, 'b.heapsnapshot'))], { appRoot: FIXTURES });
  for (const [order, suspects] of [['handle made first', diffHeapSnapshots([a, b], { appRoot: FIXTURES })], ['close made first', closeFirst]] as const) {
    assert.match(suspects[0]?.pathText ?? '', /^Map in SessionStore\.sessions ← variable store \(kept by closure handle at leak-snapshots\.mjs:\d+\)/, order);
  }
});

test('the streaming reader gives the same graph whatever the chunk size', async () => {
  const small = await readHeapSnapshot(join(dir, 'a.heapsnapshot'), { chunkBytes: 4093 });
  assert.equal(small.nodeCount, a.nodeCount);
  assert.deepEqual(small.nodes, a.nodes);
  assert.deepEqual(small.edges, a.edges);
  assert.deepEqual(small.strings, a.strings);
  assert.ok(a.locations.size > 0, 'closure locations are read');
});

test('retained sizes come from the dominator tree: the root retains the whole reachable heap', () => {
  const g = analyzeHeap(b);
  let reachableSelf = 0;
  for (let i = 0; i < b.nodeCount; i++) if (g.idom[i] !== 0xffffffff) reachableSelf += b.nodes[i * b.nodeFieldCount + b.field.selfSize]!;
  assert.equal(g.retained[0], reachableSelf);
});

test('the diff names the Map that keeps the new sessions and its retainer path to the closure', () => {
  const [top] = diffHeapSnapshots([a, b], { appRoot: FIXTURES });
  assert.ok(top, 'a suspect');
  assert.equal(top.holder, 'Map');
  assert.match(top.pathText, /^Map in SessionStore\.sessions ← variable store \(kept by closure handle at leak-snapshots\.mjs:\d+\)/);
  const objects = top.classes.find((c) => c.name === 'Object');
  // 3000 sessions added, each with 20 cart items: 63000 objects, counted exactly.
  assert.ok(objects && objects.added >= 3000 * 21, JSON.stringify(top.classes));
  assert.ok(top.retainedLastBytes > top.retainedFirstBytes * 4, JSON.stringify(top.retainedSeries));
  const step = top.path.find((p) => p.inFunction === 'handle');
  assert.equal(step?.file, 'leak-snapshots.mjs');
  assert.equal(step?.area, 'app');
});

test('a file that is not a heap snapshot is refused with REDLINE_ERR_BAD_DATA_FILE', async () => {
  const path = join(dir, 'bad.heapsnapshot');
  await writeFile(path, '{"nodes":[1,2,3]}');
  await assert.rejects(readHeapSnapshot(path), (err: unknown) => isRedlineError(err, 'REDLINE_ERR_BAD_DATA_FILE') && /is not a V8 heap snapshot: no snapshot\.meta/.test((err as Error).message));
  const meta = '{"node_fields":["type","name","id","self_size","edge_count"],"node_types":[["object"]],"edge_fields":["type","name_or_index","to_node"],"edge_types":[["property"]]}';
  await writeFile(path, `{"snapshot":{"meta":${meta}},"nodes":[0,0,1,8,1],"edges":[0,0,50],"strings":["a"]}`);
  await assert.rejects(readHeapSnapshot(path), (err: unknown) => isRedlineError(err, 'REDLINE_ERR_BAD_DATA_FILE') && /an edge points to 50, outside the 1 nodes/.test((err as Error).message));
});

function leakingRun(opts: { forced: boolean; natural: boolean }) {
  const n = 12;
  return makeRunResult({
    durationS: n,
    timeseries: seconds(n, (t) => point(t, 150, 3)),
    // Heap used saw-tooths up as on every service; heap after full GC climbs 1 MB/s (60 MB/min).
    samples: seconds(n, (t) => sample(t, { heapUsedBytes: (30 + 4 * (t % 3) + t) * MB, heapAfterGcBytes: opts.natural ? (20 + t) * MB : null })),
  });
}

test('forced full GCs are the leak rule’s evidence: a 60 MB/min leak is found from them alone', () => {
  const r = leakingRun({ forced: true, natural: false });
  r.target!.fullGcs = Array.from({ length: 8 }, (_, k) => ({ t: 0.6 + 1.2 * k, heapUsedBytes: (20 + 0.6 + 1.2 * k) * MB, pauseMs: 4 }));
  const f = diagnose(r).find((x) => x.category === 'memory-leak');
  assert.ok(f, 'a leak finding');
  assert.equal(f.severity, 'high');
  assert.match(f.title, /heap after full GC grows 60(\.\d)? MB\/min .*8 full GCs/);
  assert.equal(f.evidence.find((e) => e.metric === 'target.heap_after_gc.points')?.unit, 'full GCs (8 forced)');
  assert.match(f.recommendation, /--leak-snapshots on/);
});

test('without full GCs no leak is called: heap used alone gives an info finding, healthy heap none', () => {
  const rising = makeRunResult({ durationS: 12, timeseries: seconds(12, (t) => point(t, 150, 3)), samples: seconds(12, (t) => sample(t, { heapUsedBytes: (20 + 3 * t) * MB })) });
  const f = diagnose(rising).find((x) => x.category === 'memory-leak');
  assert.equal(f?.severity, 'info');
  assert.match(f.title, /no evidence of a leak/);
  const flat = makeRunResult({ durationS: 12, timeseries: seconds(12, (t) => point(t, 150, 3)), samples: seconds(12, (t) => sample(t, { heapUsedBytes: (9 + (t % 4) * 3) * MB })) });
  flat.target!.fullGcs = Array.from({ length: 8 }, (_, k) => ({ t: 0.6 + 1.2 * k, heapUsedBytes: (9.5 + (k % 2) * 0.1) * MB, pauseMs: 4 }));
  assert.equal(diagnose(flat).find((x) => x.category === 'memory-leak'), undefined);
});

test('snapshot suspects name the holder in the title, frames and recommendation, and raise confidence', () => {
  const suspect: LeakSuspect = {
    holder: 'Map',
    holderId: 42,
    retainedSeries: [2 * MB, 9 * MB],
    retainedFirstBytes: 2 * MB,
    retainedLastBytes: 9 * MB,
    addedCount: 21000,
    addedBytes: 7 * MB,
    classes: [{ name: 'Session', countFirst: 100, countLast: 1100, added: 1000, addedBytes: 1 * MB }],
    path: [
      { label: 'SessionStore.sessions' },
      { label: 'variable store', file: 'src/bottlenecks/leak-map.ts', line: 40, column: 10, area: 'app', inFunction: 'handle' },
    ],
    pathText: 'Map in SessionStore.sessions ← variable store (kept by closure handle at src/bottlenecks/leak-map.ts:40)',
  };
  const r = leakingRun({ forced: false, natural: true });
  const plain = diagnose(r).find((x) => x.category === 'memory-leak')!;
  const named = diagnose(r, { leakSuspects: [suspect] }).find((x) => x.category === 'memory-leak')!;
  assert.ok(named.confidence > plain.confidence);
  assert.match(named.title, /growing: Map in SessionStore\.sessions ← variable store \(kept by closure handle at src\/bottlenecks\/leak-map\.ts:40\) \(\+1000 Session, \+7 MB retained\)/);
  assert.deepEqual(named.frames[0], { functionName: 'handle', file: 'src/bottlenecks/leak-map.ts', line: 40, column: 10, area: 'app', selfShare: 0, totalShare: 0 });
  assert.match(named.recommendation, /Map keeps 21000 new objects \(\+1000 Session\) and grew from 2 MB to 9 MB retained/);
  assert.equal(named.leaks?.[0]?.holderId, 42);
});

/**
 * Leak evidence cost on the demo service (`leak-map`, probe preloaded, a bounded loopback load of
 * 150 req/s): the pause of one forced full GC — V8's `gc()` (what the probe uses) against the
 * inspector's `HeapProfiler.collectGarbage` (the peer), same process, alternating — and the pause and
 * file size of a heap snapshot at the heap size reached; then reading the snapshot with the doctor's
 * streaming reader against `JSON.parse` of the same file (time and peak RSS growth, each in a fresh
 * process), and the diff of two snapshots.
 * Usage: node --import tsx bench/leak-snapshot.bench.ts [--rounds N]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchTarget } from '@redline/probe/host';

const args = process.argv.slice(2);
const rounds = Number(args[args.indexOf('--rounds') + 1] ?? 5) || 5;
const demo = fileURLToPath(new URL('../packages/demo/dist/server.js', import.meta.url));
const MB = 1024 * 1024;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

/** Sends `perSecond` GET requests per second for `ms` to the port, bounded, loopback only. */
async function load(port: number, perSecond: number, ms: number): Promise<void> {
  const end = Date.now() + ms;
  const pending: Promise<unknown>[] = [];
  while (Date.now() < end) {
    for (let i = 0; i < perSecond / 10; i++) pending.push(fetch(`http://127.0.0.1:${port}/products?page=1`).then((r) => r.arrayBuffer()).catch(() => undefined));
    await new Promise((r) => setTimeout(r, 100));
  }
  await Promise.all(pending);
}

const dir = mkdtempSync(join(tmpdir(), 'redline-leak-bench-'));
const target = await launchTarget({ command: `"${process.execPath}" "${demo}" --bottleneck leak-map` });
try {
  const port = target.port!;
  await load(port, 150, 3000);
  // Alternating, so the machine's swings hit both alike.
  const own: number[] = [];
  const peer: number[] = [];
  for (let k = 0; k < rounds; k++) {
    own.push((await target.collectGarbage('gc')).pauseMs);
    await load(port, 150, 300);
    peer.push((await target.collectGarbage('inspector')).pauseMs);
    await load(port, 150, 300);
  }
  const heapMb = (await target.collectGarbage()).heapUsedBytes / MB;
  const a = await target.writeHeapSnapshot(join(dir, 'a.heapsnapshot'));
  await load(port, 150, 3000);
  const b = await target.writeHeapSnapshot(join(dir, 'b.heapsnapshot'));
  const reader = (mode: string): { ms: number; rssMb: number } =>
    JSON.parse(
      execFileSync(process.execPath, ['--import', 'tsx', '-e', `
        const { readHeapSnapshot, diffHeapSnapshots } = await import(${JSON.stringify(fileURLToPath(new URL('../packages/doctor/src/index.ts', import.meta.url)))});
        const { readFileSync } = await import('node:fs');
        const rss0 = process.memoryUsage().rss; let peak = rss0;
        const tick = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 5);
        const t0 = performance.now();
        if (${JSON.stringify(mode)} === 'json') JSON.parse(readFileSync(${JSON.stringify(b.path)}, 'utf8'));
        else if (${JSON.stringify(mode)} === 'stream') await readHeapSnapshot(${JSON.stringify(b.path)});
        else diffHeapSnapshots([await readHeapSnapshot(${JSON.stringify(a.path)}), await readHeapSnapshot(${JSON.stringify(b.path)})]);
        const ms = performance.now() - t0; peak = Math.max(peak, process.memoryUsage().rss); clearInterval(tick);
        console.log(JSON.stringify({ ms, rssMb: (peak - rss0) / 1048576 }));`], { encoding: 'utf8' }),
    ) as { ms: number; rssMb: number };
  const json = reader('json');
  const stream = reader('stream');
  const diff = reader('diff');
  const load1 = execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).split(' ')[0];
  console.log(`leak evidence on the demo (leak-map), load average ${load1}`);
  console.log(`  forced full GC pause, median of ${rounds}: gc() ${median(own).toFixed(1)} ms, inspector collectGarbage ${median(peer).toFixed(1)} ms, ratio ${(median(own) / median(peer)).toFixed(2)}× (heap after ${heapMb.toFixed(1)} MB)`);
  console.log(`  heap snapshot 1: heap ${(a.heapUsedBytes / MB).toFixed(1)} MB, file ${(a.fileBytes / MB).toFixed(1)} MB, pause ${a.pauseMs.toFixed(0)} ms`);
  console.log(`  heap snapshot 2: heap ${(b.heapUsedBytes / MB).toFixed(1)} MB, file ${(b.fileBytes / MB).toFixed(1)} MB, pause ${b.pauseMs.toFixed(0)} ms`);
  console.log(`  read snapshot 2: streaming reader ${stream.ms.toFixed(0)} ms, +${stream.rssMb.toFixed(0)} MB RSS; JSON.parse ${json.ms.toFixed(0)} ms, +${json.rssMb.toFixed(0)} MB RSS; ratio time ${(stream.ms / json.ms).toFixed(2)}×, memory ${(stream.rssMb / json.rssMb).toFixed(2)}×`);
  console.log(`  read both + dominators + diff: ${diff.ms.toFixed(0)} ms, +${diff.rssMb.toFixed(0)} MB RSS`);
} finally {
  await target.stop();
  rmSync(dir, { recursive: true, force: true });
}

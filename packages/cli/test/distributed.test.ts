import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readRunResult, type RunResult } from '@redline/core';
import { connectCoordinator } from '../src/coordinate/redis.ts';
import { startRedisServer, type RedisServer } from '../../cache/test/redis-server.ts';
import { main } from '../src/main.ts';
import { fakeIo } from './helpers/fake-io.ts';
import { startServer } from './helpers/server.ts';

const BIN = fileURLToPath(new URL('../bin/redline.js', import.meta.url));

/** A `redline` CLI process; resolves with its exit code and output. */
interface Proc {
  child: ChildProcess;
  stderr(): string;
  exited: Promise<number>;
}

function redline(args: string[], cwd: string): Proc {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout!.resume();
  const exited = new Promise<number>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1))));
  return { child, stderr: () => err, exited };
}

/** Resolves once `p` has printed `text` on stderr (bounded). */
async function waitFor(p: Proc, text: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!p.stderr().includes(text)) {
    if (Date.now() > deadline) throw new Error(`no "${text}" within ${timeoutMs} ms; stderr: ${p.stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

let redis: RedisServer;
let target: Awaited<ReturnType<typeof startServer>>;
let dir: string;

before(async () => {
  redis = await startRedisServer();
  target = await startServer();
  dir = await mkdtemp(join(tmpdir(), 'redline-dist-'));
});
after(async () => {
  await redis.stop();
  await target.close();
  await rm(dir, { recursive: true, force: true });
});

async function scenario(name: string, body: Record<string, unknown>): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, `export default ${JSON.stringify({ name: 'dist', baseUrl: target.url, requests: [{ url: '/' }], ...body })};\n`);
  return file;
}

/** The flags of instance `i` of run `id`. */
function instanceArgs(file: string, id: string, n: number, i: number, extra: string[] = []): string[] {
  return ['run', file, '--coordinator', redis.url, '--instances', String(n), '--run-id', id, '--instance-index', String(i), '--out', join(dir, id, `i${i}`), '--merged-out', join(dir, id, 'merged'), '--workers', '1', '--no-report', '--lag-timeout', '5s', '--meet-timeout', '60s', ...extra];
}

describe('coordinated runs over Redis (real redis-server, real CLI processes)', () => {
  it('merges every instance exactly: the merged totals are the sum of the instances, and redline merge agrees', async () => {
    const file = await scenario('shared.mjs', { executor: 'shared-iterations', vus: 4, iterations: 300, maxDuration: '30s' });
    const procs = [0, 1, 2].map((i) => redline(instanceArgs(file, 'exact', 3, i), dir));
    const codes = await Promise.all(procs.map((p) => p.exited));
    assert.deepEqual(codes, [0, 0, 0], procs.map((p) => p.stderr()).join('\n---\n'));
    const locals = await Promise.all([0, 1, 2].map((i) => readRunResult(join(dir, 'exact', `i${i}`))));
    const merged = await readRunResult(join(dir, 'exact', 'merged'));
    assert.deepEqual(locals.map((r) => r.summary.iterations).sort(), [100, 100, 100]);
    assert.equal(merged.summary.iterations, 300);
    assert.equal(merged.summary.requests, 300);
    assert.equal(merged.summary.latency!.count, 300);
    assert.equal(merged.distributed!.mode, 'coordinated');
    assert.deepEqual(merged.distributed!.missing, []);
    assert.deepEqual(merged.distributed!.sources.map((s) => [s.segment, s.state]), [['0:1/3', 'complete'], ['1/3:2/3', 'complete'], ['2/3:1', 'complete']]);
    assert.deepEqual(locals.map((r) => r.executionSegment?.segment), ['0:1/3', '1/3:2/3', '2/3:1']);
    // The coordinator trims what it has read: only the last entry of the stream is left in Redis.
    const client = await connectCoordinator(redis.url);
    try {
      assert.ok((await client.xlen('redline:run:exact:intervals')) <= 1);
    } finally {
      client.disconnect();
    }
    // Offline merge of the instances' own directories gives the same totals and tail.
    const io = fakeIo(['merge', join(dir, 'exact', 'i0'), join(dir, 'exact', 'i1'), join(dir, 'exact', 'i2'), '--out', join(dir, 'exact', 'offline'), '--no-report'], dir);
    assert.equal(await main(io), 0, io.stderrText());
    const offline = await readRunResult(join(dir, 'exact', 'offline'));
    assert.equal(offline.summary.requests, merged.summary.requests);
    assert.equal(offline.summary.latency!.count, merged.summary.latency!.count);
    assert.equal(offline.summary.latency!.max, merged.summary.latency!.max);
    assert.equal(offline.summary.vusMax, 4);
    assert.deepEqual(offline.distributed!.missing, []);
  });

  it('an instance killed mid-run is reported, and the merged result marks its missing share', async () => {
    const file = await scenario('rate.mjs', { executor: 'constant-arrival-rate', rate: 60, duration: '5s', preAllocatedVUs: 4, maxVUs: 20 });
    const procs = [0, 1, 2].map((i) => redline(instanceArgs(file, 'kill', 3, i), dir));
    await waitFor(procs[2]!, 'starting at');
    // The agreed start is 3 s after the meeting: let it stream a second or two of its share, then
    // kill it without a chance to say goodbye.
    await new Promise((r) => setTimeout(r, 5500));
    procs[2]!.child.kill('SIGKILL');
    const codes = await Promise.all(procs.map((p) => p.exited));
    assert.equal(codes[1], 0, procs[1]!.stderr());
    // The coordinating instance fails the run: the planned load was not all measured.
    assert.equal(codes[0], 1, procs[0]!.stderr());
    assert.match(procs[0]!.stderr(), /instance 2 \(.*\) sent nothing for 5 s after second \d+: marked lost/);
    assert.match(procs[0]!.stderr(), /missing from the merged result: instance 2 \(segment 2\/3:1/);
    const merged = await readRunResult(join(dir, 'kill', 'merged'));
    const d = merged.distributed!;
    assert.deepEqual(d.sources.map((s) => s.state), ['complete', 'complete', 'lost']);
    assert.equal(d.missing.length, 1);
    assert.match(d.missing[0]!, /its share \(2\/3:1 of the load\) of the later seconds is missing/);
    const locals = await Promise.all([0, 1].map((i) => readRunResult(join(dir, 'kill', `i${i}`))));
    const lost = d.sources[2]!;
    assert.ok(lost.requests > 0 && lost.lastSecond >= 1, `lost instance streamed ${lost.requests} requests`);
    // Lossless: the merged total is exactly the two complete instances plus what the killed one streamed.
    assert.equal(merged.summary.requests, locals[0]!.summary.requests + locals[1]!.summary.requests + lost.requests);
    assert.ok(merged.warnings?.some((w) => w.startsWith('distributed run incomplete: instance 2')));
    // report reads the merged directory unchanged.
    const io = fakeIo(['report', join(dir, 'kill', 'merged')], dir);
    assert.equal(await main(io), 0, io.stderrText());
  });

  it('an abortOnFail threshold failing across the instances stops all of them', async () => {
    // 5/s per instance: the merged count passes 25 at 2.5 s, each instance's own only at 5 s.
    const file = await scenario('abort.mjs', { executor: 'constant-arrival-rate', rate: 10, duration: '30s', preAllocatedVUs: 2, maxVUs: 10, thresholds: { 'http.requests': [{ threshold: 'count<25', abortOnFail: true }] } });
    const started = Date.now();
    const procs = [0, 1].map((i) => redline(instanceArgs(file, 'abort', 2, i), dir));
    const codes = await Promise.all(procs.map((p) => p.exited));
    assert.ok(Date.now() - started < 25_000, 'stopped long before the planned 30 s');
    assert.deepEqual(codes, [99, 99], procs.map((p) => p.stderr()).join('\n---\n'));
    const merged = await readRunResult(join(dir, 'abort', 'merged'));
    assert.equal(merged.status, 'aborted');
    assert.equal(merged.thresholds[0]!.ok, false);
    // Instance 1 was stopped by the coordinator, not by its own threshold (which it never failed).
    assert.match(procs[1]!.stderr(), /the coordinator aborted the run/);
    const local1 = await readRunResult(join(dir, 'abort', 'i1'));
    assert.equal(local1.status, 'aborted');
  });

  it('refuses an instance with a different scenario file at the meeting, naming the difference', async () => {
    const a = await scenario('a.mjs', { executor: 'constant-arrival-rate', rate: 10, duration: '2s' });
    const b = await scenario('b.mjs', { executor: 'constant-arrival-rate', rate: 20, duration: '2s' });
    const p0 = redline(instanceArgs(a, 'differ', 2, 0), dir);
    await waitFor(p0, 'joined run differ');
    const p1 = redline(instanceArgs(b, 'differ', 2, 1), dir);
    const [c0, c1] = await Promise.all([p0.exited, p1.exited]);
    assert.equal(c1, 2, p1.stderr());
    assert.match(p1.stderr(), /refused to join run "differ": instance 0 \(.*\) runs .*a\.mjs \(sha256 [0-9a-f]{12}\), this one .*b\.mjs \(sha256 [0-9a-f]{12}\); first difference: scenarios\.0\.options\.rate: 10 vs 20: every instance must run the same scenario file/);
    assert.equal(c0, 2, p0.stderr());
    assert.match(p0.stderr(), /run "differ" cannot start: instance 1 was refused/);
  });

  it('Redis unreachable at the start is exit 2 with a clear message, before anything runs', async () => {
    const file = await scenario('unreach.mjs', { executor: 'constant-arrival-rate', rate: 10, duration: '1s' });
    const port = await freePort();
    const io = fakeIo(['run', file, '--coordinator', `redis://127.0.0.1:${port}`, '--instances', '2', '--run-id', 'x', '--no-report'], dir);
    const before = target.requests();
    assert.equal(await main(io), 2);
    assert.match(io.stderrText(), new RegExp(`cannot reach the coordinator redis://127\\.0\\.0\\.1:${port}/?: .*ECONNREFUSED.* \\(is redis-server running there\\?\\)`));
    assert.equal(target.requests(), before);
  });

  it('Redis lost mid-run: instances finish their share and write local results; the merged result says what is missing', async () => {
    const file = await scenario('lost.mjs', { executor: 'constant-arrival-rate', rate: 40, duration: '5s', preAllocatedVUs: 4, maxVUs: 20 });
    const procs = [0, 1].map((i) => redline(instanceArgs(file, 'lost', 2, i), dir));
    await waitFor(procs[1]!, 'starting at');
    await new Promise((r) => setTimeout(r, 5000));
    await redis.kill();
    const codes = await Promise.all(procs.map((p) => p.exited));
    await redis.start();
    assert.match(procs[1]!.stderr(), /lost the coordinator's Redis after second \d+/);
    assert.equal(codes[1], 0, procs[1]!.stderr());
    const local1: RunResult = await readRunResult(join(dir, 'lost', 'i1'));
    // Its whole share ran: 5 s × 40/s split in two.
    assert.equal(local1.summary.iterations + local1.summary.iterationsDropped, 100);
    assert.ok(local1.warnings?.some((w) => /the coordinator's Redis was lost after second \d+/.test(w)), JSON.stringify(local1.warnings));
    const local0 = await readRunResult(join(dir, 'lost', 'i0'));
    assert.equal(local0.summary.iterations + local0.summary.iterationsDropped, 100);
    assert.equal(codes[0], 1, procs[0]!.stderr());
    const merged = await readRunResult(join(dir, 'lost', 'merged'));
    assert.ok(merged.distributed!.missing.length >= 1);
    assert.ok(merged.distributed!.missing.every((m) => m.includes('the coordinator lost Redis')), JSON.stringify(merged.distributed!.missing));
  });
});

describe('distributed flags: bad input', () => {
  it('an invalid --execution-segment exits 2 naming the position', async () => {
    const io = fakeIo(['run', '--url', target.url, '--rate', '10', '--duration', '1s', '--execution-segment', '1/4:2/x'], dir);
    assert.equal(await main(io), 2);
    assert.match(io.stderrText(), /invalid --execution-segment "1\/4:2\/x" at position 5: "2\/x" is not a fraction/);
    const seq = fakeIo(['run', '--url', target.url, '--rate', '10', '--execution-segment', '0:1/4', '--execution-segment-sequence', '0,1/2,1/4,1'], dir);
    assert.equal(await main(seq), 2);
    assert.match(seq.stderrText(), /invalid --execution-segment-sequence "0,1\/2,1\/4,1" at position 7: point 3 \(1\/4\) must be greater than the point before it \(1\/2\)/);
  });

  it('coordinator flags without --coordinator, and a coordinator without --instances, exit 2', async () => {
    const a = fakeIo(['run', '--url', target.url, '--rate', '10', '--instances', '2'], dir);
    assert.equal(await main(a), 2);
    assert.match(a.stderrText(), /--instances needs --coordinator redis:\/\/HOST:PORT/);
    const b = fakeIo(['run', '--url', target.url, '--rate', '10', '--coordinator', redis.url, '--run-id', 'r'], dir);
    assert.equal(await main(b), 2);
    assert.match(b.stderrText(), /--coordinator needs --instances N/);
  });
});

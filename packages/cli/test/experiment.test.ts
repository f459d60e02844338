// The protocol and encoding experiments of `redline run` (--compare-protocols, --compare-encodings):
// bad input first (nothing runs), then real runs — h1 vs h2 against a node:http2 TLS server that
// also speaks HTTP/1.1 (certificate made at test time), and identity/gzip/br against a launched
// target that compresses every response, whose HTTP server settings the probe reads.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCodes, isRedlineError, type RunResult } from '@redline/core';
import type { ExperimentResult } from '@redline/report';
import { main } from '../src/main.js';
import { armDir, experimentFrom, type ExperimentContext } from '../src/experiment.js';
import { fakeIo } from './helpers/fake-io.js';
import { makeTestCerts, type TestCerts } from '../../load/test/fixtures/certs.ts';

const COMPRESS_SERVER = fileURLToPath(new URL('./fixtures/compress-server.mjs', import.meta.url));

let certs: TestCerts;
let server: http2.Http2SecureServer;
let url = '';
const versions = new Map<string, number>();
before(async () => {
  certs = makeTestCerts();
  server = http2.createSecureServer({ cert: certs.serverCert, key: certs.serverKey, allowHTTP1: true }, (req, res) => {
    versions.set(req.httpVersion, (versions.get(req.httpVersion) ?? 0) + 1);
    res.end(`hello over ${req.httpVersion}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
after(() => {
  server.close();
  certs.cleanup();
});

async function runCli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string; cwd: string }> {
  const cwd = await mkdtemp(join(tmpdir(), 'redline-experiment-'));
  const io = fakeIo(argv, cwd);
  const code = await main(io);
  return { code, stdout: io.stdoutText(), stderr: io.stderrText(), cwd };
}

const codeOf = (fn: () => unknown): { code: string; message: string } => {
  try {
    fn();
  } catch (err) {
    if (isRedlineError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected a RedlineError');
};

test('bad experiment flags: each refused with its code and message, before anything runs', async () => {
  const none: ExperimentContext = { grpc: false, target: undefined, headers: {} };
  const launch: ExperimentContext = { ...none, target: { kind: 'launch', command: 'node server.js' } };
  const cases: Array<[Record<string, unknown>, ExperimentContext, string, string]> = [
    [{ 'compare-protocols': 'h1,h3' }, none, ErrorCodes.UNKNOWN_PROTOCOL, 'unknown protocol "h3" in --compare-protocols: expected h1 or h2'],
    [{ 'compare-protocols': 'h2' }, none, ErrorCodes.USAGE, '--compare-protocols needs at least two protocols to compare, e.g. h1,h2 (got "h2")'],
    [{ 'compare-protocols': 'h1,H1' }, none, ErrorCodes.USAGE, '--compare-protocols lists h1 twice'],
    [{ 'compare-protocols': 'h1,h2', http2: true }, none, ErrorCodes.USAGE, 'redline run: --compare-protocols cannot be combined with --http2 (--http2 picks one protocol)'],
    [{ 'compare-protocols': 'h1,h2' }, { ...none, grpc: true }, ErrorCodes.USAGE, 'redline run: --compare-protocols is for HTTP targets, not --grpc'],
    [{ 'compare-protocols': 'h1,h2', output: ['json=x.jsonl'] }, none, ErrorCodes.USAGE, 'redline run: --compare-protocols cannot be combined with --output (each arm is its own run)'],
    [{ 'compare-encodings': 'identity,zstd' }, launch, ErrorCodes.UNKNOWN_ENCODING, 'unknown encoding "zstd" in --compare-encodings: expected identity, gzip, br or deflate'],
    [{ 'compare-encodings': 'identity,gzip' }, none, ErrorCodes.USAGE, "redline run: --compare-encodings needs --target (or --attach): the server's CPU per response comes from the probe inside it"],
    [{ 'compare-encodings': 'identity,gzip' }, { ...launch, headers: { 'Accept-Encoding': 'gzip' } }, ErrorCodes.USAGE, 'redline run: --compare-encodings sets Accept-Encoding in each arm; drop --header "Accept-Encoding: gzip"'],
    [{ 'compare-encodings': 'identity,gzip', 'compare-protocols': 'h1,h2' }, launch, ErrorCodes.USAGE, 'redline run: give one experiment at a time: --compare-protocols or --compare-encodings'],
    [{ repeat: '3' }, none, ErrorCodes.USAGE, 'redline run: --repeat needs --compare-protocols or --compare-encodings'],
    [{ 'compare-protocols': 'h1,h2', repeat: '11' }, none, ErrorCodes.USAGE, 'invalid --repeat "11": expected an integer from 1 to 10'],
    [{ 'compare-protocols': 'h1,h2', repeat: '0' }, none, ErrorCodes.USAGE, 'invalid --repeat "0": expected an integer ≥ 1'],
  ];
  for (const [v, ctx, code, message] of cases) assert.deepEqual(codeOf(() => experimentFrom(v, ctx)), { code, message }, JSON.stringify(v));
  assert.equal(experimentFrom({}, none), null);
  assert.deepEqual(experimentFrom({ 'compare-encodings': ' Identity, br ', repeat: '3' }, launch), { kind: 'encodings', arms: [{ label: 'identity', acceptEncoding: 'identity' }, { label: 'br', acceptEncoding: 'br' }], repeat: 3 });
  // One directory per arm; with --repeat, one per arm and run.
  assert.equal(armDir('/x', { label: 'h1' }, 1, 1), join('/x', 'h1'));
  assert.equal(armDir('/x', { label: 'h1' }, 2, 3), join('/x', 'h1-2'));

  // Through the command line: exit 2, the message on stderr, no run directory, no target started.
  const cli: Array<[string[], string]> = [
    [['run', '--url', url, '--vus', '1', '--compare-protocols', 'h1,h3'], 'redline: unknown protocol "h3" in --compare-protocols: expected h1 or h2\n'],
    [['run', '--url', url, '--vus', '1', '--compare-encodings', 'identity,gzip'], "redline run: --compare-encodings needs --target (or --attach): the server's CPU per response comes from the probe inside it\n"],
    [['run', '--url', '/', '--vus', '1', '--target', 'touch started', '--compare-encodings', 'gzip,zstd'], 'redline: unknown encoding "zstd" in --compare-encodings: expected identity, gzip, br or deflate\n'],
    // HTTP/2 cannot go through a proxy: refused before the h1 arm runs.
    [['run', '--url', url, '--vus', '1', '--proxy', 'http://127.0.0.1:9', '--compare-protocols', 'h1,h2'], 'redline run: --compare-protocols with h2 cannot be combined with --proxy (HTTP/2 through a proxy is not supported)\n'],
    // Every arm's plan is checked before the first runs (here: a duration that does not parse).
    [['run', '--url', url, '--vus', '1', '--duration', 'soon', '--compare-protocols', 'h1,h2'], ''],
  ];
  for (const [argv, stderr] of cli) {
    const r = await runCli(argv);
    assert.equal(r.code, 2, `${argv.join(' ')}: ${r.stderr}`);
    if (stderr !== '') assert.equal(r.stderr, stderr);
    else assert.match(r.stderr, /duration/);
    assert.deepEqual(await readdir(r.cwd), [], 'nothing was written or started');
  }
});

test('--compare-protocols h1,h2: one run directory per arm, each spoke its protocol, side by side with compare verdicts', async () => {
  versions.clear();
  const r = await runCli(['run', '--url', url, '--ca', certs.caFile, '--vus', '4', '--duration', '2s', '--workers', '0', '--compare-protocols', 'h1,h2', '--out', 'exp', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const x = JSON.parse(r.stdout) as ExperimentResult & { dir: string; exitCodes: number[] };
  assert.equal(x.kind, 'experiment');
  assert.equal(x.experiment, 'protocols');
  assert.deepEqual(x.arms.map((a) => a.label), ['h1', 'h2']);
  assert.deepEqual(x.exitCodes, [0, 0]);
  // The server saw both versions: each arm spoke its own.
  assert.ok((versions.get('1.1') ?? 0) > 0 && (versions.get('2.0') ?? 0) > 0, JSON.stringify([...versions]));
  const [h1, h2] = x.arms as [ExperimentResult['arms'][number], ExperimentResult['arms'][number]];
  const h1Run = JSON.parse(await readFile(join(x.dir, 'h1', 'result.json'), 'utf8')) as RunResult;
  const h2Run = JSON.parse(await readFile(join(x.dir, 'h2', 'result.json'), 'utf8')) as RunResult;
  assert.equal(h1Run.summary.http2, undefined);
  assert.ok(h2Run.summary.http2);
  // h1: one keep-alive connection per VU at most; h2: the VUs share one connection as streams.
  assert.equal(h1.connectionsFrom, 'connect-phase');
  assert.ok(h1.connections !== null && h1.connections >= 1 && h1.connections <= 4, String(h1.connections));
  assert.equal(h2.connectionsFrom, 'http2');
  assert.equal(h2.connections, 1);
  for (const a of x.arms) {
    assert.ok(a.requests > 0 && a.errors === 0, `${a.label}: ${a.requests} requests, ${a.errors} errors`);
    assert.ok(a.throughput > 0 && a.latencyMs !== null && a.latencyMs.p99 >= a.latencyMs.p50);
    assert.ok(a.generatorCpuUsPerRequest !== null && a.generatorCpuUsPerRequest > 0);
    assert.equal(a.targetCpuUsPerRequest, null, 'no --target: no target CPU');
    assert.ok(a.receivedBytesPerResponse !== null && a.receivedBytesPerResponse > 'hello over 2.0'.length);
  }
  // compare's statistics for h2 against h1, and its page.
  assert.equal(x.comparisons.length, 1);
  const c = x.comparisons[0]!;
  assert.deepEqual([c.base, c.candidate], ['h1', 'h2']);
  assert.ok(c.metrics.some((m) => m.metric === 'throughput' && m.ci !== null), JSON.stringify(c.metrics.map((m) => m.metric)));
  assert.ok(c.html !== null && existsSync(c.html));
  assert.ok(existsSync(join(x.dir, 'experiment.json')) && existsSync(join(x.dir, 'experiment.html')));
  const page = await readFile(join(x.dir, 'experiment.html'), 'utf8');
  assert.match(page, /Protocol experiment: h1 vs h2/);
  assert.match(page, /href="compare-h2-vs-h1\.html"/);
});

test('--compare-encodings identity,gzip,br on a target: bytes, the server CPU per response, compression-cpu on br, and the server settings the probe read', async () => {
  const r = await runCli(['run', '--target', `node ${COMPRESS_SERVER}`, '--url', '/', '--vus', '2', '--duration', '3s', '--workers', '0', '--compare-encodings', 'identity,gzip,br', '--out', 'exp', '--no-report']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Encoding experiment: identity vs gzip vs br/);
  const dir = join(r.cwd, 'exp');
  const x = JSON.parse(await readFile(join(dir, 'experiment.json'), 'utf8')) as ExperimentResult;
  const by = Object.fromEntries(x.arms.map((a) => [a.label, a]));
  const [identity, gzip, br] = [by.identity!, by.gzip!, by.br!];
  assert.deepEqual(x.warnings, []);
  // The server compressed as asked: far fewer bytes on the wire (the JSON repeats itself).
  assert.ok(identity.receivedBytesPerResponse! > 20_000, String(identity.receivedBytesPerResponse));
  assert.ok(gzip.receivedBytesPerResponse! < identity.receivedBytesPerResponse! * 0.5, `${gzip.receivedBytesPerResponse} vs ${identity.receivedBytesPerResponse}`);
  assert.ok(br.receivedBytesPerResponse! <= gzip.receivedBytesPerResponse!, `${br.receivedBytesPerResponse} vs ${gzip.receivedBytesPerResponse}`);
  // The server's CPU per response, from the probe: brotli at quality 11 costs it far more.
  for (const a of x.arms) assert.ok(a.targetCpuUsPerRequest !== null && a.targetCpuUsPerRequest > 0, a.label);
  assert.ok(br.targetCpuUsPerRequest! > identity.targetCpuUsPerRequest! * 2, `${br.targetCpuUsPerRequest} vs ${identity.targetCpuUsPerRequest} µs`);
  // The doctor's compression finding fires from the br arm, not from identity.
  assert.ok(br.zlibCpuShare !== null && br.zlibCpuShare >= 0.2, JSON.stringify(br.findings));
  assert.ok(br.findings.some((f) => f.category === 'compression-cpu'));
  assert.ok(!identity.findings.some((f) => f.category === 'compression-cpu'), JSON.stringify(identity.findings));
  assert.equal(x.comparisons.length, 2);
  assert.deepEqual(x.comparisons.map((c) => `${c.candidate} vs ${c.base}`), ['gzip vs identity', 'br vs identity']);
  assert.ok(x.comparisons.every((c) => c.html === null && c.metrics.some((m) => m.metric === 'cpu')), 'probed on both sides: target CPU compared; --no-report: no pages');

  // Server socket settings, read by the probe at the end of each run (headersTimeout was set after listen()).
  const run = JSON.parse(await readFile(join(dir, 'br', 'result.json'), 'utf8')) as RunResult;
  const servers = run.target?.servers ?? [];
  assert.equal(servers.length, 1, JSON.stringify(servers));
  const s = servers[0]!;
  assert.deepEqual({ kind: s.kind, thread: s.thread, listening: s.listening, keepAliveTimeoutMs: s.keepAliveTimeoutMs, headersTimeoutMs: s.headersTimeoutMs, requestTimeoutMs: s.requestTimeoutMs, maxRequestsPerSocket: s.maxRequestsPerSocket }, {
    kind: 'http',
    thread: 'main',
    listening: true,
    keepAliveTimeoutMs: 5000,
    headersTimeoutMs: 20_000,
    requestTimeoutMs: 300_000,
    maxRequestsPerSocket: 0,
  });
  assert.ok(s.port !== null && s.port > 0);
  const keep = run.findings.find((f) => f.category === 'server-keepalive');
  assert.ok(keep, run.findings.map((f) => f.category).join(', '));
  assert.equal(
    keep.title,
    `Server keep-alive: the http server on port ${s.port} closes idle connections after 5 s (Node's default) (keepAliveTimeout), shorter than a load balancer's idle timeout (AWS ALB 60 s, nginx upstream keepalive_timeout 60 s, GCP 600 s): behind one, expect intermittent 502s`,
  );
  assert.match(keep.recommendation, /headersTimeout 20 s/);
});

test('Ctrl-C during an arm ends the experiment: exit 130, that arm marked interrupted, no later arm, no experiment.json', async () => {
  const cwd = await mkdtemp(join(tmpdir(), 'redline-experiment-'));
  const io = fakeIo(['run', '--url', url, '--ca', certs.caFile, '--vus', '2', '--duration', '30s', '--workers', '0', '--compare-protocols', 'h1,h2', '--out', 'exp', '--no-report'], cwd);
  const timer = setTimeout(() => io.raise('SIGINT'), 1500);
  const code = await main(io).finally(() => clearTimeout(timer));
  assert.equal(code, 130, io.stderrText());
  const h1 = JSON.parse(await readFile(join(cwd, 'exp', 'h1', 'result.json'), 'utf8')) as RunResult;
  assert.equal(h1.status, 'interrupted');
  assert.equal(existsSync(join(cwd, 'exp', 'h2')), false);
  assert.equal(existsSync(join(cwd, 'exp', 'experiment.json')), false);
});

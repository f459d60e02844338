// Tracing's bad inputs and faults: a target that cannot load the instrumentation, a target that exits
// mid-run, a target with its own OpenTelemetry SDK, the export to an OTLP endpoint, and bad flags.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { quickPlan } from '@redline/load';
import { startReceiver, type TracesFile } from '@redline/trace';
import { runSession, type SessionOptions } from '../src/session.js';
import { main } from '../src/main.js';
import { fakeIo } from './helpers/fake-io.js';

const SERVICE = fileURLToPath(new URL('../../trace/test/fixtures/echo-service.mjs', import.meta.url));
const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'redline-trace-faults-'));
  dirs.push(d);
  return d;
}

async function run(env: string, opts: Partial<SessionOptions> = {}, cwd?: string): Promise<{ o: Awaited<ReturnType<typeof runSession>>; traces: TracesFile }> {
  const dir = cwd ?? (await tempDir());
  const o = await runSession({
    cwd: dir,
    outDir: join(dir, 'run'),
    env: {},
    workers: 1,
    report: false,
    trace: {},
    target: { kind: 'launch', command: `${env} "${process.execPath}" "${SERVICE}"`, cwd: dir },
    plan: async ({ url }) => quickPlan({ url: `${url}/x`, vus: 2, duration: '3s' }, { name: 'faults' }),
    ...opts,
  });
  return { o, traces: JSON.parse(await readFile(join(o.runDir, 'traces.json'), 'utf8')) as TracesFile };
}

test('a target that cannot load the instrumentation runs on without traces, and a note says why', async () => {
  const { o, traces } = await run(`REDLINE_TRACE_SDK_DIR=${await tempDir()}`);
  assert.ok(o.result.summary.requests > 50);
  assert.equal(o.result.status, 'completed');
  const note = o.result.warnings?.find((w) => w.startsWith('the target could not load the OpenTelemetry instrumentation'));
  assert.match(note ?? '', /Cannot find module '@opentelemetry\/sdk-trace-node'.*: the run goes on without traces$/);
  assert.equal(traces.receiver.spansReceived, 0);
});

test('a target that exits mid-run keeps the spans received so far', async () => {
  const { o, traces } = await run('EXIT_AFTER_REQUESTS=150');
  assert.ok(o.result.target?.exit, 'the exit is recorded');
  assert.ok(traces.receiver.spansReceived > 0);
  assert.ok(traces.analysis.byName['GET /x']!.traced > 0);
});

test('a target with its own OpenTelemetry SDK is not instrumented again: its exporter is pointed at the receiver', async () => {
  const dir = await tempDir();
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'own', dependencies: { '@opentelemetry/sdk-trace-node': '2.12.1' } }));
  const { o, traces } = await run('OWN_SDK=1', {}, dir);
  assert.ok(o.result.warnings?.some((w) => /runs its own OpenTelemetry SDK \(.*package\.json depends on @opentelemetry\/sdk-trace-node\): not instrumenting it again/.test(w)), String(o.result.warnings));
  assert.ok(traces.receiver.spansReceived > 0);
  const otlp = await readFile(join(o.runDir, 'traces.otlp.json'), 'utf8');
  assert.match(otlp, /own-sdk-service/);
  assert.doesNotMatch(otlp, /redline-target/);
});

test('--trace-export sends the kept traces to an OTLP endpoint', async () => {
  const sink = await startReceiver({ runTag: null });
  try {
    const { o, traces } = await run('', { trace: { exportUrl: sink.url } });
    assert.ok(traces.spansSaved > 0);
    assert.equal(sink.stats().spansReceived, traces.spansSaved);
    assert.ok(!o.result.warnings?.some((w) => w.startsWith('could not export')));
    // The default sampling is a budget of 50 sampled requests per second; the share is measured.
    assert.equal(traces.samplePerSecond, 50);
    assert.equal(o.result.traces?.samplePerSecond, 50);
    const requests = o.result.summary.requests;
    assert.ok(traces.receiver.serverSpans > 0 && traces.receiver.serverSpans <= 75 * 4, `server spans ${traces.receiver.serverSpans}`);
    assert.ok(Math.abs(traces.sampleRatio - Math.min(1, traces.receiver.serverSpans / requests)) < 1e-9);
  } finally {
    await sink.close();
  }
});

async function cli(argv: string[]): Promise<{ code: number; stderr: string }> {
  const io = fakeIo(argv, await tempDir());
  const code = await main(io);
  return { code, stderr: io.stderrText() };
}

test('bad tracing flags exit 2 with one line', async () => {
  const base = ['run', '--url', 'http://127.0.0.1:1/', '--rate', '10'];
  for (const bad of ['2', '0', '0/s', '1.5/m', 'fast', '50/m']) {
    assert.deepEqual(await cli([...base, '--trace', '--trace-sample', bad]), { code: 2, stderr: `redline: --trace-sample must be a ratio in (0, 1] or a rate such as 50/s, got "${bad}"\n` });
  }
  assert.deepEqual(await cli([...base, '--trace-sample', '0.5']), { code: 2, stderr: 'redline: --trace-sample needs --trace\n' });
  assert.deepEqual(await cli([...base, '--trace', '--trace-port', '70000']), { code: 2, stderr: 'redline: --trace-port must be a port number 1-65535, got "70000"\n' });
  assert.deepEqual(await cli([...base, '--trace', '--trace-export', 'ftp://127.0.0.1/v1/traces']), { code: 2, stderr: 'redline: --trace-export: unsupported protocol "ftp:" in "ftp://127.0.0.1/v1/traces": use http:// or https://\n' });
  assert.deepEqual(await cli([...base, '--trace', '--trace-export', 'nope']), { code: 2, stderr: 'redline: --trace-export: invalid URL "nope": expected an OTLP/HTTP traces endpoint such as http://127.0.0.1:4318/v1/traces\n' });
});

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { noResponseError, planFromFile, quickPlan, resolvePlan, runLoad, writeRunDir, type IterationContext } from '@redline/load';
import { startTestServer, type TestServer } from './fixtures/test-server.ts';

let srv: TestServer;
let silent: net.Server;
let silentUrl: string;
let closedUrl: string;
let dir: string;
const held = new Set<net.Socket>();
before(async () => {
  srv = await startTestServer();
  dir = await mkdtemp(join(tmpdir(), 'redline-silent-'));
  // Accepts connections and never answers.
  silent = net.createServer((s) => {
    held.add(s);
    s.on('error', () => undefined);
    s.on('close', () => held.delete(s));
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  silentUrl = `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}/`;
  // A port nobody listens on: every connect is refused.
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  closedUrl = `http://127.0.0.1:${(probe.address() as net.AddressInfo).port}/`;
  await new Promise<void>((r) => probe.close(() => r()));
});
after(async () => {
  for (const s of held) s.destroy();
  await new Promise<void>((r) => silent.close(() => r()));
  await srv.close();
  await rm(dir, { recursive: true, force: true });
});

describe('a server that accepts and never answers', () => {
  it('ends in time, counts the requests in flight as interrupted, and is a run without responses', async () => {
    const plan = resolvePlan({ executor: 'constant-vus', vus: 3, duration: '1s', gracefulStop: '500ms', timeout: '30s', requests: [{ url: silentUrl }] }, 'never.ts');
    const t0 = performance.now();
    const r = await runLoad(plan, { workers: 1 });
    const tookMs = performance.now() - t0;
    assert.ok(tookMs < 6000, `took ${tookMs} ms`);
    assert.equal(r.status, 'completed');
    assert.equal(r.summary.requests, 3);
    assert.deepEqual(r.summary.errorsByKind, { interrupted: 3 });
    assert.equal(r.summary.latency, undefined);
    const err = noResponseError(r);
    assert.equal(err?.code, 'REDLINE_ERR_NO_RESPONSES');
    assert.equal(err?.message, 'no request got a response: all 3 failed (interrupted 3), so the run measured nothing about the target');
    assert.ok(r.warnings?.includes(err.message), JSON.stringify(r.warnings));
  });

  it('requests that time out first are counted as timeouts (with their latency), still without a response', async () => {
    const r = await runLoad(resolvePlan({ executor: 'per-vu-iterations', vus: 2, iterations: 1, timeout: '300ms', requests: [{ url: silentUrl }] }, 'never.ts'), { workers: 0 });
    assert.deepEqual(r.summary.errorsByKind, { timeout: 2 });
    assert.ok(r.summary.latency!.p50 >= 300, `p50 ${r.summary.latency!.p50}`);
    assert.match(noResponseError(r)?.message ?? '', /^no request got a response: all 2 failed \(timeout 2\)/);
  });

  it('a run with answers is not flagged', async () => {
    const r = await runLoad(resolvePlan({ executor: 'per-vu-iterations', vus: 1, iterations: 3, requests: [{ url: `${srv.url}/ok` }] }, 'ok.ts'), { workers: 0 });
    assert.equal(noResponseError(r), null);
    assert.equal(r.warnings, undefined);
  });
});

describe('a run with no responses has no latency percentiles', () => {
  it('100 % connect_refused: latency and service time are absent in the summary, by name, and in result.json', async () => {
    const r = await runLoad(resolvePlan({ executor: 'per-vu-iterations', vus: 2, iterations: 5, requests: [{ url: closedUrl, name: 'refused' }] }, 'refused.ts'), { workers: 0 });
    assert.deepEqual(r.summary.errorsByKind, { connect_refused: 10 });
    assert.equal(r.summary.latency, undefined);
    assert.equal(r.summary.serviceTime, undefined);
    assert.equal(r.summary.byName.refused!.latency, undefined);
    assert.match(noResponseError(r)?.message ?? '', /^no request got a response: all 10 failed \(connect_refused 10\)/);
    const out = await writeRunDir(r, join(dir, 'refused'));
    const json = JSON.parse(await readFile(join(out, 'result.json'), 'utf8')) as { summary: Record<string, unknown> & { byName: Record<string, Record<string, unknown>> } };
    assert.equal('latency' in json.summary, false);
    assert.equal('serviceTime' in json.summary, false);
    assert.equal('latency' in json.summary.byName.refused!, false);
  });
});

describe('invalid request headers', () => {
  const code = (c: string, message: string) => (e: Error & { code?: string }) => {
    assert.equal(e.code, c);
    assert.equal(e.message, message);
    return true;
  };

  it('are rejected before anything runs, in scenarios and quick mode, naming the header', async () => {
    assert.throws(
      () => resolvePlan({ headers: { 'X-Token': 'a\r\nX-Injected: 1' }, duration: '1s', requests: [{ url: `${srv.url}/ok` }] }, 's.ts'),
      code('REDLINE_ERR_BAD_HEADER', 's.ts: headers: header "X-Token" has an invalid value: it contains a line break (CR/LF)'),
    );
    assert.throws(
      () => resolvePlan({ scenarios: { api: { duration: '1s', requests: [{ url: `${srv.url}/ok`, headers: { 'Bad Name': 'x' } }] } } }, 's.ts'),
      code('REDLINE_ERR_BAD_HEADER', 's.ts: scenarios.api.requests.0.headers: invalid header name "Bad Name": expected a token (letters, digits and !#$%&\'*+-.^_`|~), no spaces, colons or line breaks'),
    );
    assert.throws(
      () => resolvePlan({ duration: '1s', requests: [{ url: `${srv.url}/ok`, headers: { 'X-Nul': 'a\u0000b' } }] }, 's.ts'),
      code('REDLINE_ERR_BAD_HEADER', 's.ts: requests.0.headers: header "X-Nul" has an invalid value: it contains a control character (0x00)'),
    );
    assert.throws(
      () => resolvePlan({ duration: '1s', requests: [{ url: `${srv.url}/ok`, headers: { 'X-Euro': '5 €' } }] }, 's.ts'),
      code('REDLINE_ERR_BAD_HEADER', 's.ts: requests.0.headers: header "X-Euro" has an invalid value: it contains a character outside latin1 (U+20AC)'),
    );
    await assert.rejects(
      quickPlan({ url: `${srv.url}/ok`, headers: { 'X-A': 'line\nbreak' } }),
      code('REDLINE_ERR_BAD_HEADER', 'invalid --header: header "X-A" has an invalid value: it contains a line break (CR/LF)'),
    );
    // Tabs, visible ASCII and latin1 obs-text are fine.
    assert.ok(resolvePlan({ headers: { 'X-Ok': 'a\tb ~ é' }, duration: '1s', requests: [{ url: `${srv.url}/ok` }] }, 's.ts'));
  });

  it('fail a scripted request at run time with a per-request error, and the run goes on', async () => {
    const r = await runLoad(
      resolvePlan(
        {
          baseUrl: srv.url,
          executor: 'per-vu-iterations',
          vus: 1,
          iterations: 2,
          exec: async (ctx: IterationContext) => {
            await ctx.http.get('/ok');
            await ctx.http.get('/ok', { headers: { 'X-B': `v${ctx.iteration}\r\nX-Injected: 1` } });
          },
        },
        'script.ts',
      ),
      { workers: 0 },
    );
    assert.equal(r.summary.requests, 2);
    assert.equal(r.summary.iterationErrors, 2);
    assert.deepEqual(r.warnings, ['iterations failed: GET /ok: header "X-B" has an invalid value: it contains a line break (CR/LF)']);
  });
});

describe('a worker thread that dies', () => {
  const fixture = fileURLToPath(new URL('./fixtures/worker-crash.mjs', import.meta.url));
  for (const [how, message] of [
    ['throw', /^the load generator failed: worker 0 failed: boom in worker; its share of the load was lost after \d+ requests, so the run has no result$/],
    ['exit', /^the load generator failed: worker 0 exited \(code 3\) before reporting its last interval; its share/],
  ] as const) {
    it(`fails the run with REDLINE_ERR_WORKER_FAILED (${how})`, async () => {
      process.env.REDLINE_TEST_CRASH = how;
      try {
        const plan = await planFromFile(fixture);
        const t0 = performance.now();
        await assert.rejects(runLoad(plan, { workers: 1 }), (e: Error & { code?: string }) => {
          assert.equal(e.code, 'REDLINE_ERR_WORKER_FAILED');
          assert.match(e.message, message);
          return true;
        });
        assert.ok(performance.now() - t0 < 5000, 'the run ended as soon as the worker died');
      } finally {
        delete process.env.REDLINE_TEST_CRASH;
      }
    });
  }
});

describe('the generator out of file descriptors', () => {
  it('counts EMFILE as a generator error, marks the run generator-limited, and the doctor does not blame the target', async () => {
    const child = fileURLToPath(new URL('./fixtures/emfile-child.ts', import.meta.url));
    const proc = spawn('prlimit', ['--nofile=72:72', process.execPath, '--import', 'tsx', child, `${srv.url}/ok`, '300'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((r) => proc.on('exit', r));
    assert.equal(code, 0, stderr);
    const out = JSON.parse(stdout) as { requests: number; errorsByKind: Record<string, number>; limited: boolean; reasons: string[]; findings: Array<{ category: string; title: string }> };
    assert.ok((out.errorsByKind.generator ?? 0) > 0, JSON.stringify(out.errorsByKind));
    assert.equal(out.errorsByKind.network, undefined);
    assert.equal(out.limited, true);
    assert.ok(
      out.reasons.some((r) => /^the load generator ran out of file descriptors \(EMFILE\/ENFILE\) on \d+ requests, which never reached the target/.test(r)),
      JSON.stringify(out.reasons),
    );
    assert.equal(out.findings.some((f) => f.category === 'errors'), false, JSON.stringify(out.findings));
    assert.ok(out.findings.some((f) => f.category === 'generator-limited'), JSON.stringify(out.findings));
  });
});

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../src/main.js';
import { fakeIo } from './helpers/fake-io.js';
import { makeTestCerts, type TestCerts } from '../../load/test/fixtures/certs.ts';

let certs: TestCerts;
let server: http2.Http2SecureServer;
let url = '';
before(async () => {
  certs = makeTestCerts();
  // HTTP/2 and HTTP/1.1 on one TLS port, so both --http2 and the default can reach it.
  server = http2.createSecureServer({ cert: certs.serverCert, key: certs.serverKey, allowHTTP1: true }, (req, res) => res.end(`hello ${req.httpVersion}`));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
after(() => {
  server.close();
  certs.cleanup();
});

async function runCli(argv: string[]): Promise<{ code: number; stderr: string; json: { summary: { requests: number; errors: number; errorsByKind: Record<string, number> } } | null }> {
  const cwd = await mkdtemp(join(tmpdir(), 'redline-proto-'));
  const io = fakeIo(argv, cwd);
  const code = await main(io);
  let json = null;
  try {
    json = JSON.parse(io.stdoutText()) as NonNullable<Awaited<ReturnType<typeof runCli>>['json']>;
  } catch {
    // not JSON (usage errors)
  }
  return { code, stderr: io.stderrText(), json };
}

const QUICK = ['--vus', '2', '--duration', '1s', '--workers', '0', '--no-report', '--json'];

test('--insecure accepts a self-signed chain; without it every request fails as tls', async () => {
  const ok = await runCli(['run', '--url', url, '--insecure', ...QUICK]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.ok(ok.json!.summary.requests > 0);
  assert.equal(ok.json!.summary.errors, 0);
  const strict = await runCli(['run', '--url', url, ...QUICK]);
  assert.ok(strict.json!.summary.requests > 0, strict.stderr);
  assert.equal(strict.json!.summary.errorsByKind.tls, strict.json!.summary.requests);
});

test('--http2 with --ca, --connections and --max-streams runs over h2', async () => {
  const r = await runCli(['run', '--url', url, '--http2', '--ca', certs.caFile, '--connections', '2', '--max-streams', '8', ...QUICK]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.json!.summary.requests > 0);
  assert.equal(r.json!.summary.errors, 0);
});

test('bad transport flags exit 2 with the flag named', async () => {
  const streams = await runCli(['run', '--url', url, '--http2', '--max-streams', '0', ...QUICK]);
  assert.equal(streams.code, 2);
  assert.equal(streams.stderr, 'redline: invalid --max-streams "0": expected an integer ≥ 1\n');
  const key = await runCli(['run', '--url', url, '--cert', certs.clientCertFile, ...QUICK]);
  assert.equal(key.code, 2);
  assert.equal(key.stderr, 'redline: tls: a client certificate needs both cert and key (got only cert)\n');
});

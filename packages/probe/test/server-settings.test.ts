// The probe's HTTP server settings (keepAliveTimeout & co.): every kind of server a real target
// creates, read when the host asks, including a server that never listens itself.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { launchTarget, type TargetHandle } from '@redline/probe/host';
import { makeTestCerts } from '../../load/test/fixtures/certs.ts';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const certs = makeTestCerts();
let handle: TargetHandle | null = null;
after(async () => {
  await handle?.stop();
  certs.cleanup();
});

type Ports = { a: number; b: number; c: number; e: number };

/** The fixture's ports line (it prints it once every server listens). */
async function portsOf(h: TargetHandle): Promise<Ports> {
  for (let i = 0; i < 100; i++) {
    const line = h.stdoutTail(1);
    if (line.startsWith('{')) return JSON.parse(line) as Ports;
    await sleep(50);
  }
  throw new Error(`no ports line: ${h.stdoutTail()} ${h.stderrTail()}`);
}

test('http, https, http2 and a non-listening http server are read with their settings; a plain net server is not', async () => {
  handle = await launchTarget({ command: 'node servers.mjs', cwd: fixtures, startTimeoutMs: 10_000, env: { CERT_FILE: join(certs.dir, 'server.pem'), KEY_FILE: join(certs.dir, 'server.key') } });
  const ports = await portsOf(handle);
  // D is known only once it gets a request (through E).
  const res = await fetch(`http://127.0.0.1:${ports.e}/`, { signal: AbortSignal.timeout(5000) });
  assert.equal(await res.text(), 'ok');
  const servers = await handle.serverSettings();
  const pick = ({ kind, port, listening, keepAliveTimeoutMs, headersTimeoutMs, requestTimeoutMs, maxRequestsPerSocket }: (typeof servers)[number]) => ({ kind, port, listening, keepAliveTimeoutMs, headersTimeoutMs, requestTimeoutMs, maxRequestsPerSocket });
  const byPort = (p: number | null) => servers.find((s) => s.port === p);
  assert.equal(servers.length, 4, JSON.stringify(servers));
  assert.deepEqual(pick(byPort(ports.a)!), { kind: 'http', port: ports.a, listening: true, keepAliveTimeoutMs: 65_000, headersTimeoutMs: 60_000, requestTimeoutMs: 300_000, maxRequestsPerSocket: 100 });
  assert.deepEqual(pick(byPort(ports.b)!), { kind: 'https', port: ports.b, listening: true, keepAliveTimeoutMs: 5000, headersTimeoutMs: 60_000, requestTimeoutMs: 300_000, maxRequestsPerSocket: 0 });
  assert.deepEqual(pick(byPort(ports.c)!), { kind: 'http2-secure', port: ports.c, listening: true, keepAliveTimeoutMs: null, headersTimeoutMs: null, requestTimeoutMs: null, maxRequestsPerSocket: null });
  assert.deepEqual(pick(byPort(null)!), { kind: 'http', port: null, listening: false, keepAliveTimeoutMs: 1234, headersTimeoutMs: 60_000, requestTimeoutMs: 300_000, maxRequestsPerSocket: 0 });
  assert.ok(servers.every((s) => s.thread === 'main'));
  assert.equal(byPort(ports.e), undefined, 'the plain net server is not an HTTP server');
});

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../src/main.js';
import { fakeIo } from './helpers/fake-io.js';
import { ECHO_PROTO, startEchoServer, type EchoServer } from '../../load/test/fixtures/grpc/server.ts';

let server: EchoServer;
before(async () => {
  server = await startEchoServer();
});
after(() => server.close());

async function runCli(argv: string[]): Promise<{ code: number; stderr: string; json: { summary: { requests: number; errors: number; grpc?: { calls: number; byStatus: Record<string, number> } } } | null; cwd: string }> {
  const cwd = await mkdtemp(join(tmpdir(), 'redline-grpc-cli-'));
  const io = fakeIo(argv, cwd);
  const code = await main(io);
  let json = null;
  try {
    json = JSON.parse(io.stdoutText()) as NonNullable<Awaited<ReturnType<typeof runCli>>['json']>;
  } catch {
    // not JSON (usage errors)
  }
  return { code, stderr: io.stderrText(), json, cwd };
}

const QUICK = ['--vus', '2', '--duration', '500ms', '--workers', '0', '--no-report', '--json'];

test('redline run --grpc calls a unary method from the .proto and a JSON message', async () => {
  const r = await runCli(['run', '--grpc', server.address, '--proto', ECHO_PROTO, '--method', 'redline.test.Echo/Say', '--message', '{"text":"cli"}', '--header', 'x-user: cli', ...QUICK]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.json!.summary.requests > 0);
  assert.equal(r.json!.summary.errors, 0);
  assert.equal(r.json!.summary.grpc!.byStatus.OK, r.json!.summary.requests);
});

test('the terminal summary of a gRPC run shows its statuses', async () => {
  const cwd = await mkdtemp(join(tmpdir(), 'redline-grpc-cli-'));
  const io = fakeIo(['run', '--grpc', server.address, '--proto', ECHO_PROTO, '--method', 'redline.test.Echo/Say', '--message', '{"fail_code":5}', '--vus', '1', '--duration', '300ms', '--workers', '0', '--no-report'], cwd);
  const code = await main(io);
  assert.equal(code, 0, io.stderrText());
  assert.match(io.stdoutText(), /grpc \.+: \d+ calls? with a status: NOT_FOUND \d+/);
  assert.match(io.stdoutText(), /grpc_not_found/);
});

test('redline run --grpc: bad input exits 2 with its message before anything runs', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'redline-grpc-bad-'));
  const bad = join(dir, 'bad.proto');
  await writeFile(bad, 'syntax = "proto3";\nmessage {\n');
  const cases: Array<[string[], RegExp]> = [
    [['--grpc', server.address, '--proto', bad, '--method', 'a.B/C'], /redline: malformed \.proto file .*bad\.proto/],
    [['--grpc', server.address, '--proto', ECHO_PROTO, '--method', 'redline.test.Echo/Shout'], /redline: unknown method "Shout" of gRPC service redline\.test\.Echo/],
    [['--grpc', server.address, '--proto', ECHO_PROTO, '--method', 'nope.Svc/Say'], /redline: unknown gRPC service "nope\.Svc"/],
    [['--grpc', server.address, '--method', 'redline.test.Echo/Say'], /^redline run: --grpc needs --proto FILE/],
    [['--url', 'http://127.0.0.1:1/', '--proto', ECHO_PROTO], /^redline run: --proto needs --grpc host:port/],
    [['--grpc', server.address, '--url', 'http://127.0.0.1:1/', '--proto', ECHO_PROTO, '--method', 'redline.test.Echo/Say'], /^redline run: --grpc cannot be combined with --url/],
  ];
  for (const [args, message] of cases) {
    const r = await runCli(['run', ...args, ...QUICK]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
});

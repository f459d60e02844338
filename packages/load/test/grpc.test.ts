import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ErrorCodes, isRedlineError, type RunResult } from '@redline/core';
import { grpcQuickPlan, resolvePlan, runLoad, type GrpcQuickOptions, type GrpcResponse, type IterationContext, type ScenarioDefinition } from '@redline/load';
import { makeTestCerts, type TestCerts } from './fixtures/certs.ts';
import { ECHO_PROTO, startEchoServer, type EchoServer } from './fixtures/grpc/server.ts';

let plain: EchoServer;
let secure: EchoServer;
let certs: TestCerts;
let tmp: string;

before(async () => {
  certs = makeTestCerts();
  plain = await startEchoServer();
  secure = await startEchoServer({ cert: certs.serverCert, key: certs.serverKey });
  tmp = mkdtempSync(join(tmpdir(), 'redline-grpc-'));
});
after(async () => {
  await plain.close();
  await secure.close();
  certs.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

function quick(o: Partial<GrpcQuickOptions>, transport?: GrpcQuickOptions['transport']): Promise<RunResult> {
  return grpcQuickPlan(
    { target: plain.address, proto: ECHO_PROTO, method: 'redline.test.Echo/Say', vus: 4, duration: '600ms', timeout: '5s', ...o, ...(transport ? { transport } : {}) },
    { workers: 1 },
  ).then((plan) => runLoad(plan, { workers: 1 }));
}

/** A scripted scenario on this thread (workers 0); the proto path is absolute. */
function script(def: ScenarioDefinition): Promise<RunResult> {
  return runLoad(resolvePlan({ timeout: '5s', executor: 'per-vu-iterations', vus: 1, iterations: 1, ...def }, 'grpc.test.ts'), { workers: 0 });
}

async function rejects(p: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isRedlineError(err), `expected a RedlineError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.match(err.message, message);
    return true;
  });
}

describe('gRPC fast path (quick mode)', () => {
  it('sends unary calls from the .proto and a JSON message, counting each OK status', async () => {
    const before = plain.calls;
    const r = await quick({ message: '{"text":"hi"}', metadata: { 'x-user': 'ada' } });
    assert.equal(r.status, 'completed');
    assert.ok(r.summary.requests > 10, `requests ${r.summary.requests}`);
    assert.equal(r.summary.errors, 0, JSON.stringify(r.summary.errorsByKind));
    assert.deepEqual(r.summary.grpc, { calls: r.summary.requests, byStatus: { OK: r.summary.requests } });
    assert.ok(r.summary.byName['redline.test.Echo/Say'], Object.keys(r.summary.byName).join());
    assert.equal(plain.calls - before, r.summary.requests, 'every counted call reached the server');
    assert.ok(r.summary.latency!.p50 > 0);
  });

  it('counts a non-OK status as grpc_<name> with its latency, usable in thresholds', async () => {
    const r = await quick({
      message: '{"text":"x","fail_code":5}',
      thresholds: { 'http.errors{grpc_status:NOT_FOUND}': ['rate<0.5'], 'http.errors{kind:grpc_unavailable}': ['count==0'] },
    });
    assert.ok(r.summary.requests > 0);
    assert.equal(r.summary.errorsByKind.grpc_not_found, r.summary.requests, JSON.stringify(r.summary.errorsByKind));
    assert.equal(r.summary.grpc!.byStatus.NOT_FOUND, r.summary.requests);
    assert.ok(r.summary.latency, 'a call with a status has a latency');
    const [notFound, unavailable] = r.thresholds;
    assert.equal(notFound!.ok, false);
    assert.equal(notFound!.actual, 1);
    assert.equal(unavailable!.ok, true);
  });

  it('speaks TLS with --ca, and a server certificate from another CA fails as tls', async () => {
    const ok = await quick({ target: `https://${secure.address}` }, { tls: { ca: certs.caFile } });
    assert.ok(ok.summary.requests > 0);
    assert.equal(ok.summary.errors, 0, JSON.stringify(ok.summary.errorsByKind));
    const wrong = await quick({ target: `https://${secure.address}`, vus: 1 }, { tls: { ca: certs.otherCaFile } });
    assert.ok(wrong.summary.requests > 0);
    assert.equal(wrong.summary.errorsByKind.tls, wrong.summary.requests, JSON.stringify(wrong.summary.errorsByKind));
    assert.equal(wrong.summary.grpc, undefined, 'no call got a status');
  });

  it('rejects a malformed .proto with its line', async () => {
    const bad = join(tmp, 'bad.proto');
    writeFileSync(bad, 'syntax = "proto3";\nservice Broken {\n  rpc Oops (Nope returns (Nope);\n}\n');
    await rejects(quick({ proto: bad }), ErrorCodes.BAD_PROTO, /malformed \.proto file .*bad\.proto: .*line 3/);
    await rejects(quick({ proto: join(tmp, 'missing.proto') }), ErrorCodes.BAD_PROTO, /cannot read \.proto file .*missing\.proto/);
  });

  it('rejects an unknown service or method, naming what the file defines', async () => {
    await rejects(quick({ method: 'redline.test.Nope/Say' }), ErrorCodes.UNKNOWN_RPC, /unknown gRPC service "redline\.test\.Nope" in .*echo\.proto: it defines redline\.test\.Echo/);
    await rejects(quick({ method: 'redline.test.Echo/Shout' }), ErrorCodes.UNKNOWN_RPC, /unknown method "Shout" of gRPC service redline\.test\.Echo in .*: it has Say, Count/);
    await rejects(quick({ method: 'Say' }), ErrorCodes.UNKNOWN_RPC, /invalid gRPC method "Say": expected package\.Service\/Method/);
  });

  it('rejects a message that does not fit, malformed JSON and a streaming method', async () => {
    await rejects(quick({ message: '{"txt":"hi"}' }), ErrorCodes.BAD_PROTO, /SayRequest has no field "txt" \(fields: text, delay_ms, fail_code\)/);
    await rejects(quick({ message: '{"text":' }), ErrorCodes.USAGE, /invalid --message for redline\.test\.Echo\/Say: not JSON/);
    await rejects(quick({ method: 'redline.test.Echo/Count' }), ErrorCodes.USAGE, /server-streaming RPC: the --grpc fast path makes unary calls/);
    await rejects(quick({ target: 'localhost' }), ErrorCodes.BAD_URL, /invalid gRPC target "localhost"/);
  });
});

describe('ctx.grpc in scripts', () => {
  it('makes unary calls with metadata and server-streaming calls', async () => {
    const seen: Array<GrpcResponse<{ text?: string; user?: string; i?: number }>> = [];
    const r = await script({
      exec: async (ctx: IterationContext) => {
        const client = ctx.grpc.client({ target: plain.address, proto: ECHO_PROTO });
        seen.push(await client.invoke('redline.test.Echo/Say', { text: 'hello' }, { metadata: { 'x-user': 'grace' } }));
        seen.push(await client.serverStream('redline.test.Echo/Count', { n: 5 }));
        seen.push(await client.invoke('/redline.test.Echo/Say', { text: 'no', fail_code: 7 }));
      },
    });
    assert.equal(r.summary.iterationErrors, 0);
    const [unary, stream, denied] = seen;
    assert.equal(unary!.ok, true);
    assert.deepEqual(unary!.message, { text: 'hello', user: 'grace' });
    assert.equal(stream!.status, 'OK');
    assert.deepEqual(stream!.messages.map((m) => m.i), [0, 1, 2, 3, 4]);
    assert.equal(denied!.code, 7);
    assert.equal(denied!.status, 'PERMISSION_DENIED');
    assert.equal(denied!.details, 'failed as asked (7)');
    assert.equal(r.summary.requests, 3);
    assert.deepEqual(r.summary.grpc, { calls: 3, byStatus: { OK: 2, PERMISSION_DENIED: 1 } });
    assert.equal(r.summary.errorsByKind.grpc_permission_denied, 1);
    assert.equal(r.summary.byName['redline.test.Echo/Count']!.requests, 1);
  });

  it('ends a call at its deadline as DEADLINE_EXCEEDED', async () => {
    let res: GrpcResponse | null = null;
    const r = await script({
      exec: async (ctx: IterationContext) => {
        const client = ctx.grpc.client({ target: plain.address, proto: ECHO_PROTO });
        res = await client.invoke('redline.test.Echo/Say', { text: 'slow', delay_ms: 1500 }, { deadline: '100ms' });
      },
    });
    const got = res as GrpcResponse | null;
    assert.equal(got?.status, 'DEADLINE_EXCEEDED');
    assert.ok(got.durationMs >= 90 && got.durationMs < 1400, `ended after ${got.durationMs} ms`);
    assert.equal(r.summary.errorsByKind.grpc_deadline_exceeded, 1, JSON.stringify(r.summary.errorsByKind));
  });

  it('uses the run TLS material, and counts the wrong CA as tls', async () => {
    const call = (ca: string): Promise<{ r: RunResult; res: GrpcResponse | null }> => {
      let res: GrpcResponse | null = null;
      return script({
        tls: { ca },
        exec: async (ctx: IterationContext) => {
          res = await ctx.grpc.client({ target: `https://${secure.address}`, proto: ECHO_PROTO }).invoke('redline.test.Echo/Say', { text: 'tls' });
        },
      }).then((r) => ({ r, res }));
    };
    const ok = await call(certs.caFile);
    assert.equal(ok.res?.ok, true, JSON.stringify(ok.res));
    const wrong = await call(certs.otherCaFile);
    assert.equal(wrong.res?.error, 'tls', JSON.stringify(wrong.res));
    assert.equal(wrong.r.summary.errorsByKind.tls, 1, JSON.stringify(wrong.r.summary.errorsByKind));
  });

  it('presents the run client certificate to a server that requires one (mTLS)', async () => {
    const mtls = await startEchoServer({ cert: certs.serverCert, key: certs.serverKey, clientCa: certs.ca });
    try {
      const call = (tls: ScenarioDefinition['tls']): Promise<GrpcResponse | null> => {
        let res: GrpcResponse | null = null;
        return script({
          tls,
          exec: async (ctx: IterationContext) => {
            res = await ctx.grpc.client({ target: `https://${mtls.address}`, proto: ECHO_PROTO }).invoke('redline.test.Echo/Say', { text: 'mtls' });
          },
        }).then(() => res);
      };
      const withCert = await call({ ca: certs.caFile, cert: certs.clientCertFile, key: certs.clientKeyFile });
      assert.equal(withCert?.ok, true, JSON.stringify(withCert));
      const without = await call({ ca: certs.caFile });
      assert.equal(without?.ok, false, JSON.stringify(without));
    } finally {
      await mtls.close();
    }
  });

  it('rejects an unknown method and the wrong call shape with their codes', async () => {
    const messages: string[] = [];
    const codes: string[] = [];
    await script({
      vus: 1,
      iterations: 1,
      exec: async (ctx: IterationContext) => {
        const client = ctx.grpc.client({ target: plain.address, proto: ECHO_PROTO });
        for (const f of [() => client.invoke('redline.test.Echo/Nope', {}), () => client.invoke('redline.test.Echo/Count', { n: 1 })]) {
          try {
            await f();
          } catch (err) {
            codes.push((err as { code: string }).code);
            messages.push((err as Error).message);
          }
        }
      },
    });
    assert.deepEqual(codes, [ErrorCodes.UNKNOWN_RPC, ErrorCodes.INVALID_ARGUMENT]);
    assert.match(messages[0]!, /unknown method "Nope" of gRPC service redline\.test\.Echo/);
    assert.match(messages[1]!, /redline\.test\.Echo\/Count is server-streaming: call it with serverStream\(\)/);
  });
});

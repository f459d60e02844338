import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import type { RunResult } from '@redline/core';
import { resolvePlan, runLoad, type IterationContext, type ScenarioDefinition } from '@redline/load';
import { makeTestCerts, type TestCerts } from './fixtures/certs.ts';

let certs: TestCerts;
/** An HTTPS server with the test CA's certificate; `/close` answers with Connection: close. */
let plain: { url: string; server: Server; handshakes: number; resumed: number };
/** The same, but it requires a client certificate signed by the test CA (mTLS). */
let mutual: { url: string; server: Server; clientNames: string[] };

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`https://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

before(async () => {
  certs = makeTestCerts();
  const p = { url: '', server: createServer({ cert: certs.serverCert, key: certs.serverKey }), handshakes: 0, resumed: 0 };
  p.server.on('secureConnection', (s: TLSSocket) => {
    p.handshakes++;
    if (s.isSessionReused()) p.resumed++;
  });
  p.server.on('request', (req, res) => {
    if (req.url === '/close') res.setHeader('connection', 'close');
    res.end('ok');
  });
  p.url = await listen(p.server);
  plain = p;
  const m = { url: '', server: createServer({ cert: certs.serverCert, key: certs.serverKey, ca: certs.ca, requestCert: true, rejectUnauthorized: true }), clientNames: [] as string[] };
  m.server.on('request', (req, res) => {
    m.clientNames.push(String((req.socket as TLSSocket).getPeerCertificate().subject?.CN));
    res.end('ok');
  });
  m.url = await listen(m.server);
  mutual = m;
});
after(() => {
  plain.server.closeAllConnections();
  plain.server.close();
  mutual.server.closeAllConnections();
  mutual.server.close();
  certs.cleanup();
});

function run(def: ScenarioDefinition, workers = 1): Promise<RunResult> {
  return runLoad(resolvePlan({ timeout: '3s', executor: 'per-vu-iterations', vus: 1, iterations: 6, ...def }, 'tls.test.ts'), { workers });
}

describe('TLS options', () => {
  it('trusts a CA given with tls.ca and resumes TLS sessions on new connections', async () => {
    const before = { handshakes: plain.handshakes, resumed: plain.resumed };
    const r = await run({ requests: [{ url: `${plain.url}/close` }], tls: { ca: certs.caFile } });
    assert.equal(r.summary.errors, 0, JSON.stringify(r.summary.errorsByKind));
    assert.equal(r.summary.requests, 6);
    assert.equal(plain.handshakes - before.handshakes, 6, 'Connection: close makes every request a new connection');
    // The first connection does a full handshake; the later ones resume its session.
    assert.ok(plain.resumed - before.resumed >= 4, `resumed ${plain.resumed - before.resumed} of 6`);
  });

  it('counts a certificate from another CA as a tls error', async () => {
    const r = await run({ requests: [{ url: `${plain.url}/` }], tls: { ca: certs.otherCaFile } });
    assert.equal(r.summary.requests, 6);
    assert.equal(r.summary.errorsByKind.tls, 6, JSON.stringify(r.summary.errorsByKind));
  });

  it('without a CA the self-signed chain fails as tls, and insecure accepts it', async () => {
    const strict = await run({ requests: [{ url: `${plain.url}/` }] });
    assert.equal(strict.summary.errorsByKind.tls, 6, JSON.stringify(strict.summary.errorsByKind));
    const loose = await run({ requests: [{ url: `${plain.url}/` }], insecure: true });
    assert.equal(loose.summary.errors, 0, JSON.stringify(loose.summary.errorsByKind));
  });

  it('presents a client certificate for mTLS, and fails as tls without one', async () => {
    const ok = await run({ requests: [{ url: `${mutual.url}/` }], tls: { ca: certs.caFile, cert: certs.clientCertFile, key: certs.clientKeyFile } });
    assert.equal(ok.summary.errors, 0, JSON.stringify(ok.summary.errorsByKind));
    assert.ok(mutual.clientNames.includes('redline-client'));
    const refused = await run({ requests: [{ url: `${mutual.url}/` }], tls: { ca: certs.caFile } });
    assert.equal(refused.summary.errors, 6, JSON.stringify(refused.summary.errorsByKind));
    assert.equal(refused.summary.errorsByKind.tls, 6, JSON.stringify(refused.summary.errorsByKind));
  });

  it('scripted requests use the same TLS material', async () => {
    let status = 0;
    const r = await run(
      {
        tls: { ca: certs.caFile, cert: certs.clientCertFile, key: certs.clientKeyFile },
        exec: async (ctx: IterationContext) => {
          status = (await ctx.http.get(`${mutual.url}/`)).status;
        },
      },
      0,
    );
    assert.equal(r.summary.errors, 0, JSON.stringify(r.summary.errorsByKind));
    assert.equal(status, 200);
  });
});

describe('TLS bad input', () => {
  it('rejects a client certificate without its key', async () => {
    await assert.rejects(run({ requests: [{ url: `${plain.url}/` }], tls: { cert: certs.clientCertFile } }), {
      code: 'REDLINE_ERR_INVALID_ARGUMENT',
      message: 'tls: a client certificate needs both cert and key (got only cert)',
    });
  });

  it('rejects an unreadable CA file and a file without a PEM certificate', async () => {
    const missing = join(certs.dir, 'missing.pem');
    await assert.rejects(run({ requests: [{ url: `${plain.url}/` }], tls: { ca: missing } }), { code: 'REDLINE_ERR_BAD_DATA_FILE', message: `tls ca: cannot read ${missing}` });
    const junk = join(certs.dir, 'junk.pem');
    writeFileSync(junk, 'not a certificate\n');
    await assert.rejects(run({ requests: [{ url: `${plain.url}/` }], tls: { ca: junk } }), { code: 'REDLINE_ERR_BAD_DATA_FILE', message: `tls ca: ${junk} holds no PEM certificate` });
  });

  it('rejects an unknown protocol', () => {
    assert.throws(() => resolvePlan({ requests: [{ url: `${plain.url}/` }], vus: 1, duration: '1s', protocol: 'h3' as 'h2' }, 'tls.test.ts'), {
      code: 'REDLINE_ERR_INVALID_SCENARIO',
      message: 'tls.test.ts: protocol: expected "h1", "h2", "grpc" or "ws"',
    });
  });
});

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ErrorCodes } from '@redline/core';
import { harToScenario, planFromFile, runLoad } from '@redline/load';
import { main } from '../src/main.js';
import { fakeIo } from './helpers/fake-io.js';

// Generated scenarios import '@redline/cli', so they are written inside the repository where it resolves.
const HERE = fileURLToPath(new URL('.', import.meta.url));
let dir: string;
let url: string;
let server: http.Server;
const seen: Array<{ method: string; path: string; headers: http.IncomingHttpHeaders; body: string }> = [];

before(async () => {
  dir = await mkdtemp(join(HERE, '.har-'));
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method!, path: req.url!, headers: req.headers, body });
      const headers: Record<string, string> = { 'content-type': 'text/plain' };
      if (req.url === '/login') headers['set-cookie'] = 'sid=from-server; Path=/';
      res.writeHead(200, headers);
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  await rm(dir, { recursive: true, force: true });
});

async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = fakeIo(argv, dir);
  const code = await main(io);
  return { code, stdout: io.stdoutText(), stderr: io.stderrText() };
}

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
const at = (ms: number): string => new Date(T0 + ms).toISOString();
const h = (name: string, value: string) => ({ name, value });

function recording(base: string) {
  return {
    log: {
      version: '1.2',
      pages: [
        { id: 'page_1', title: 'Shop home' },
        { id: 'page_2', title: 'Cart' },
      ],
      entries: [
        { pageref: 'page_1', startedDateTime: at(0), request: { method: 'GET', url: `${base}/`, headers: [h(':authority', 'shop'), h('Accept', 'text/html'), h('Cookie', 'old=recorded')] }, response: { content: { mimeType: 'text/html' } } },
        { pageref: 'page_1', startedDateTime: at(20), request: { method: 'GET', url: `${base}/site.css`, headers: [] }, response: { content: { mimeType: 'text/css' } } },
        { pageref: 'page_1', startedDateTime: at(25), request: { method: 'GET', url: `${base}/logo.png`, headers: [] }, response: { content: { mimeType: 'image/png' } } },
        { pageref: 'page_1', startedDateTime: at(26), request: { method: 'GET', url: 'data:image/png;base64,AAAA', headers: [] } },
        {
          pageref: 'page_1',
          startedDateTime: at(100),
          request: {
            method: 'POST',
            url: `${base}/login`,
            headers: [h('Content-Type', 'application/json'), h('Content-Length', '17'), h('X-App', 'web'), h('Accept-Encoding', 'gzip, deflate, br, zstd'), h(':method', 'POST')],
            postData: { mimeType: 'application/json', text: '{"user":"alice"}' },
          },
        },
        // Out of order in the file: conversion sorts by start time.
        { pageref: 'page_2', startedDateTime: at(400), request: { method: 'GET', url: `${base}/cart`, headers: [h('Cookie', 'sid=recorded')] } },
      ],
    },
  };
}

describe('redline convert har', () => {
  it('writes a scenario that replays the recording in order, grouped by page, with think time, static assets skipped and cookies left to the jar', async () => {
    const har = join(dir, 'shop.har');
    const rec = recording(url);
    const cart = rec.log.entries.pop()!;
    rec.log.entries.splice(1, 0, cart);
    await writeFile(har, JSON.stringify(rec));
    const r = await cli(['convert', 'har', 'shop.har', '--out', 'shop.ts', '--skip-static', '--think-time']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'scenario: shop.ts (3 requests; skipped 2 static, 1 non-http)\n');
    const code = await readFile(join(dir, 'shop.ts'), 'utf8');
    assert.doesNotMatch(code, /:authority|:method|[Cc]ookie"|content-length|zstd|site\.css|logo\.png|data:/);
    assert.match(code, /"accept-encoding":"gzip, deflate, br"/);
    assert.match(code, /await ctx\.sleep\(100\);/);
    assert.match(code, /await ctx\.sleep\(300\);/);

    seen.length = 0;
    const result = await runLoad(await planFromFile(join(dir, 'shop.ts')), { workers: 1 });
    assert.deepEqual(
      seen.map((s) => `${s.method} ${s.path}`),
      ['GET /', 'POST /login', 'GET /cart'],
    );
    assert.equal(seen[0]!.headers.cookie, undefined);
    assert.equal(seen[0]!.headers.accept, 'text/html');
    assert.equal(seen[1]!.body, '{"user":"alice"}');
    assert.equal(seen[1]!.headers['x-app'], 'web');
    assert.equal(seen[1]!.headers['content-type'], 'application/json');
    // The jar sends what the server set, not what was recorded.
    assert.equal(seen[2]!.headers.cookie, 'sid=from-server');
    assert.equal(result.name, 'shop-home');
    assert.deepEqual(Object.keys(result.summary.byGroup ?? {}), ['::Cart', '::Shop home']);
    assert.equal(result.summary.byGroup!['::Shop home']!.requests, 2);
  });

  it('prints the scenario to stdout without --out, keeping static assets and no sleeps by default', async () => {
    await writeFile(join(dir, 'all.har'), JSON.stringify(recording('http://shop.example.test')));
    const r = await cli(['convert', 'har', 'all.har']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\/\/ Converted by `redline convert har` from all\.har: 5 requests in recorded order\./);
    assert.match(r.stdout, /site\.css/);
    assert.doesNotMatch(r.stdout, /ctx\.sleep/);
  });

  it('refuses bad HAR files with REDLINE_ERR_BAD_DATA_FILE (exit 2), naming the file and the JSON path', async () => {
    const cases: Array<[string, string, RegExp | string]> = [
      ['notjson.har', '{"log": ', /^redline: notjson\.har: not a HAR file: .*JSON.*\n$/],
      ['nolog.har', '{"entries": []}', 'redline: nolog.har: log: expected an object (a HAR file has {"log": {"entries": [...]}})\n'],
      ['noentries.har', '{"log": {}}', 'redline: noentries.har: log.entries: expected an array of requests\n'],
      ['empty.har', '{"log": {"entries": []}}', 'redline: empty.har: log.entries: the recording holds no requests\n'],
      [
        'relative.har',
        JSON.stringify({ log: { entries: [{ startedDateTime: at(0), request: { method: 'GET', url: 'http://a.test/' } }, { startedDateTime: at(1), request: { method: 'GET', url: '/x' } }] } }),
        'redline: relative.har: log.entries[1].request.url: not an absolute URL: "/x"\n',
      ],
      ['nodate.har', JSON.stringify({ log: { entries: [{ request: { method: 'GET', url: 'http://a.test/' } }] } }), 'redline: nodate.har: log.entries[0].startedDateTime: expected an ISO date, got undefined\n'],
      ['onlydata.har', JSON.stringify({ log: { entries: [{ startedDateTime: at(0), request: { method: 'GET', url: 'data:,x' } }] } }), 'redline: onlydata.har: log.entries: no http(s) request is left to replay (0 static, 1 other skipped)\n'],
    ];
    for (const [name, text, expected] of cases) {
      await writeFile(join(dir, name), text);
      const r = await cli(['convert', 'har', name, '--out', `${name}.ts`]);
      assert.equal(r.code, 2, `${name}: ${r.stderr}`);
      if (typeof expected === 'string') assert.equal(r.stderr, expected);
      else assert.match(r.stderr, expected);
    }
    assert.throws(() => harToScenario('{"log": {"entries": [{"startedDateTime": "x", "request": {"method": "G T", "url": "http://a.test/"}}]}}', { source: 'api.har' }), {
      code: ErrorCodes.BAD_DATA_FILE,
      message: 'api.har: log.entries[0].request.method: expected an HTTP method, got "G T"',
    });
  });

  it('a missing HAR file and a wrong format are errors with exit 2', async () => {
    const missing = await cli(['convert', 'har', 'nope.har']);
    assert.equal(missing.code, 2);
    assert.equal(missing.stderr, 'redline: cannot read HAR file nope.har: ENOENT\n');
    const format = await cli(['convert', 'curl', 'x.txt']);
    assert.equal(format.code, 2);
    assert.equal(format.stderr, 'redline convert: expected a format and a file, such as "redline convert har recording.har" (unknown format "curl")\n');
  });
});

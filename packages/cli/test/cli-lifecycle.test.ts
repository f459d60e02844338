import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { main } from '../src/main.js';
import { fakeIo } from './helpers/fake-io.js';
import { startServer } from './helpers/server.js';

let srv: Awaited<ReturnType<typeof startServer>>;
let dir: string;
before(async () => {
  srv = await startServer();
  dir = await mkdtemp(join(tmpdir(), 'redline-lifecycle-'));
});
after(async () => {
  await srv.close();
  await rm(dir, { recursive: true, force: true });
});

async function run(file: string, body: string): Promise<{ code: number; stderr: string }> {
  await writeFile(join(dir, file), body);
  const io = fakeIo(['run', file, '--out', join(dir, `${file}.run`)], dir);
  const code = await main(io);
  return { code, stderr: io.stderrText() };
}

describe('redline run with setup() and custom-metric thresholds', () => {
  it('a setup that throws exits 1 with one line, and sends no load', async () => {
    const before = srv.requests();
    const r = await run(
      'setup-throws.mjs',
      `export default { baseUrl: ${JSON.stringify(srv.url)}, executor: 'per-vu-iterations', vus: 1, iterations: 1,
        setup() { throw new Error('no token from /login'); },
        exec: async (ctx) => { await ctx.http.get('/'); } };\n`,
    );
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr, 'redline: setup() failed: no token from /login; no load was sent\n');
    assert.equal(srv.requests(), before);
  });

  it('a threshold on a metric the scenario never declared exits 2 before any load', async () => {
    const before = srv.requests();
    const r = await run(
      'unknown-metric.mjs',
      `export default { baseUrl: ${JSON.stringify(srv.url)}, executor: 'per-vu-iterations', vus: 1, iterations: 1,
        thresholds: { login_time: ['p(95)<200'] },
        exec: async (ctx) => { await ctx.http.get('/'); } };\n`,
    );
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^redline: unknown threshold metric "login_time": expected one of http\.latency, .*group_duration \(a custom metric must be created with new Counter\/Gauge\/Rate\/Trend\("login_time"\) when the scenario file loads\)\n$/);
    assert.equal(srv.requests(), before);
  });
});

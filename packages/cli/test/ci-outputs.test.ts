// --junit and the GitHub Actions step summary, from real runs.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../src/main.js';
import { xmlEscape } from '../src/ci/junit.js';
import { fakeIo } from './helpers/fake-io.js';
import { startServer } from './helpers/server.js';

let server: Awaited<ReturnType<typeof startServer>>;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server.close();
});

const SCENARIO = (url: string): string => `export default {
  name: 'ci <gate> & "checks"',
  baseUrl: ${JSON.stringify(url)},
  executor: 'constant-arrival-rate',
  rate: 20,
  duration: '2s',
  thresholds: { 'http.latency': ['p(99)<60000', 'p(50)<0.0001'], checks: ['rate>0.99'] },
  exec: async ({ http, check }) => {
    const res = await http.get('/');
    check(res, { 'status is 200': (r) => r.status === 200, 'status is 201': (r) => r.status === 201 });
  },
};
`;

test('--junit writes thresholds and checks as testcases, failures with the actual values; the step summary is markdown', async () => {
  const cwd = await mkdtemp(join(tmpdir(), 'redline-ci-'));
  await writeFile(join(cwd, 'gate.mjs'), SCENARIO(server.url));
  const summary = join(cwd, 'step-summary.md');
  await writeFile(summary, '# earlier step\n');
  const io = fakeIo(['run', 'gate.mjs', '--no-report', '--out', join(cwd, 'run'), '--junit', 'junit.xml'], cwd, { GITHUB_STEP_SUMMARY: summary });
  assert.equal(await main(io), 99, io.stderrText());
  const xml = await readFile(join(cwd, 'junit.xml'), 'utf8');
  assert.match(xml, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<testsuites name="redline ci &lt;gate&gt; &amp; &quot;checks&quot;" tests="6" failures="3" /);
  assert.match(xml, /<testcase classname="redline\.ci &lt;gate&gt; &amp; &quot;checks&quot;\.thresholds" name="http\.latency: p\(99\)&lt;60000" time="0"\/>/);
  assert.match(xml, /name="http\.latency: p\(50\)&lt;0\.0001" time="0">\n {6}<failure message="actual \d+(\.\d+)? (ms|s)" type="threshold">http\.latency p\(50\)&lt;0\.0001 failed: actual /);
  assert.match(xml, /name="checks: rate&gt;0\.99" time="0">\n {6}<failure message="actual 50\.00 %"/);
  assert.match(xml, /name="status is 200" time="0"\/>/);
  assert.match(xml, /name="status is 201" time="0">\n {6}<failure message="(\d+) of \1 failed" type="check">check &quot;status is 201&quot;: (\d+) of \2 failed \(100\.00 %\), 0 passed<\/failure>/);
  assert.match(xml, /name="run completed with responses" time="0"\/>/);
  const md = await readFile(summary, 'utf8');
  assert.ok(md.startsWith('# earlier step\n### Redline · ci <gate> & "checks" · ❌ thresholds failed\n'), md);
  assert.match(md, /\| `http\.latency` p\(50\)<0\.0001 \| ❌ \| \d/);
  assert.match(md, /\| `http\.latency` p\(99\)<60000 \| ✅ \|/);
  assert.match(md, /\| status is 201 \| 0 \| \d+ \|/);
});

test('a run that got no response fails its JUnit run testcase (REDLINE_ERR_NO_RESPONSES, exit 1)', async () => {
  const dead = await startServer();
  const url = dead.url;
  await dead.close();
  const cwd = await mkdtemp(join(tmpdir(), 'redline-ci-'));
  const io = fakeIo(['run', '--url', url, '--rate', '10', '--duration', '1s', '--no-report', '--out', join(cwd, 'run'), '--junit', join(cwd, 'j.xml')], cwd);
  assert.equal(await main(io), 1, io.stderrText());
  const xml = await readFile(join(cwd, 'j.xml'), 'utf8');
  assert.match(xml, /name="run completed with responses" time="0">\n {6}<failure message="[^"]+" type="REDLINE_ERR_NO_RESPONSES">/);
});

test('XML escaping: markup characters and characters XML cannot hold', () => {
  assert.equal(xmlEscape(`a<b>&"c'\u0001d`), 'a&lt;b&gt;&amp;&quot;c&apos;d');
});

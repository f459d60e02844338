import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  classifyArea,
  createProfileModel,
  diffFlameTrees,
  loadCpuProfile,
  toCollapsed,
  toSpeedscope,
  writeProfileExports,
  type CpuProfile,
  type FlameNode,
} from '../src/index.ts';
import { FIXTURES, recordProfile } from './helpers/record.ts';

let hot: { profile: CpuProfile; startEpochMs: number };
let ts: { profile: CpuProfile; startEpochMs: number };

before(async () => {
  [hot, ts] = await Promise.all([recordProfile(`${FIXTURES}hot.mjs`), recordProfile(`${FIXTURES}ts-app/build/checksum.js`)]);
});

function find(node: FlameNode, name: string): FlameNode | undefined {
  if (node.name === name) return node;
  for (const c of node.children) {
    const f = find(c, name);
    if (f !== undefined) return f;
  }
  return undefined;
}

test('the hot function of a real profile tops hotFrames with most of the self time', () => {
  const model = createProfileModel(hot.profile, { startEpochMs: hot.startEpochMs });
  const frames = model.hotFrames(undefined, 5);
  const top = frames[0];
  assert.ok(top !== undefined);
  assert.equal(top.functionName, 'burnCpuHot');
  assert.equal(top.area, 'app');
  assert.match(top.file, /fixtures\/hot\.mjs$/);
  assert.equal(top.line, 2);
  // 300 ms of busy loop against ~150 ms of idle wait: well over a third of all samples.
  assert.ok(top.selfShare > 0.35, `selfShare ${top.selfShare}`);
  assert.ok(top.totalShare >= top.selfShare);
  assert.ok(!frames.some((f) => f.functionName === '(idle)' || f.functionName === '(program)' || f.functionName === '(root)'));
});

test('windows on the epoch clock select samples: the idle start has no hot function', () => {
  const model = createProfileModel(hot.profile, { startEpochMs: hot.startEpochMs });
  const all = model.sampleCount();
  assert.equal(all, hot.profile.samples.length);
  const early = { startEpochMs: hot.startEpochMs, endEpochMs: hot.startEpochMs + 100 };
  const late = { startEpochMs: hot.startEpochMs + 200, endEpochMs: hot.startEpochMs + model.durationMs + 1 };
  assert.ok(model.sampleCount(early) > 0);
  assert.ok(model.sampleCount(early) + model.sampleCount(late) <= all);
  assert.ok(!model.hotFrames(early).some((f) => f.functionName === 'burnCpuHot'));
  assert.equal(model.hotFrames(late)[0]?.functionName, 'burnCpuHot');
  assert.ok((model.hotFrames(late)[0]?.selfShare ?? 0) > (model.hotFrames()[0]?.selfShare ?? 1));
  assert.deepEqual(model.hotFrames({ startEpochMs: 0, endEpochMs: 1 }), []);
});

test('frames of a compiled TypeScript script resolve through its source map to the .ts file and line', () => {
  const model = createProfileModel(ts.profile, { startEpochMs: ts.startEpochMs, appRoot: join(FIXTURES, 'ts-app') });
  const top = model.hotFrames(undefined, 3)[0];
  assert.ok(top !== undefined);
  assert.equal(top.functionName, 'computeChecksum');
  assert.equal(top.file, 'src/checksum.ts');
  assert.equal(top.line, 8);
  const frame = model.frames.find((f) => f.functionName === 'computeChecksum');
  assert.equal(frame?.mapped, true);
  assert.match(frame?.generated.url ?? '', /build\/checksum\.js$/);

  const unmapped = createProfileModel(ts.profile, { sourceMaps: false });
  const raw = unmapped.hotFrames(undefined, 1)[0];
  assert.match(raw?.file ?? '', /build\/checksum\.js$/);
  assert.equal(raw?.line, 1);
});

test('an inline (data: URL) source map resolves too', async () => {
  const inline = await recordProfile(`${FIXTURES}ts-app/build-inline/checksum.js`);
  const model = createProfileModel(inline.profile, { appRoot: join(FIXTURES, 'ts-app') });
  const frame = model.frames.find((f) => f.functionName === 'computeChecksum');
  assert.equal(frame?.mapped, true);
  assert.equal(frame?.file, 'src/checksum.ts');
  assert.equal(frame?.line, 8);
});

test('code areas: app, dependency, node internals and V8', () => {
  assert.equal(classifyArea('file:///srv/app/dist/server.js'), 'app');
  assert.equal(classifyArea('file:///srv/app/node_modules/fastify/lib/route.js'), 'dependency');
  assert.equal(classifyArea('file:///srv/app/dist/x.js', '/srv/app/node_modules/lib/x.ts'), 'dependency');
  assert.equal(classifyArea('node:internal/timers'), 'node');
  assert.equal(classifyArea('node:fs'), 'node');
  assert.equal(classifyArea(''), 'v8');
  // An app installed as a package (redline demo from an install): below its root it is the app, its own dependencies are not.
  const root = '/home/u/proj/node_modules/@redline/demo';
  assert.equal(classifyArea(`file://${root}/dist/server.js`, `${root}/src/server.ts`, root), 'app');
  assert.equal(classifyArea(`file://${root}/node_modules/dep/index.js`, undefined, root), 'dependency');
  assert.equal(classifyArea('file:///home/u/proj/node_modules/other/index.js', undefined, root), 'dependency');
  const model = createProfileModel(hot.profile);
  const idle = model.frames.find((f) => f.functionName === '(idle)');
  assert.equal(idle?.area, 'v8');
  assert.equal(idle?.kind, 'idle');
  assert.ok(model.frames.some((f) => f.area === 'node'), 'the ESM loader runs node: internals');
});

test('flameTree merges by call path and its totals add up to the sample count', () => {
  const model = createProfileModel(hot.profile);
  const tree = model.flameTree();
  assert.equal(tree.name, '(root)');
  assert.equal(tree.kind, 'root');
  assert.equal(tree.totalSamples, model.sampleCount());
  const check = (n: FlameNode): void => {
    const sum = n.selfSamples + n.children.reduce((s, c) => s + c.totalSamples, 0);
    assert.equal(n.totalSamples, sum, `totals of ${n.name}`);
    const keys = n.children.map((c) => `${c.name}|${c.file}|${c.line}|${c.column}`);
    assert.equal(new Set(keys).size, keys.length, `duplicate children under ${n.name}`);
    n.children.forEach(check);
  };
  check(tree);
  const burn = find(tree, 'burnCpuHot');
  assert.ok(burn !== undefined && burn.selfSamples > tree.totalSamples * 0.35);
  assert.ok(find(tree, 'run') !== undefined);
  const window = { startEpochMs: 0, endEpochMs: 100 };
  assert.equal(model.flameTree(window).totalSamples, model.sampleCount(window));
});

test('diffFlameTrees normalises by sample count and shows what grew', () => {
  const a = createProfileModel(hot.profile).flameTree();
  const b = createProfileModel(ts.profile).flameTree();
  const same = diffFlameTrees(a, a);
  assert.equal(same.baseShare, 1);
  assert.equal(same.candidateShare, 1);
  const maxAbs = (n: { delta: number; children: { delta: number; children: unknown[] }[] }): number =>
    Math.max(Math.abs(n.delta), ...n.children.map((c) => maxAbs(c as typeof n)));
  assert.ok(maxAbs(same) < 1e-12);

  const d = diffFlameTrees(a, b);
  const findD = (n: typeof d, name: string): typeof d | undefined =>
    n.name === name ? n : n.children.map((c) => findD(c, name)).find((x) => x !== undefined);
  const grown = findD(d, 'computeChecksum');
  assert.ok(grown !== undefined);
  assert.equal(grown.baseShare, 0);
  assert.ok(grown.candidateShare > 0.3 && Math.abs(grown.delta - grown.candidateShare) < 1e-12);
  const gone = findD(d, 'burnCpuHot');
  assert.ok(gone !== undefined && gone.candidateShare === 0 && gone.delta < -0.3);
});

test('speedscope export follows the file-format schema with sampled stacks outermost first', () => {
  const model = createProfileModel(hot.profile);
  const file = toSpeedscope(model);
  assert.equal(file.$schema, 'https://www.speedscope.app/file-format-schema.json');
  const p = file.profiles[0];
  assert.ok(p !== undefined);
  assert.equal(p.type, 'sampled');
  assert.equal(p.unit, 'microseconds');
  assert.equal(p.samples.length, p.weights.length);
  for (const s of p.samples) for (const i of s) assert.ok(i >= 0 && i < file.shared.frames.length);
  const totalWeight = p.weights.reduce((s, w) => s + w, 0);
  const span = p.endValue - p.startValue;
  assert.ok(p.startValue >= 0 && span > 0);
  assert.ok(Math.abs(totalWeight - span) / span < 0.05, `weights ${totalWeight} vs ${span}`);
  const burnIdx = file.shared.frames.findIndex((f) => f.name === 'burnCpuHot');
  const runIdx = file.shared.frames.findIndex((f) => f.name === 'run');
  const withBurn = p.samples.find((s) => s.includes(burnIdx));
  assert.ok(withBurn !== undefined);
  assert.ok(withBurn.indexOf(runIdx) < withBurn.indexOf(burnIdx), 'caller comes before callee');
  assert.equal(file.shared.frames[burnIdx]?.line, 2);
  // Accepts a raw profile as well as a model.
  assert.equal(toSpeedscope(hot.profile).shared.frames.length, file.shared.frames.length);
});

test('collapsed stacks: one line per stack, counts add up to the samples', () => {
  const model = createProfileModel(hot.profile);
  const text = toCollapsed(model);
  const lines = text.trimEnd().split('\n');
  let total = 0;
  for (const line of lines) {
    const m = /^(.+) (\d+)$/.exec(line);
    assert.ok(m !== null, line);
    total += Number(m[2]);
  }
  assert.equal(total, model.sampleCount());
  assert.ok(lines.some((l) => /;burnCpuHot \(.*hot\.mjs:2\) \d+$/.test(l)));
});

test('writeProfileExports writes three files that load back', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'redline-doctor-'));
  const model = createProfileModel(hot.profile);
  const files = await writeProfileExports(model, dir);
  assert.deepEqual(files, { cpuprofile: 'cpu.cpuprofile', speedscope: 'cpu.speedscope.json', collapsed: 'cpu.collapsed.txt' });
  const back = await loadCpuProfile(join(dir, 'cpu.cpuprofile'));
  assert.equal(back.samples.length, hot.profile.samples.length);
  const ss = JSON.parse(await readFile(join(dir, 'cpu.speedscope.json'), 'utf8')) as { profiles: unknown[] };
  assert.equal(ss.profiles.length, 1);
  assert.equal(await readFile(join(dir, 'cpu.collapsed.txt'), 'utf8'), toCollapsed(model));
  const named = await writeProfileExports(model, join(dir, 'sub'), 'worker-1');
  assert.equal(named.speedscope, 'worker-1.speedscope.json');
});

test('loadCpuProfile rejects missing, non-JSON and malformed files with REDLINE_ERR_BAD_DATA_FILE', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'redline-doctor-'));
  const missing = join(dir, 'nope.cpuprofile');
  await assert.rejects(loadCpuProfile(missing), { code: 'REDLINE_ERR_BAD_DATA_FILE', message: `CPU profile ${missing} could not be read: ENOENT` });
  const bad = join(dir, 'bad.cpuprofile');
  await writeFile(bad, '{not json');
  await assert.rejects(loadCpuProfile(bad), { code: 'REDLINE_ERR_BAD_DATA_FILE', message: `CPU profile ${bad} is not valid JSON` });
  const shape = join(dir, 'shape.cpuprofile');
  await writeFile(shape, JSON.stringify({ nodes: [], startTime: 0, endTime: 1, samples: [], timeDeltas: [] }));
  await assert.rejects(loadCpuProfile(shape), {
    code: 'REDLINE_ERR_BAD_DATA_FILE',
    message: `CPU profile ${shape} is not a V8 CPU profile: "nodes" must be a non-empty array`,
  });
  const dangling = join(dir, 'dangling.cpuprofile');
  await writeFile(
    dangling,
    JSON.stringify({
      nodes: [{ id: 1, callFrame: { functionName: '(root)', scriptId: '0', url: '', lineNumber: -1, columnNumber: -1 } }],
      startTime: 0,
      endTime: 1,
      samples: [2],
      timeDeltas: [1],
    }),
  );
  await assert.rejects(loadCpuProfile(dangling), {
    code: 'REDLINE_ERR_BAD_DATA_FILE',
    message: `CPU profile ${dangling} is not a V8 CPU profile: samples[0] refers to unknown node id 2`,
  });
});

test('bad model options are rejected with REDLINE_ERR_INVALID_ARGUMENT', () => {
  assert.throws(() => createProfileModel(hot.profile, { startEpochMs: Number.NaN }), {
    code: 'REDLINE_ERR_INVALID_ARGUMENT',
    message: 'startEpochMs must be a finite number of ms, got NaN',
  });
  assert.throws(() => createProfileModel(hot.profile, { appRoot: 'relative/dir' }), {
    code: 'REDLINE_ERR_INVALID_ARGUMENT',
    message: 'appRoot must be an absolute directory path, got relative/dir',
  });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { printSummary } from '../src/commands/run.js';
import { main } from '../src/main.js';
import { stripControl } from '../src/output/terminal-safe.js';
import { fakeIo } from './helpers/fake-io.js';
import { runDirFactory } from '../../report/test/helpers/run-dirs.ts';
import { syntheticRun } from '../../report/test/helpers/synthetic-run.ts';

// Every control character but the line feed that separates printed lines.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROLS = new RegExp('[\\u0000-\\u0009\\u000b-\\u001f\\u007f-\\u009f\\u202a-\\u202e]');
const EVIL = '\u001b]0;owned\u0007\u001b[2J\u001b[1A\r✓ all good\u009b31m\u202eevil';

test('stripControl replaces ESC, BEL, CR, C1 controls and bidi overrides and keeps the visible text', () => {
  assert.equal(stripControl(EVIL), '\uFFFD]0;owned\uFFFD\uFFFD[2J\uFFFD[1A ✓ all good\uFFFD31m\uFFFDevil');
  assert.equal(stripControl('GET /users/:id — ok'), 'GET /users/:id — ok');
});

test('the end-of-run summary prints no control character from a run\'s names, findings or warnings', async () => {
  const run = syntheticRun({ durationS: 5, withFindings: true, names: [EVIL, 'GET /ok'] });
  run.name = EVIL;
  run.config.scenarios[0]!.name = EVIL;
  run.warnings = [EVIL];
  run.summary.errorsByKind = { [EVIL]: 1 };
  for (const f of run.findings) f.title = EVIL;
  const io = fakeIo([], '/tmp');
  printSummary(io, run, '/tmp/run');
  const text = io.stdoutText();
  assert.ok(text.includes('evil'), text);
  assert.doesNotMatch(text, CONTROLS);
});

test('compare prints no control character from the runs\' names', async () => {
  const make = runDirFactory('redline-term-');
  const a = syntheticRun({ durationS: 20, seed: 1 });
  const b = syntheticRun({ durationS: 20, seed: 2 });
  a.name = EVIL;
  b.name = EVIL;
  const base = await make('a', a);
  const candidate = await make('b', b);
  const cwd = await mkdtemp(join(tmpdir(), 'redline-term-'));
  const io = fakeIo(['compare', base, candidate, '--out', join(cwd, 'c.html')], cwd);
  await main(io);
  const text = io.stdoutText();
  assert.ok(text.includes('evil'), text + io.stderrText());
  assert.doesNotMatch(text, CONTROLS);
});

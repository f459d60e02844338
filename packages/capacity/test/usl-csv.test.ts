import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exitCodeFor, isRedlineError } from '@redline/core';
import { fitCommandResult, readUslCsv, renderFitText } from '../src/index.ts';

const SDM91 = new URL('./fixtures/sdm91.csv', import.meta.url).pathname;
let dir = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'redline-usl-csv-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const ROWS = ['1,65', '18,996', '36,1652', '72,1853', '108,1829', '144,1775'];

function rejects(path: string, message: string): void {
  assert.throws(
    () => readUslCsv(path),
    (err: unknown) => {
      assert.ok(isRedlineError(err, 'REDLINE_ERR_BAD_DATA_FILE'), String(err));
      assert.equal(err.message, message);
      assert.equal(exitCodeFor(err), 2);
      return true;
    },
  );
}

describe('readUslCsv', () => {
  it('reads a concurrency,throughput file', () => {
    const points = readUslCsv(SDM91);
    assert.equal(points.length, 7);
    assert.deepEqual(points[0], { concurrency: 1, throughput: 65 });
    assert.deepEqual(points.at(-1), { concurrency: 216, throughput: 1702 });
  });

  it('accepts N,X headers in any case, extra columns, comments and CRLF', () => {
    const path = file('nx.csv', `# measured on box 3\r\nrun,X,N\r\n${ROWS.map((r, i) => `r${i},${r.split(',')[1]},${r.split(',')[0]}`).join('\r\n')}\r\n`);
    const points = readUslCsv(path);
    assert.equal(points.length, 6);
    assert.deepEqual(points[1], { concurrency: 18, throughput: 996 });
  });

  it('reads a headerless two-column file as N,X', () => {
    const points = readUslCsv(file('bare.csv', `${ROWS.join('\n')}\n`));
    assert.deepEqual(points[2], { concurrency: 36, throughput: 1652 });
  });

  it('rejects fewer than six points', () => {
    const path = file('five.csv', `concurrency,throughput\n${ROWS.slice(0, 5).join('\n')}\n`);
    rejects(path, `data file ${path} has 5 data rows; a USL fit needs at least 6`);
  });

  it('rejects a non-numeric value with its line', () => {
    const path = file('nan.csv', `concurrency,throughput\n${ROWS.slice(0, 3).join('\n')}\n72,lots\n${ROWS.slice(4).join('\n')}\n`);
    rejects(path, `${path} line 5: throughput "lots" is not a number`);
  });

  it('rejects a negative value with its line', () => {
    const path = file('neg.csv', `N,X\n-1,65\n${ROWS.slice(1).join('\n')}\n`);
    rejects(path, `${path} line 2: N -1 is negative`);
  });

  it('rejects zero concurrency', () => {
    const path = file('zero.csv', `N,X\n0,0\n${ROWS.join('\n')}\n`);
    rejects(path, `${path} line 2: N must be greater than 0`);
  });

  it('rejects a row with a missing value', () => {
    const path = file('short.csv', `N,X\n1\n${ROWS.join('\n')}\n`);
    rejects(path, `${path} line 2: missing X value`);
  });

  it('rejects a CSV without the expected columns and says what was expected', () => {
    const path = file('cols.csv', `time,latency\n${ROWS.join('\n')}\n`);
    rejects(path, `data file ${path} has no concurrency and throughput columns (header: time,latency): expected a header with columns concurrency,throughput (or N,X)`);
    const noX = file('nox.csv', `concurrency,latency\n${ROWS.join('\n')}\n`);
    rejects(noX, `data file ${noX} has no throughput column (header: concurrency,latency): expected a header with columns concurrency,throughput (or N,X)`);
  });

  it('rejects an empty file and a missing file', () => {
    const empty = file('empty.csv', '\n\n');
    rejects(empty, `data file ${empty} is empty: expected a header with columns concurrency,throughput (or N,X) and at least 6 rows`);
    const missing = join(dir, 'nope.csv');
    rejects(missing, `cannot read data file ${missing} (ENOENT)`);
  });
});

describe('fitCommandResult', () => {
  it('returns a JSON-able fit with predictions, a target and burn rates', () => {
    const result = fitCommandResult(SDM91, { predictAt: [50, 150], targetThroughput: 1500, slo: 'p(99)<100', bootstrapIterations: 200 });
    const roundTrip = JSON.parse(JSON.stringify(result)) as typeof result;
    assert.deepEqual(roundTrip, result);
    assert.equal(result.converged, true);
    assert.equal(result.nMax, 96);
    assert.equal(result.lambdaMode, 'free');
    assert.equal(result.predictions.length, 2);
    assert.ok(result.predictions[0]!.throughput < result.xMax!);
    assert.equal(typeof result.predictions[0]!.burnRate, 'number');
    assert.ok(result.target && result.target.concurrency !== null && result.target.concurrency < 96);
    assert.ok(result.ci && result.ci.sigma.low !== null && result.ci.sigma.low <= result.params.sigma);

    const text = renderFitText(result);
    assert.match(text, /^USL fit of 7 points from .*sdm91\.csv\n/);
    assert.match(text, /σ \(contention\) {3}0\.0277289/);
    assert.match(text, /N_max {12}96 \[/);
    assert.match(text, /dominant {9}contention at the highest measured load/);
    assert.match(text, /1500\/s needs N ≈ \d/);
  });

  it('rejects a bad SLO before reading the file', () => {
    assert.throws(
      () => fitCommandResult(SDM91, { slo: 'p99 under 100' }),
      (err: unknown) => isRedlineError(err, 'REDLINE_ERR_INVALID_THRESHOLD') && exitCodeFor(err) === 2,
    );
  });

  it('rejects bad prediction levels', () => {
    assert.throws(
      () => fitCommandResult(SDM91, { predictAt: [-4] }),
      (err: unknown) => isRedlineError(err, 'REDLINE_ERR_INVALID_ARGUMENT') && err.message === 'predictAt levels must be numbers > 0, got -4',
    );
  });
});

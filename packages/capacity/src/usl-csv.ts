import { readFileSync } from 'node:fs';
import { ErrorCodes, RedlineError } from '@redline/core';
import { MIN_USL_POINTS, type UslPoint } from './usl.js';

/** Header names accepted for the concurrency column (case-insensitive). */
export const CONCURRENCY_COLUMNS = ['concurrency', 'n', 'vus', 'clients', 'users', 'threads', 'load', 'workers'] as const;
/** Header names accepted for the throughput column (case-insensitive). */
export const THROUGHPUT_COLUMNS = ['throughput', 'x', 'rps', 'tps', 'qps', 'ops', 'rate'] as const;

const EXPECTED = 'expected a header with columns concurrency,throughput (or N,X)';
const NUMBER_RE = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

function bad(message: string): RedlineError {
  return new RedlineError(ErrorCodes.BAD_DATA_FILE, message);
}

function splitRow(line: string): string[] {
  return line.split(',').map((f) => f.trim().replace(/^"(.*)"$/, '$1').trim());
}

/**
 * Reads (concurrency, throughput) measurements from a CSV file for a USL fit.
 * The first non-blank, non-`#` line is a header naming the columns (`concurrency,throughput`,
 * `N,X`, `vus,rps`, ... see {@link CONCURRENCY_COLUMNS}); other columns are ignored. A file whose
 * first line is two or more numbers is read as headerless `N,X`. Throws REDLINE_ERR_BAD_DATA_FILE,
 * naming the file and line, for a missing file, missing columns, a non-numeric or negative value,
 * zero concurrency, or fewer than six rows.
 */
export function readUslCsv(path: string): UslPoint[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as { code?: string }).code ?? 'read error';
    throw new RedlineError(ErrorCodes.BAD_DATA_FILE, `cannot read data file ${path} (${code})`, { cause: err });
  }
  return parseUslCsv(text, path);
}

/** Parses CSV text as {@link readUslCsv} does; `source` names the input in messages. */
export function parseUslCsv(text: string, source = 'input'): UslPoint[] {
  const lines = text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .map((line, i) => ({ line: line.trim(), number: i + 1 }))
    .filter((l) => l.line !== '' && !l.line.startsWith('#'));
  const first = lines[0];
  if (first === undefined) throw bad(`data file ${source} is empty: ${EXPECTED} and at least ${MIN_USL_POINTS} rows`);

  const head = splitRow(first.line);
  let nCol: number;
  let xCol: number;
  let rows = lines;
  let names = ['concurrency', 'throughput'];
  if (head.length >= 2 && head.every((f) => NUMBER_RE.test(f))) {
    nCol = 0;
    xCol = 1;
  } else {
    const lower = head.map((h) => h.toLowerCase());
    nCol = lower.findIndex((h) => (CONCURRENCY_COLUMNS as readonly string[]).includes(h));
    xCol = lower.findIndex((h) => (THROUGHPUT_COLUMNS as readonly string[]).includes(h));
    if (nCol < 0 || xCol < 0) {
      const missing = nCol < 0 && xCol < 0 ? 'concurrency and throughput columns' : nCol < 0 ? 'concurrency column' : 'throughput column';
      throw bad(`data file ${source} has no ${missing} (header: ${first.line}): ${EXPECTED}`);
    }
    names = [head[nCol]!, head[xCol]!];
    rows = lines.slice(1);
  }

  const points: UslPoint[] = [];
  for (const row of rows) {
    const fields = splitRow(row.line);
    const values = [nCol, xCol].map((col, k) => {
      const raw = fields[col];
      if (raw === undefined || raw === '') throw bad(`${source} line ${row.number}: missing ${names[k]} value`);
      if (!NUMBER_RE.test(raw)) throw bad(`${source} line ${row.number}: ${names[k]} "${raw}" is not a number`);
      const value = Number(raw);
      if (value < 0) throw bad(`${source} line ${row.number}: ${names[k]} ${raw} is negative`);
      return value;
    });
    if (values[0] === 0) throw bad(`${source} line ${row.number}: ${names[0]} must be greater than 0`);
    points.push({ concurrency: values[0]!, throughput: values[1]! });
  }
  if (points.length < MIN_USL_POINTS) {
    throw bad(`data file ${source} has ${points.length} data rows; a USL fit needs at least ${MIN_USL_POINTS}`);
  }
  return points;
}

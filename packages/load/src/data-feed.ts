import { readFile } from 'node:fs/promises';
import { extname, resolve, dirname } from 'node:path';
import { ErrorCodes, RedlineError } from '@redline/core';
import type { DataSource } from './scenario.js';
import type { ExecutionShare } from './segments.js';

/** Rows of one data source, loaded once in the runner and handed to every worker. */
export interface LoadedData {
  name: string;
  order: 'sequential' | 'random';
  rows: Array<Record<string, unknown>>;
  /** False when the source asked every instance to read every row (`split: false`). */
  split?: false;
}

/** Parses RFC 4180 CSV (quoted fields, doubled quotes, CRLF or LF) into rows keyed by the header. */
export function parseCsv(text: string, file: string): Array<Record<string, string>> {
  const records: string[][] = [];
  let field = '';
  let row: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      field = '';
      if (row.length > 1 || row[0] !== '') records.push(row);
      row = [];
    } else field += c;
  }
  if (quoted) throw new RedlineError(ErrorCodes.BAD_DATA_FILE, `${file}: unterminated quoted field`);
  if (field !== '' || row.length) {
    row.push(field);
    records.push(row);
  }
  const header = records.shift();
  if (!header || header.length === 0) throw new RedlineError(ErrorCodes.BAD_DATA_FILE, `${file}: empty CSV file (expected a header row)`);
  return records.map((r, n) => {
    if (r.length !== header.length) {
      throw new RedlineError(ErrorCodes.BAD_DATA_FILE, `${file}: row ${n + 2} has ${r.length} fields, the header has ${header.length}`);
    }
    const obj: Record<string, string> = {};
    header.forEach((h, j) => (obj[h] = r[j]!));
    return obj;
  });
}

/** Parses JSON-lines: one JSON value per non-empty line. */
export function parseJsonLines(text: string, file: string): Array<Record<string, unknown>> {
  const rows: Array<Record<string, unknown>> = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (!line.trim()) return;
    try {
      const v = JSON.parse(line) as unknown;
      rows.push(typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : { value: v });
    } catch {
      throw new RedlineError(ErrorCodes.BAD_DATA_FILE, `${file}: line ${i + 1} is not valid JSON`);
    }
  });
  return rows;
}

/** Parses a JSON file holding an array of rows (k6's `JSON.parse(open('users.json'))` for a SharedArray). */
export function parseJsonArray(text: string, file: string): Array<Record<string, unknown>> {
  let v: unknown;
  try {
    v = JSON.parse(text) as unknown;
  } catch (e) {
    throw new RedlineError(ErrorCodes.BAD_DATA_FILE, `${file}: not valid JSON (${(e as Error).message})`, { cause: e });
  }
  if (!Array.isArray(v)) throw new RedlineError(ErrorCodes.BAD_DATA_FILE, `${file}: expected a JSON array of rows, got ${v === null ? 'null' : typeof v}`);
  return v.map((row: unknown) => (typeof row === 'object' && row !== null && !Array.isArray(row) ? (row as Record<string, unknown>) : { value: row }));
}

/** The format of a data file from its extension, or null. */
function formatOf(path: string): 'csv' | 'jsonl' | 'json' | null {
  const ext = extname(path).toLowerCase();
  return ext === '.csv' ? 'csv' : ext === '.jsonl' || ext === '.ndjson' ? 'jsonl' : ext === '.json' ? 'json' : null;
}

/**
 * This instance's rows of a data source under an execution segment: row `i` belongs to the segment
 * that owns unit `i` (the same striping as iterations), so the instances of a segment sequence
 * use disjoint rows that together are all of them. A source with `split: false`, or a run without
 * a segment, keeps every row. Throws REDLINE_ERR_BAD_DATA_FILE when the share owns no row.
 */
export function segmentRows(data: LoadedData, share: ExecutionShare): LoadedData {
  if (share.full || data.split === false) return data;
  const n = share.scale(data.rows.length);
  if (n === 0) {
    throw new RedlineError(
      ErrorCodes.BAD_DATA_FILE,
      `data "${data.name}": ${data.rows.length} row${data.rows.length === 1 ? '' : 's'} leave none for execution segment ${share.label}; give the file at least one row per instance, or set split: false to let every instance read every row`,
    );
  }
  return { ...data, rows: Array.from({ length: n }, (_, j) => data.rows[share.globalIndex(j)]!) };
}

/** Loads every data source of a scenario, resolving paths relative to the scenario file. */
export async function loadDataSources(sources: Record<string, DataSource> | undefined, scenarioFile: string | null): Promise<LoadedData[]> {
  const out: LoadedData[] = [];
  for (const [name, src] of Object.entries(sources ?? {})) {
    const path = resolve(scenarioFile ? dirname(scenarioFile) : process.cwd(), src.file);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch {
      throw new RedlineError(ErrorCodes.BAD_DATA_FILE, `data "${name}": cannot read ${path}`);
    }
    const format = src.format ?? formatOf(path);
    if (!format) throw new RedlineError(ErrorCodes.BAD_DATA_FILE, `data "${name}": cannot tell the format of ${path}; set format: 'csv', 'jsonl' or 'json'`);
    const rows = format === 'csv' ? parseCsv(text, path) : format === 'json' ? parseJsonArray(text, path) : parseJsonLines(text, path);
    if (rows.length === 0) throw new RedlineError(ErrorCodes.BAD_DATA_FILE, `data "${name}": ${path} has no rows`);
    out.push({ name, order: src.order ?? 'sequential', rows, ...(src.split === false ? { split: false } : {}) });
  }
  return out;
}

/**
 * Hands out rows. Sequential order is shared by every VU in every worker through one atomic
 * counter in shared memory, so rows go out exactly in order across the whole run.
 */
export class DataFeed {
  readonly #rows: ReadonlyArray<Record<string, unknown>>;
  readonly #order: 'sequential' | 'random';
  readonly #counter: Int32Array;

  constructor(data: LoadedData, counter: SharedArrayBuffer) {
    this.#rows = data.rows;
    this.#order = data.order;
    this.#counter = new Int32Array(counter);
  }

  /** The next row (a shared sequence, wrapping around) or a random one. */
  next(): Record<string, unknown> {
    const n = this.#rows.length;
    const i = this.#order === 'random' ? Math.floor(Math.random() * n) : (Atomics.add(this.#counter, 0, 1) >>> 0) % n;
    return this.#rows[i]!;
  }

  get size(): number {
    return this.#rows.length;
  }
}

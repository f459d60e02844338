import { readFile } from 'node:fs/promises';
import { extname, resolve, dirname } from 'node:path';
import { ErrorCodes, RedlineError } from '@redline/core';
import type { DataSource } from './scenario.js';

/** Rows of one data source, loaded once in the runner and handed to every worker. */
export interface LoadedData {
  name: string;
  order: 'sequential' | 'random';
  rows: Array<Record<string, unknown>>;
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
    const ext = extname(path).toLowerCase();
    const format = src.format ?? (ext === '.csv' ? 'csv' : ext === '.jsonl' || ext === '.ndjson' ? 'jsonl' : null);
    if (!format) throw new RedlineError(ErrorCodes.BAD_DATA_FILE, `data "${name}": cannot tell the format of ${path}; set format: 'csv' or 'jsonl'`);
    const rows = format === 'csv' ? parseCsv(text, path) : parseJsonLines(text, path);
    if (rows.length === 0) throw new RedlineError(ErrorCodes.BAD_DATA_FILE, `data "${name}": ${path} has no rows`);
    out.push({ name, order: src.order ?? 'sequential', rows });
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

import { FileSink } from './file-sink.js';
import type { Output, OutputFactory, OutputSecond } from './types.js';

/** Columns of the CSV output, in order (documented in docs/outputs.md). */
export const CSV_COLUMNS = [
  'time',
  't',
  'requests',
  'errors',
  'latency_p50_ms',
  'latency_p90_ms',
  'latency_p99_ms',
  'latency_max_ms',
  'service_p50_ms',
  'service_p99_ms',
  'iterations',
  'iterations_dropped',
  'vus',
  'in_flight',
  'intended_rate',
  'schedule_lag_p99_ms',
  'total_requests',
  'total_errors',
] as const;

const num = (v: number | null | undefined): string => (v === null || v === undefined || !Number.isFinite(v) ? '' : String(Math.round(v * 1000) / 1000));

/** One CSV row of a second (numbers only, so no quoting is needed). */
export function csvRow(s: OutputSecond): string {
  const p = s.status.point;
  return [
    new Date(s.atMs).toISOString(),
    p.t,
    p.requests,
    p.errors,
    num(p.latency?.p50),
    num(p.latency?.p90),
    num(p.latency?.p99),
    num(p.latency?.max),
    num(p.serviceTime?.p50),
    num(p.serviceTime?.p99),
    p.iterations,
    p.iterationsDropped,
    p.vus,
    num(p.inFlight),
    num(p.intendedRate),
    num(p.scheduleLagMs.p99),
    s.status.totalRequests,
    s.status.totalErrors,
  ].join(',');
}

class CsvOutput implements Output {
  readonly label: string;
  readonly #sink: FileSink;

  constructor(file: string, cwd: string) {
    this.label = `csv=${file}`;
    this.#sink = new FileSink(file, cwd);
  }
  async open(): Promise<void> {
    await this.#sink.open(this.label);
    await this.#sink.write(`${CSV_COLUMNS.join(',')}\n`);
  }
  second(s: OutputSecond): Promise<void> {
    return this.#sink.write(`${csvRow(s)}\n`);
  }
  close(): Promise<void> {
    return this.#sink.close();
  }
}

/** `--output csv=FILE`. */
export const csvOutput: OutputFactory = (arg, ctx) => new CsvOutput(arg, ctx.cwd);

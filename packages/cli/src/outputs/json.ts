import type { RunResult } from '@redline/core';
import { FileSink } from './file-sink.js';
import type { Output, OutputFactory, OutputSecond, OutputStart } from './types.js';

/** One JSON line per second (and the encoded HDR histogram of that second), then a summary line. */
export function secondRecord(s: OutputSecond, runId: string | null): Record<string, unknown> {
  const p = s.status.point;
  return {
    type: 'second',
    ...(runId !== null ? { runId } : {}),
    time: new Date(s.atMs).toISOString(),
    t: p.t,
    requests: p.requests,
    errors: p.errors,
    errorsByKind: p.errorsByKind,
    latencyMs: p.latency,
    serviceTimeMs: p.serviceTime,
    iterations: p.iterations,
    iterationsDropped: p.iterationsDropped,
    vus: p.vus,
    inFlight: p.inFlight ?? null,
    intendedRate: p.intendedRate,
    scheduleLagMs: p.scheduleLagMs,
    totalRequests: s.status.totalRequests,
    totalErrors: s.status.totalErrors,
    latencyHistogram: s.status.latencyHistogram ?? null,
  };
}

/** The last line of the JSON output: what the terminal summary says, as data. */
export function summaryRecord(r: RunResult, runId: string | null): Record<string, unknown> {
  return {
    type: 'summary',
    ...(runId !== null ? { runId } : {}),
    name: r.name,
    status: r.status,
    summary: r.summary,
    thresholds: r.thresholds,
    generator: { limited: r.generator.limited, reasons: r.generator.reasons },
    findings: r.findings.map((f) => ({ category: f.category, severity: f.severity, confidence: f.confidence, title: f.title })),
  };
}

class JsonOutput implements Output {
  readonly label: string;
  readonly #sink: FileSink;
  #runId: string | null = null;

  constructor(file: string, cwd: string) {
    this.label = `json=${file}`;
    this.#sink = new FileSink(file, cwd);
  }
  open(): Promise<void> {
    return this.#sink.open(this.label);
  }
  start(info: OutputStart): void {
    this.#runId = info.runId;
  }
  second(s: OutputSecond): Promise<void> {
    return this.#sink.write(`${JSON.stringify(secondRecord(s, this.#runId))}\n`);
  }
  end(result: RunResult): Promise<void> {
    return this.#sink.write(`${JSON.stringify(summaryRecord(result, this.#runId))}\n`);
  }
  close(): Promise<void> {
    return this.#sink.close();
  }
}

/** `--output json=FILE`. */
export const jsonOutput: OutputFactory = (arg, ctx) => new JsonOutput(arg, ctx.cwd);

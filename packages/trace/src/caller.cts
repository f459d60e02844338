/**
 * Names the application code that issued a database call: a span processor that, when a span with
 * `db.system` (or `db.system.name`) starts, takes the synchronous stack and records its first frame
 * outside `node_modules`, Node's internals and this preload as `code.function.name`,
 * `code.file.path`, `code.line.number`, `code.column.number` (OpenTelemetry's code attributes).
 * Only recorded spans reach a processor, so unsampled requests pay nothing. Paths are the running
 * scripts' (compiled JavaScript); the doctor maps them through source maps.
 *
 * A call that the driver issues from a callback (`pool.query` runs the query once a client is
 * free) has no application frame on its stack; such spans get no code attributes.
 */
import type { Context } from '@opentelemetry/api';

/** The slice of the SDK's span the processor uses. */
interface StartedSpan {
  attributes: Record<string, unknown>;
  setAttributes(a: Record<string, string | number>): unknown;
}

/** `    at fn (path:line:col)` or `    at path:line:col` (and `async fn`). */
const FRAME = /^\s*at (?:async )?(?:(.*?) \()?((?:file:\/\/)?\/[^():]*|[A-Za-z]:\\[^():]*):(\d+):(\d+)\)?$/;

/** Where the application called from, from a V8 stack string; null when every frame is library or internal. */
/** Redline's own libraries that run inside the target (the pool watcher wraps `Client.query`), from node_modules or a checkout. */
const REDLINE_IN_TARGET = /[\\/](?:@redline|packages)[\\/](?:pool|probe|flow|trace)[\\/](?:dist|src)[\\/]/;

export function applicationFrame(stack: string, skip: readonly string[] = []): { functionName: string; file: string; line: number; column: number } | null {
  for (const line of stack.split('\n')) {
    const m = FRAME.exec(line);
    if (m === null) continue;
    const file = m[2]!;
    if (file.includes('/node_modules/') || file.includes('\\node_modules\\') || REDLINE_IN_TARGET.test(file) || skip.some((s) => file.startsWith(s))) continue;
    const name = (m[1] ?? '').replace(/^(?:new |Object\.|exports\.)/, '');
    return { functionName: name === '' ? '(anonymous)' : name, file: file.startsWith('file://') ? decodeURIComponent(file.slice(7)) : file, line: Number(m[3]), column: Number(m[4]) };
  }
  return null;
}

/** A span processor adding the calling code to database spans. */
export function callerProcessor(skipDirs: readonly string[]): { onStart(span: StartedSpan, ctx: Context): void; onEnd(): void; forceFlush(): Promise<void>; shutdown(): Promise<void> } {
  return {
    onStart(span) {
      const a = span.attributes;
      if (a['db.system'] === undefined && a['db.system.name'] === undefined) return;
      const holder: { stack?: string } = {};
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = 20;
      Error.captureStackTrace(holder);
      Error.stackTraceLimit = limit;
      const f = applicationFrame(holder.stack ?? '', skipDirs);
      if (f === null) return;
      span.setAttributes({ 'code.function.name': f.functionName, 'code.file.path': f.file, 'code.line.number': f.line, 'code.column.number': f.column });
    },
    onEnd() {},
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
}

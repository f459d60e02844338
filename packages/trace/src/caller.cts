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

/** The slice of V8's CallSite the processor reads (`Error.prepareStackTrace`'s second argument). */
interface CallSite {
  getFileName(): string | null | undefined;
  getFunctionName(): string | null;
  getMethodName(): string | null;
  getTypeName(): string | null;
  getLineNumber(): number | null;
  getColumnNumber(): number | null;
  isConstructor(): boolean;
  isToplevel(): boolean;
}

/** `file` belongs to the application: an absolute path or file URL outside node_modules, Node's internals, Redline's in-target libraries and `skip`. */
function isApplicationFile(file: string, skip: readonly string[]): boolean {
  if (!(file.startsWith('/') || /^[A-Za-z]:\\/.test(file))) return false;
  return !(file.includes('/node_modules/') || file.includes('\\node_modules\\') || REDLINE_IN_TARGET.test(file) || skip.some((s) => file.startsWith(s)));
}

/** The name V8 prints for a frame (`Type.method`, `fn`), with the same prefixes dropped as {@link applicationFrame}. */
function frameName(cs: CallSite): string {
  const fn = cs.getFunctionName();
  let name: string;
  if (cs.isConstructor() || cs.isToplevel()) name = fn ?? '';
  else {
    const type = cs.getTypeName();
    const method = fn ?? cs.getMethodName() ?? '<anonymous>';
    name = type !== null && !method.startsWith(type) ? `${type}.${method}` : method;
  }
  name = name.replace(/^(?:Object\.|exports\.)/, '');
  return name === '' || name === '<anonymous>' ? '(anonymous)' : name;
}

/** Where the application called from, from V8's structured call sites (nothing is formatted but that frame); null when every frame is library or internal. */
export function applicationFrameOfCallSites(sites: readonly CallSite[], skip: readonly string[] = []): { functionName: string; file: string; line: number; column: number } | null {
  for (const cs of sites) {
    const name = cs.getFileName();
    if (typeof name !== 'string') continue;
    // ES modules' frames name a file URL.
    const file = name.startsWith('file://') ? decodeURIComponent(name.slice(7)) : name;
    if (!isApplicationFile(file, skip)) continue;
    return { functionName: frameName(cs), file, line: cs.getLineNumber() ?? 0, column: cs.getColumnNumber() ?? 0 };
  }
  return null;
}

const structured = (_err: Error, sites: CallSite[]): CallSite[] => sites;

/**
 * The application frame of the current stack. V8 captures the frames cheaply; formatting them as
 * the `stack` string (every frame's function, file, line and column, through Node's source-map
 * aware formatter) is what cost: about 300 µs per database span on the busy 2-core VM, most of a
 * sampled request's cost (BENCHMARKS.md, 2026-12-02 "caller's stack"). So the call sites are read
 * structured, through a `prepareStackTrace` installed only for this capture.
 */
export function callerOfCurrentStack(skip: readonly string[], below: (...a: never[]) => unknown): ReturnType<typeof applicationFrameOfCallSites> {
  const holder: { stack?: unknown } = {};
  const limit = Error.stackTraceLimit;
  const prepare = Error.prepareStackTrace;
  let stack: unknown;
  try {
    Error.stackTraceLimit = 20;
    Error.prepareStackTrace = structured as never;
    Error.captureStackTrace(holder, below);
    // The stack is prepared on first read: read it while `structured` is installed.
    stack = holder.stack;
  } finally {
    Error.prepareStackTrace = prepare;
    Error.stackTraceLimit = limit;
  }
  if (Array.isArray(stack)) return applicationFrameOfCallSites(stack as CallSite[], skip);
  return typeof stack === 'string' ? applicationFrame(stack, skip) : null;
}

/** A span processor adding the calling code to database spans. */
export function callerProcessor(skipDirs: readonly string[]): { onStart(span: StartedSpan, ctx: Context): void; onEnd(): void; forceFlush(): Promise<void>; shutdown(): Promise<void> } {
  const processor = {
    onStart(span: StartedSpan) {
      const a = span.attributes;
      if (a['db.system'] === undefined && a['db.system.name'] === undefined) return;
      const f = callerOfCurrentStack(skipDirs, processor.onStart);
      if (f === null) return;
      span.setAttributes({ 'code.function.name': f.functionName, 'code.file.path': f.file, 'code.line.number': f.line, 'code.column.number': f.column });
    },
    onEnd() {},
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
  return processor;
}

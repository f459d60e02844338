import { createHook, type AsyncHook } from 'node:async_hooks';
import type { ThreadpoolCallersMessage } from './protocol.cjs';

/**
 * Async resources whose work runs on the libuv thread pool, by the operation type the doctor names.
 * (Types as `async_hooks` reports them; the crypto jobs are Node's `*REQUEST` job wraps.)
 */
const THREADPOOL_TYPES: ReadonlyMap<string, string> = new Map([
  ...['PBKDF2REQUEST', 'SCRYPTREQUEST', 'RANDOMBYTESREQUEST', 'RANDOMPRIMEREQUEST', 'CHECKPRIMEREQUEST', 'KEYPAIRGENREQUEST', 'KEYGENREQUEST', 'KEYEXPORTREQUEST', 'CIPHERREQUEST', 'DERIVEBITSREQUEST', 'HASHREQUEST', 'SIGNREQUEST', 'VERIFYREQUEST'].map(
    (t): [string, string] => [t, 'crypto'],
  ),
  ['FSREQCALLBACK', 'fs'],
  ['FSREQPROMISE', 'fs'],
  ['ZLIB', 'zlib'],
  ['GETADDRINFOREQWRAP', 'dns.lookup'],
  ['GETNAMEINFOREQWRAP', 'dns.lookupService'],
]);

/** Stacks captured per capture window at most (each costs a few tens of µs). */
const MAX_STACKS_PER_CAPTURE = 24;
/** Distinct stacks kept between two messages. */
const MAX_DISTINCT = 32;
/** Frames kept per stack: enough to get past Node's internals to the calling code. */
const STACK_FRAMES = 14;
/** Least time between the starts of two capture windows, ms: while the pool stays saturated this caps the hook's duty cycle at about one window per second. */
const MIN_GAP_MS = 1000;

/** Samples who submits thread-pool work, only while the thread pool is queueing. */
export interface ThreadpoolCallerSampler {
  /**
   * Ends the current capture window (if any) and returns what it caught, or null; then starts a new
   * window when `queued` says the thread pool queued work in the last probe window.
   */
  tick(queued: boolean, nowMs: number): ThreadpoolCallersMessage | null;
  stop(): void;
}

/**
 * Creates the sampler. An `async_hooks` init hook sees every thread-pool request (PBKDF2REQUEST,
 * FSREQCALLBACK, ZLIB, GETADDRINFOREQWRAP, …) synchronously in the JavaScript stack that made it,
 * which is exactly the calling code a sampled CPU profile rarely catches (the submitting call takes
 * microseconds). An enabled init hook costs every async resource and promise of the process, so it is
 * switched on only for one probe window at a time, at most once a second, and only while the
 * probe's own thread-pool task says the pool is queueing: a service whose thread pool keeps up pays nothing.
 */
export function createThreadpoolCallerSampler(): ThreadpoolCallerSampler {
  const entries = new Map<string, { resource: string; op: string; stack: string; count: number }>();
  let captured = 0;
  let capturing = false;
  let lastStart = Number.NEGATIVE_INFINITY;
  let windowStart = 0;
  let hookOn = false;
  // An exception thrown from an async hook ends the process: nothing here may throw.
  function init(_asyncId: number, type: string): void {
    try {
      const op = THREADPOOL_TYPES.get(type);
      if (op === undefined || captured >= MAX_STACKS_PER_CAPTURE) return;
      // Enough for this window: the hook goes off now, not at the window's end (async_hooks allows
      // disabling from inside a callback), so a busy pool shortens the capture instead of lengthening it.
      if (++captured >= MAX_STACKS_PER_CAPTURE) stopCapture();
      const holder: { stack?: string } = {};
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = STACK_FRAMES;
      try {
        // Starting below init: the first frames are Node's async_hooks plumbing, then the API call.
        Error.captureStackTrace(holder, init);
      } finally {
        Error.stackTraceLimit = limit;
      }
      const stack = framesOf(holder.stack);
      if (stack === '' || isOwn(stack)) return;
      const key = `${type}\n${stack}`;
      const entry = entries.get(key);
      if (entry !== undefined) entry.count += 1;
      else if (entries.size < MAX_DISTINCT) entries.set(key, { resource: type, op, stack, count: 1 });
    } catch {
      // never throw from an async hook
    }
  }
  const hook: AsyncHook = createHook({ init });
  function stopCapture(): void {
    if (!hookOn) return;
    hookOn = false;
    hook.disable();
  }
  const flush = (nowMs: number): ThreadpoolCallersMessage | null => {
    if (entries.size === 0) return null;
    const message: ThreadpoolCallersMessage = { type: 'threadpool-callers', startEpochMs: windowStart, endEpochMs: nowMs, callers: [...entries.values()] };
    entries.clear();
    return message;
  };
  return {
    tick(queued, nowMs) {
      let out: ThreadpoolCallersMessage | null = null;
      if (capturing) {
        stopCapture();
        capturing = false;
        out = flush(nowMs);
      }
      if (queued && nowMs - lastStart >= MIN_GAP_MS) {
        captured = 0;
        lastStart = nowMs;
        windowStart = nowMs;
        capturing = true;
        hookOn = true;
        hook.enable();
      }
      return out;
    },
    stop() {
      stopCapture();
      capturing = false;
      entries.clear();
    },
  };
}

/** The `    at …` lines of a captured stack, without async_hooks' own frames. */
function framesOf(stack: string | undefined): string {
  if (stack === undefined) return '';
  return stack
    .split('\n')
    .filter((l) => l.startsWith('    at ') && !l.includes('node:internal/async_hooks'))
    .join('\n');
}

/** Whether the work is the probe's own (its thread-pool meter, the pool server-limit reader). */
function isOwn(stack: string): boolean {
  return stack.includes(__dirname + '/');
}

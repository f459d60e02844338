import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FlowError } from '../errors.js';
import type { Limiter, Permit } from '../limiter.js';

/** Options of the HTTP adapters ({@link limitHandler}, {@link expressLimiter}, `fastifyLimiter`). */
export interface HttpLimitOptions<Req = IncomingMessage, Res = ServerResponse> {
  /** Deadline for a request, ms from its arrival (queue time counts). Default: none. */
  timeoutMs?: number | ((req: Req) => number | undefined);
  /** Priority of a request (higher is served first when requests queue). Default 0. */
  priority?: (req: Req) => number;
  /**
   * Answers a refused request. Default: `503` with `Retry-After` (whole seconds, at least 1, from the
   * limiter's mean latency) and a short text body.
   */
  onRejected?: (req: Req, res: Res, error: FlowError) => void;
  /** Which finished responses count as drops (overload signals). Default: none (only deadline overruns). */
  isDrop?: (req: Req, res: Res) => boolean;
}

/** `Retry-After` seconds for a rejection: its `retryAfterMs` rounded up, at least 1. */
export function retryAfterSeconds(error: FlowError): number {
  return Math.max(1, Math.ceil((error.retryAfterMs ?? 1000) / 1000));
}

/** The default answer to a refused request: 503 with `Retry-After`. */
export function sendOverloaded(res: ServerResponse, error: FlowError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = `Service overloaded (${error.code}); retry later.\n`;
  res.writeHead(503, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'retry-after': String(retryAfterSeconds(error)),
  });
  res.end(body);
}

/**
 * Admits one request through `limiter`: calls `onAdmit` when it holds a slot (the slot is released
 * when `res` closes), or answers the refusal. Errors other than overload rejections (e.g. a closed
 * limiter) are answered the same way, so a request never hangs.
 */
export function admitRequest<Req>(
  limiter: Limiter,
  req: Req,
  res: { once(event: 'close', listener: () => void): unknown },
  options: Pick<HttpLimitOptions<Req>, 'timeoutMs' | 'priority'> & { isDrop?: () => boolean },
  onAdmit: () => void,
  reject: (error: FlowError) => void,
): void {
  const timeout = typeof options.timeoutMs === 'function' ? options.timeoutMs(req) : options.timeoutMs;
  const priority = options.priority?.(req);
  const run = timeout === undefined && priority === undefined ? undefined : { ...(timeout !== undefined && { timeoutMs: timeout }), ...(priority !== undefined && { priority }) };
  limiter.acquire(run).then(
    (permit: Permit) => {
      res.once('close', () => permit.release({ dropped: options.isDrop?.() === true }));
      onAdmit();
    },
    // acquire() rejects only with FlowErrors (overload or closed); both are answered, never left hanging.
    (error: FlowError) => reject(error),
  );
}

/** The per-request admission options of an adapter's options. */
export function admitOptions<Req, Res>(options: HttpLimitOptions<Req, Res>): (req: Req, res: Res) => Pick<HttpLimitOptions<Req>, 'timeoutMs' | 'priority'> & { isDrop?: () => boolean } {
  const base = { ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }), ...(options.priority && { priority: options.priority }) };
  const isDrop = options.isDrop;
  return isDrop ? (req, res) => ({ ...base, isDrop: () => isDrop(req, res) }) : () => base;
}

/**
 * Wraps a `node:http` request handler so that at most `limiter.limit` requests are handled at once;
 * the others wait in the limiter's queue or are refused with 503 and `Retry-After`.
 *
 * ```ts
 * http.createServer(limitHandler(createLimiter({ maxQueue: 50 }), handler, { timeoutMs: 500 }));
 * ```
 */
export function limitHandler(
  limiter: Limiter,
  handler: (req: IncomingMessage, res: ServerResponse) => unknown,
  options: HttpLimitOptions = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  const onRejected = options.onRejected ?? ((_req, res, error) => sendOverloaded(res, error));
  const admit = admitOptions(options);
  return (req, res) => {
    admitRequest(limiter, req, res, admit(req, res), () => {
      const out = handler(req, res) as { catch?: (f: (e: unknown) => void) => unknown } | undefined;
      if (out && typeof out.catch === 'function') {
        out.catch(() => {
          if (!res.headersSent) res.writeHead(500).end();
          else res.destroy();
        });
      }
    }, (error) => onRejected(req, res, error));
  };
}

/** Minimal shapes of express' request, response and `next`, so the package needs no express types. */
type Next = (err?: unknown) => void;

/**
 * Express (4 and 5) middleware: admits the request through `limiter` and calls `next()`, or answers
 * 503 with `Retry-After` (or `options.onRejected`).
 *
 * ```ts
 * app.use(expressLimiter(createLimiter({ algorithm: 'gradient2' })));
 * ```
 */
export function expressLimiter<Req extends IncomingMessage = IncomingMessage, Res extends ServerResponse = ServerResponse>(
  limiter: Limiter,
  options: HttpLimitOptions<Req, Res> = {},
): (req: Req, res: Res, next: Next) => void {
  const admit = admitOptions(options);
  return (req, res, next) => {
    admitRequest(limiter, req, res, admit(req, res), () => next(), (error) => {
      if (options.onRejected) options.onRejected(req, res, error);
      else sendOverloaded(res, error);
    });
  };
}

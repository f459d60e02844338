import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FlowError } from '../errors.js';
import type { Limiter } from '../limiter.js';
import { admitOptions, admitRequest, retryAfterSeconds, type HttpLimitOptions } from './http.js';

/** The parts of a fastify request this adapter uses. */
export interface FastifyRequestLike {
  raw: IncomingMessage;
}

/** The parts of a fastify reply this adapter uses. */
export interface FastifyReplyLike {
  raw: ServerResponse;
  code(status: number): FastifyReplyLike;
  header(name: string, value: string): FastifyReplyLike;
  send(payload?: unknown): unknown;
}

/** The parts of a fastify instance this adapter uses. */
export interface FastifyLike {
  addHook(name: 'onRequest', hook: (request: FastifyRequestLike, reply: FastifyReplyLike, done: (err?: Error) => void) => void): unknown;
}

/**
 * A fastify plugin (register it with `app.register(fastifyLimiter(limiter))`): an `onRequest` hook
 * admits each request through `limiter` or answers 503 with `Retry-After` (or `options.onRejected`).
 * It applies to the whole instance (it opts out of plugin encapsulation like `fastify-plugin` does).
 */
export function fastifyLimiter(
  limiter: Limiter,
  options: HttpLimitOptions<FastifyRequestLike, FastifyReplyLike> = {},
): (instance: FastifyLike, opts: unknown, done: (err?: Error) => void) => void {
  const admit = admitOptions(options);
  const plugin = (instance: FastifyLike, _opts: unknown, done: (err?: Error) => void): void => {
    instance.addHook('onRequest', (request, reply, hookDone) => {
      // The slot is tied to the raw response, whose 'close' fires once the reply is sent or aborted.
      const raw = { once: (event: 'close', listener: () => void) => reply.raw.once(event, listener) };
      admitRequest(limiter, request, raw, admit(request, reply), () => hookDone(), (error: FlowError) => {
        if (options.onRejected) options.onRejected(request, reply, error);
        else reply.code(503).header('retry-after', String(retryAfterSeconds(error))).send(`Service overloaded (${error.code}); retry later.\n`);
      });
    });
    done();
  };
  (plugin as unknown as Record<symbol, unknown>)[Symbol.for('skip-override')] = true;
  (plugin as unknown as Record<symbol, unknown>)[Symbol.for('fastify.display-name')] = 'redline-flow-limiter';
  return plugin;
}

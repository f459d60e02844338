/**
 * Stable error codes of `@redline/flow`. Match on `code`, never on message text.
 */
export const FlowErrorCodes = {
  /** The queue was full (or the item was evicted by a higher-priority one). */
  QUEUE_FULL: 'REDLINE_ERR_FLOW_QUEUE_FULL',
  /** The deadline had already passed when the call was made. */
  DEADLINE_PAST: 'REDLINE_ERR_FLOW_DEADLINE_PAST',
  /** The estimated queue wait plus service time would overrun the deadline, so it was refused at once. */
  DEADLINE_UNREACHABLE: 'REDLINE_ERR_FLOW_DEADLINE_UNREACHABLE',
  /** The deadline passed while the item waited in the queue. */
  DEADLINE_EXCEEDED: 'REDLINE_ERR_FLOW_DEADLINE_EXCEEDED',
  /** The limiter or batcher was closed. */
  CLOSED: 'REDLINE_ERR_FLOW_CLOSED',
  /** A batch handler threw or returned the wrong number of results; `cause` holds the reason. */
  BATCH_FAILED: 'REDLINE_ERR_FLOW_BATCH_FAILED',
  /** An option was out of range or of the wrong type (thrown as a `RangeError`/`TypeError`). */
  INVALID_OPTION: 'REDLINE_ERR_FLOW_INVALID_OPTION',
} as const;

/** One of the {@link FlowErrorCodes}. */
export type FlowErrorCode = (typeof FlowErrorCodes)[keyof typeof FlowErrorCodes];

/** Codes of rejections that mean "overloaded, try later" (an HTTP adapter answers 503 to them). */
export const OVERLOAD_CODES: ReadonlySet<string> = new Set([
  FlowErrorCodes.QUEUE_FULL,
  FlowErrorCodes.DEADLINE_PAST,
  FlowErrorCodes.DEADLINE_UNREACHABLE,
  FlowErrorCodes.DEADLINE_EXCEEDED,
]);

/**
 * The error `@redline/flow` rejects with. `retryAfterMs` is a hint of when capacity may be free
 * again (the limiter's current mean latency), used for `Retry-After`.
 */
export class FlowError extends Error {
  override readonly name = 'FlowError';
  readonly code: FlowErrorCode;
  readonly retryAfterMs: number | undefined;

  constructor(code: FlowErrorCode, message: string, options?: { cause?: unknown; retryAfterMs?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryAfterMs = options?.retryAfterMs;
  }
}

/** True when `err` is a {@link FlowError} (optionally with `code`); works across module copies. */
export function isFlowError(err: unknown, code?: FlowErrorCode): err is FlowError {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { name?: unknown; code?: unknown };
  return e.name === 'FlowError' && typeof e.code === 'string' && (code === undefined || e.code === code);
}

/** True when `err` is a rejection that means the limiter is overloaded (queue full or a deadline). */
export function isOverloadError(err: unknown): err is FlowError {
  return isFlowError(err) && OVERLOAD_CODES.has(err.code);
}

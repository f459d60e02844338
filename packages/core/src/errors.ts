/**
 * Stable error codes. Users and tests match on `code`, never on message text.
 * The exit code a CLI command returns for an error is derived from its code (see `exitCodeFor`).
 */
export const ErrorCodes = {
  /** A command-line flag or argument is missing, unknown or malformed. */
  USAGE: 'REDLINE_ERR_USAGE',
  /** A duration such as `30s` could not be parsed. */
  BAD_DURATION: 'REDLINE_ERR_BAD_DURATION',
  /** A rate such as `2k/s` could not be parsed. */
  BAD_RATE: 'REDLINE_ERR_BAD_RATE',
  /** A size such as `50mb` could not be parsed. */
  BAD_SIZE: 'REDLINE_ERR_BAD_SIZE',
  /** A URL is malformed or uses an unsupported protocol. */
  BAD_URL: 'REDLINE_ERR_BAD_URL',
  /** A scenario file does not exist. */
  SCENARIO_NOT_FOUND: 'REDLINE_ERR_SCENARIO_NOT_FOUND',
  /** A scenario failed validation; the message names the file and field path. */
  INVALID_SCENARIO: 'REDLINE_ERR_INVALID_SCENARIO',
  /** An unknown load model was named. */
  UNKNOWN_EXECUTOR: 'REDLINE_ERR_UNKNOWN_EXECUTOR',
  /** An unknown named load profile was requested. */
  UNKNOWN_PROFILE: 'REDLINE_ERR_UNKNOWN_PROFILE',
  /** A threshold expression does not parse. */
  INVALID_THRESHOLD: 'REDLINE_ERR_INVALID_THRESHOLD',
  /** A request header name or value cannot be sent (not a token, CR/LF or control characters). */
  BAD_HEADER: 'REDLINE_ERR_BAD_HEADER',
  /** A run ended without any request getting a response (nothing was measured). */
  NO_RESPONSES: 'REDLINE_ERR_NO_RESPONSES',
  /** Generic invalid input value (options passed to an API). */
  INVALID_ARGUMENT: 'REDLINE_ERR_INVALID_ARGUMENT',
  /** A run directory is missing, not a run, or has an unsupported schema version. */
  BAD_RUN_DIR: 'REDLINE_ERR_BAD_RUN_DIR',
  /** A data file (CSV, JSON-lines) is missing or malformed. */
  BAD_DATA_FILE: 'REDLINE_ERR_BAD_DATA_FILE',
  /** The target process could not be started or never became ready. */
  TARGET_START_FAILED: 'REDLINE_ERR_TARGET_START_FAILED',
  /** Could not attach to an inspector endpoint. */
  ATTACH_FAILED: 'REDLINE_ERR_ATTACH_FAILED',
  /** Runs being compared are incompatible (different scenarios) and --force was not given. */
  INCOMPATIBLE_RUNS: 'REDLINE_ERR_INCOMPATIBLE_RUNS',
  /** A model fit did not converge. */
  FIT_NOT_CONVERGED: 'REDLINE_ERR_FIT_NOT_CONVERGED',
  /** A cache value could not be serialised. */
  NOT_SERIALIZABLE: 'REDLINE_ERR_NOT_SERIALIZABLE',
  /** An operation exceeded its hard timeout. */
  TIMEOUT: 'REDLINE_ERR_TIMEOUT',
  /** An optional peer dependency that a requested feature needs is not installed (e.g. ioredis for a Redis tier). */
  MISSING_DEPENDENCY: 'REDLINE_ERR_MISSING_DEPENDENCY',
  /** The HTML report could not be written; the run itself and its result.json are kept. */
  REPORT_FAILED: 'REDLINE_ERR_REPORT_FAILED',
  /** A bug or unexpected condition inside Redline. */
  INTERNAL: 'REDLINE_ERR_INTERNAL',
  /** The user stopped the command (Ctrl-C, SIGTERM) before it produced a result. */
  INTERRUPTED: 'REDLINE_ERR_INTERRUPTED',
  /** A result file (result.json, report.html, a profile) could not be written; the message names the file. */
  WRITE_FAILED: 'REDLINE_ERR_WRITE_FAILED',
  /** A load-generator worker thread failed (crashed, ran out of memory, threw). */
  WORKER_FAILED: 'REDLINE_ERR_WORKER_FAILED',
  /** A scenario's `setup()` threw, timed out, or returned data that cannot be handed to VUs; no load was sent. */
  SETUP_FAILED: 'REDLINE_ERR_SETUP_FAILED',
  /** A `.proto` file cannot be read or parsed, or a gRPC message does not fit its type. */
  BAD_PROTO: 'REDLINE_ERR_BAD_PROTO',
  /** A gRPC service or method named by a run is not in its `.proto` file. */
  UNKNOWN_RPC: 'REDLINE_ERR_UNKNOWN_RPC',
  /** An edge cache (Varnish, a CDN) refused or did not answer a tag invalidation (`@redline/cache` `invalidateTags`). */
  EDGE_INVALIDATION_FAILED: 'REDLINE_ERR_EDGE_INVALIDATION_FAILED',
  /** The HTTP proxy refused the CONNECT tunnel or could not be reached (`--proxy`). */
  PROXY_FAILED: 'REDLINE_ERR_PROXY_FAILED',
  /** An `--execution-segment` or `--execution-segment-sequence` string is malformed; the message names the position. */
  BAD_SEGMENT: 'REDLINE_ERR_BAD_SEGMENT',
  /** The Redis coordinator of a distributed run cannot be reached (at the start) or was lost. */
  COORDINATOR_UNREACHABLE: 'REDLINE_ERR_COORDINATOR_UNREACHABLE',
  /** Instances of one distributed run disagree (different scenario files, instance counts or segments). */
  INSTANCE_MISMATCH: 'REDLINE_ERR_INSTANCE_MISMATCH',
  /** A heap snapshot was not taken: the heap is too large against free memory (a snapshot needs about twice the heap). */
  SNAPSHOT_REFUSED: 'REDLINE_ERR_SNAPSHOT_REFUSED',
  /** `--compare-protocols` names a protocol Redline cannot compare (not `h1` or `h2`). */
  UNKNOWN_PROTOCOL: 'REDLINE_ERR_UNKNOWN_PROTOCOL',
  /** `--compare-encodings` names a content coding Redline cannot compare (not identity, gzip, br, deflate). */
  UNKNOWN_ENCODING: 'REDLINE_ERR_UNKNOWN_ENCODING',
} as const;

/** One of the stable `REDLINE_ERR_*` codes. */
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** Named process exit codes, documented in docs/exit-codes.md. */
export const ExitCodes = {
  OK: 0,
  /** A run failed, or `compare --fail-on` found a regression. */
  FAILURE: 1,
  /** Usage error or bad input: nothing was run. */
  USAGE: 2,
  /** One or more thresholds failed. */
  THRESHOLDS_FAILED: 99,
  /** Interrupted by Ctrl-C or SIGTERM (128 + SIGINT, as shells report it). */
  INTERRUPTED: 130,
} as const;

const USAGE_CODES: ReadonlySet<string> = new Set<ErrorCode>([
  ErrorCodes.USAGE,
  ErrorCodes.BAD_DURATION,
  ErrorCodes.BAD_RATE,
  ErrorCodes.BAD_SIZE,
  ErrorCodes.BAD_URL,
  ErrorCodes.SCENARIO_NOT_FOUND,
  ErrorCodes.INVALID_SCENARIO,
  ErrorCodes.UNKNOWN_EXECUTOR,
  ErrorCodes.UNKNOWN_PROFILE,
  ErrorCodes.INVALID_THRESHOLD,
  ErrorCodes.INVALID_ARGUMENT,
  ErrorCodes.BAD_HEADER,
  ErrorCodes.BAD_RUN_DIR,
  ErrorCodes.BAD_DATA_FILE,
  ErrorCodes.TARGET_START_FAILED,
  ErrorCodes.ATTACH_FAILED,
  ErrorCodes.INCOMPATIBLE_RUNS,
  ErrorCodes.MISSING_DEPENDENCY,
  ErrorCodes.BAD_PROTO,
  ErrorCodes.UNKNOWN_RPC,
  ErrorCodes.BAD_SEGMENT,
  ErrorCodes.COORDINATOR_UNREACHABLE,
  ErrorCodes.INSTANCE_MISMATCH,
  ErrorCodes.UNKNOWN_PROTOCOL,
  ErrorCodes.UNKNOWN_ENCODING,
]);

/**
 * The one error class Redline throws for anything a user can act on.
 * `message` is a single line written for a person; `details` carries structured context.
 */
export class RedlineError extends Error {
  override readonly name = 'RedlineError';
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options?.details;
  }
}

/** True when `err` is a RedlineError (optionally with the given code). Works across module copies. */
export function isRedlineError(err: unknown, code?: ErrorCode): err is RedlineError {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { name?: unknown; code?: unknown };
  if (e.name !== 'RedlineError' || typeof e.code !== 'string') return false;
  return code === undefined || e.code === code;
}

/** The process exit code for an error: 2 for usage/bad input, 130 for an interruption, 1 for everything else. */
export function exitCodeFor(err: unknown): number {
  if (isRedlineError(err) && USAGE_CODES.has(err.code)) return ExitCodes.USAGE;
  if (isRedlineError(err, ErrorCodes.INTERRUPTED)) return ExitCodes.INTERRUPTED;
  return ExitCodes.FAILURE;
}

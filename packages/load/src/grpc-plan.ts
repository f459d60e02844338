import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ErrorCodes, RedlineError, checkTimerMs, parseDuration, parseRate } from '@redline/core';
import { assertValidHeaders } from './header-validation.js';
import { assertProfileName } from './profiles.js';
import { resolvePlan, type LoadPlan, type PlanOverrides, type ScenarioDefinition } from './scenario.js';
import { parseGrpcTarget } from './script-grpc.js';
import { encodeRequest, findMethod, frameMessage, loadProto } from './transports/grpc-proto.js';

/** Quick-mode options of a gRPC run (`redline run --grpc host:port --proto x.proto --method pkg.Svc/M`). */
export interface GrpcQuickOptions {
  /** `host:port` (plaintext HTTP/2) or `https://host:port` (TLS with `--ca`/`--cert`/`--key`/`--insecure`). */
  target: string;
  /** The `.proto` file (relative to the working directory). */
  proto: string;
  /** More import directories of the `.proto`. */
  importPaths?: string[];
  /** `package.Service/Method` of a unary RPC. */
  method: string;
  /** The request as JSON text, or `@file.json` (default `{}`). */
  message?: string;
  /** Request metadata (`--header "k: v"`). */
  metadata?: Record<string, string>;
  rate?: string | number;
  vus?: number;
  duration?: string | number;
  /** Also sent as the call's deadline (`grpc-timeout`). */
  timeout?: string | number;
  profile?: string;
  maxVUs?: number;
  thresholds?: Record<string, string[]>;
  transport?: PlanOverrides['transport'];
}

function usage(message: string): RedlineError {
  return new RedlineError(ErrorCodes.USAGE, message);
}

async function messageText(raw: string | undefined, cwd: string): Promise<string> {
  if (raw === undefined) return '{}';
  if (!raw.startsWith('@')) return raw;
  const file = resolve(cwd, raw.slice(1));
  try {
    return await readFile(file, 'utf8');
  } catch {
    throw new RedlineError(ErrorCodes.BAD_DATA_FILE, `cannot read --message file ${file}`);
  }
}

/**
 * Builds the plan of a gRPC quick run: the `.proto` is parsed, the method looked up and the JSON
 * message serialised here, once, before anything starts; every call then sends the same bytes over
 * the gRPC fast path (`protocol: 'grpc'`). Bad input fails up front: REDLINE_ERR_BAD_PROTO for a
 * malformed file or a message that does not fit its type, REDLINE_ERR_UNKNOWN_RPC for an unknown
 * service or method, REDLINE_ERR_USAGE for a streaming method or malformed JSON.
 */
export async function grpcQuickPlan(q: GrpcQuickOptions, overrides: PlanOverrides = {}, cwd = process.cwd()): Promise<LoadPlan> {
  const { address, tls } = parseGrpcTarget(q.target);
  if (q.rate !== undefined && q.vus !== undefined) throw usage('give either --rate (open model) or --vus (closed model), not both');
  const rate = q.rate !== undefined ? parseRate(q.rate) : undefined;
  const durationMs = checkTimerMs(parseDuration(q.duration ?? '10s'), '--duration');
  if (!(durationMs > 0)) throw new RedlineError(ErrorCodes.BAD_DURATION, `invalid duration "${String(q.duration)}": must be greater than zero`);
  const timeoutMs = q.timeout !== undefined ? checkTimerMs(parseDuration(q.timeout), '--timeout') : undefined;
  if (q.vus !== undefined && !(Number.isInteger(q.vus) && q.vus > 0)) throw usage(`invalid --vus "${q.vus}": expected a positive integer`);
  if (q.profile !== undefined) assertProfileName(q.profile);
  assertValidHeaders(q.metadata, 'invalid --header');
  const proto = loadProto(resolve(cwd, q.proto), (q.importPaths ?? []).map((d) => resolve(cwd, d)));
  const method = findMethod(proto, q.method);
  if (method.requestStream || method.responseStream) {
    throw usage(`${method.name} is a ${method.requestStream ? 'client' : 'server'}-streaming RPC: the --grpc fast path makes unary calls; use ctx.grpc in a scenario script for streams`);
  }
  const text = await messageText(q.message, cwd);
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch (err) {
    throw usage(`invalid --message for ${method.name}: not JSON (${(err as Error).message})`);
  }
  const body = frameMessage(encodeRequest(method, message));
  const headers: Record<string, string> = { ...(q.metadata ?? {}), 'content-type': 'application/grpc', te: 'trailers' };
  // The run's request timeout is also the call's deadline, so the server can give up when we do.
  if (timeoutMs !== undefined) headers['grpc-timeout'] = `${Math.max(1, Math.round(timeoutMs))}m`;
  const definition: ScenarioDefinition = {
    name: overrides.name ?? `${address} ${method.name}`,
    requests: [{ method: 'POST', url: `${tls ? 'https' : 'http'}://${address}${method.path}`, headers, body, name: method.name }],
    duration: durationMs / 1000,
    ...(q.timeout !== undefined ? { timeout: q.timeout } : {}),
    ...(q.thresholds ? { thresholds: q.thresholds } : {}),
    ...(q.transport ?? {}),
    protocol: 'grpc',
  };
  if (rate !== undefined) {
    definition.rate = rate;
    if (q.maxVUs !== undefined) definition.maxVUs = q.maxVUs;
  } else definition.vus = q.vus ?? 10;
  if (q.profile !== undefined) definition.profile = q.profile as ScenarioDefinition['profile'];
  return resolvePlan(definition, 'command line', { ...overrides, transport: { ...(overrides.transport ?? {}), protocol: 'grpc' }, source: null });
}

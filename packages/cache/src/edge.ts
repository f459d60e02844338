import * as http from 'node:http';
import * as https from 'node:https';
import { ErrorCodes, RedlineError } from '@redline/core';
import { durationMs, type DurationInput } from './options.js';

/**
 * Where `invalidateTags` reaches the HTTP cache in front of the service (L3): one request per
 * endpoint, e.g. Varnish with a VCL that turns `BAN` + `Surrogate-Key: <regex>` into
 * `ban obj.http.Surrogate-Key ~ <regex>` (docs/cache.md has the VCL).
 */
export interface EdgeOptions {
  /** Cache endpoints (`http://varnish-1:6081`, ...); each gets one request per invalidation. */
  endpoints: readonly string[];
  /** Request method. Default `BAN`. */
  method?: string;
  /** Header carrying the tags, as a regex of whole tags joined by `|`. Default `Surrogate-Key`. */
  header?: string;
  /** Per-endpoint timeout. Default `2s`. */
  timeout?: DurationInput;
  /** More request headers (e.g. an auth token the VCL checks). */
  headers?: Readonly<Record<string, string>>;
}

/** The outcome at one edge endpoint. */
export interface EdgeInvalidation {
  endpoint: string;
  ok: boolean;
  /** HTTP status, when the endpoint answered. */
  status?: number;
  /** Why it failed (network error, timeout, or the status line), when `ok` is false. */
  error?: string;
  durationMs: number;
}

/** Resolved edge options. */
export interface ResolvedEdge {
  endpoints: URL[];
  method: string;
  header: string;
  timeoutMs: number;
  headers: Record<string, string>;
}

/** Tags sent to the edge: characters that mean nothing in a regex or a ban expression besides `.`. */
const EDGE_TAG_RE = /^[A-Za-z0-9_.:/@-]+$/;
const TOKEN_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function invalid(message: string): RedlineError {
  return new RedlineError(ErrorCodes.INVALID_ARGUMENT, message);
}

/** Validates `createCache({ edge })`; every message names the option. */
export function resolveEdge(edge: EdgeOptions | undefined): ResolvedEdge | undefined {
  if (edge === undefined) return undefined;
  if (typeof edge !== 'object' || edge === null) throw invalid('createCache: edge must be an object with endpoints');
  if (!Array.isArray(edge.endpoints) || edge.endpoints.length === 0) throw invalid('createCache: edge.endpoints must be a non-empty array of http(s) URLs');
  const endpoints = edge.endpoints.map((e: unknown) => {
    let u: URL;
    try {
      u = new URL(String(e));
    } catch {
      throw invalid(`createCache: edge.endpoints: ${JSON.stringify(e)} is not a URL`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw invalid(`createCache: edge.endpoints: ${JSON.stringify(e)} must be http: or https:`);
    return u;
  });
  const method = edge.method ?? 'BAN';
  if (typeof method !== 'string' || !TOKEN_RE.test(method)) throw invalid(`createCache: edge.method must be an HTTP method token, got ${JSON.stringify(method)}`);
  const header = edge.header ?? 'Surrogate-Key';
  if (typeof header !== 'string' || !TOKEN_RE.test(header)) throw invalid(`createCache: edge.header must be a header name, got ${JSON.stringify(header)}`);
  const timeoutMs = durationMs(edge.timeout ?? '2s', 'createCache: edge.timeout');
  if (timeoutMs <= 0) throw invalid(`createCache: edge.timeout must be greater than 0, got ${String(edge.timeout)}`);
  return { endpoints, method, header, timeoutMs, headers: { ...(edge.headers ?? {}) } };
}

/**
 * Tags as the edge header value: whole tags joined by `|` (a regex alternation the VCL anchors on
 * whitespace). Tags must be plain (letters, digits, `_ . : / @ -`) so the value needs no regex
 * escaping — Varnish's ban-expression parser would eat backslashes.
 */
export function edgeTagPattern(tags: readonly string[]): string {
  for (const t of tags) {
    if (!EDGE_TAG_RE.test(t)) throw invalid(`invalidateTags: tag ${JSON.stringify(t)} cannot be sent to the edge: use letters, digits and _ . : / @ - only`);
  }
  return tags.join('|');
}

/** The `Surrogate-Key` response-header value for tags (space-separated, as Fastly and the VCL expect). */
export function surrogateKeyValue(tags: readonly string[]): string {
  for (const t of tags) {
    if (!EDGE_TAG_RE.test(t)) throw invalid(`surrogateKey: tag ${JSON.stringify(t)} cannot be a surrogate key: use letters, digits and _ . : / @ - only`);
  }
  return tags.join(' ');
}

/** Sends one invalidation request to every endpoint at once; never rejects (failures are in the results). */
export function invalidateAtEdge(edge: ResolvedEdge, pattern: string): Promise<EdgeInvalidation[]> {
  return Promise.all(edge.endpoints.map((u) => oneEndpoint(edge, u, pattern)));
}

function oneEndpoint(edge: ResolvedEdge, u: URL, pattern: string): Promise<EdgeInvalidation> {
  const t0 = performance.now();
  const endpoint = u.href;
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: Omit<EdgeInvalidation, 'endpoint' | 'durationMs'>): void => {
      if (settled) return;
      settled = true;
      resolve({ endpoint, ...r, durationMs: performance.now() - t0 });
    };
    const mod = u.protocol === 'https:' ? https : http;
    const req = mod.request(u, { method: edge.method, headers: { ...edge.headers, [edge.header]: pattern }, timeout: edge.timeoutMs, agent: false }, (res) => {
      const status = res.statusCode ?? 0;
      res.resume();
      const ok = status >= 200 && status < 300;
      done(ok ? { ok, status } : { ok, status, error: `${edge.method} answered ${status} ${res.statusMessage ?? ''}`.trim() });
    });
    req.on('timeout', () => {
      req.destroy();
      done({ ok: false, error: `no answer within ${edge.timeoutMs} ms` });
    });
    req.on('error', (err: NodeJS.ErrnoException) => done({ ok: false, error: err.code ?? err.message }));
    req.end();
  });
}

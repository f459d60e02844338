import { ErrorCodes, RedlineError } from '@redline/core';
import { headerProblem } from './header-validation.js';
import type { ProxyTarget } from './transports/proxy.js';
import type { TlsMaterial } from './transports/tls.js';
import type { WireProtocol, Origin, PreparedRequest } from './transports/transport.js';

/** How to connect to an origin, beyond its URL. */
export interface OriginOptions {
  insecure?: boolean;
  tls?: TlsMaterial | null;
  version?: WireProtocol;
  proxy?: ProxyTarget | null;
}

const USER_AGENT = 'redline/0.1';

/** Parses and checks a target URL: http(s) only, with a host. */
export function parseTargetUrl(raw: string, base?: string): URL {
  let url: URL;
  try {
    url = base ? new URL(raw, base) : new URL(raw);
  } catch {
    throw new RedlineError(
      ErrorCodes.BAD_URL,
      base ? `invalid URL "${raw}" (relative to ${base})` : `invalid URL "${raw}": expected an absolute http:// or https:// URL such as http://127.0.0.1:8080/`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    const hint = url.protocol === 'ws:' || url.protocol === 'wss:' ? ` (WebSocket URLs need protocol: 'ws', or ctx.ws in a script)` : '';
    throw new RedlineError(ErrorCodes.BAD_URL, `unsupported protocol "${url.protocol}" in URL "${raw}": use http:// or https://${hint}`);
  }
  if (!url.hostname) throw new RedlineError(ErrorCodes.BAD_URL, `URL "${raw}" has no host`);
  return url;
}

/** The connection target of a URL. */
export function originOf(url: URL, options: OriginOptions | boolean = {}): Origin {
  const o = typeof options === 'boolean' ? { insecure: options } : options;
  const protocol = url.protocol as 'http:' | 'https:';
  const port = url.port ? Number(url.port) : protocol === 'https:' ? 443 : 80;
  // URL keeps IPv6 literals bracketed; sockets want them bare.
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return { protocol, host, port, authority: url.host, insecure: o.insecure ?? false, tls: o.tls ?? null, version: o.version ?? 'h1', proxy: o.proxy ?? null };
}

/** A request as a user describes it. */
export interface RequestSpec {
  method?: string;
  url: string;
  headers?: Record<string, string>;
  body?: string | Buffer | Uint8Array | object | null;
  /** Metric name; defaults to `METHOD /path`. */
  name?: string;
  /** Relative weight when several static requests are mixed (default 1). */
  weight?: number;
}

/** Serialises the request head and body once into the exact bytes sent on the wire. */
export function serializeRequest(
  method: string,
  url: URL,
  headers: Record<string, string>,
  body: Buffer | null,
): Buffer {
  const lines = [`${method} ${url.pathname}${url.search} HTTP/1.1`];
  let hasHost = false;
  let hasUa = false;
  let hasLength = false;
  for (const [name, value] of Object.entries(headers)) {
    const problem = headerProblem(name, value);
    if (problem) throw new RedlineError(ErrorCodes.BAD_HEADER, `${method} ${url.pathname}: ${problem}`, { details: { header: name } });
    const lower = name.toLowerCase();
    if (lower === 'host') hasHost = true;
    else if (lower === 'user-agent') hasUa = true;
    else if (lower === 'content-length') hasLength = true;
    lines.push(`${name}: ${value}`);
  }
  if (!hasHost) lines.splice(1, 0, `Host: ${url.host}`);
  if (!hasUa) lines.push(`User-Agent: ${USER_AGENT}`);
  if (body && body.length > 0 && !hasLength) lines.push(`Content-Length: ${body.length}`);
  else if (!body && (method === 'POST' || method === 'PUT' || method === 'PATCH') && !hasLength) lines.push('Content-Length: 0');
  const head = Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1');
  return body && body.length > 0 ? Buffer.concat([head, body]) : head;
}

/** Turns a body value into bytes, setting a JSON content type for plain objects. */
export function encodeBody(body: RequestSpec['body'], headers: Record<string, string>): Buffer | null {
  if (body === undefined || body === null) return null;
  if (typeof body === 'string') return Buffer.from(body);
  if (Buffer.isBuffer(body)) return body;
  if (body instanceof Uint8Array) return Buffer.from(body);
  if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  return Buffer.from(JSON.stringify(body));
}

/** Prepares a static request (fast path): resolved URL, serialised bytes, metric name. */
export function prepareRequest(spec: RequestSpec, baseUrl?: string, options: OriginOptions | boolean = {}): PreparedRequest {
  const method = (spec.method ?? 'GET').toUpperCase();
  const version = typeof options === 'boolean' ? undefined : options.version;
  // The WebSocket fast path dials ws:// as http:// and wss:// as https:// (the upgrade is its own).
  const url = parseTargetUrl(version === 'ws' ? spec.url.replace(/^ws(s?):\/\//i, 'http$1://') : spec.url, baseUrl);
  const headers = { ...(spec.headers ?? {}) };
  const body = encodeBody(spec.body, headers);
  return {
    name: spec.name ?? (version === 'ws' ? `WS ${url.pathname}` : `${method} ${url.pathname}`),
    method,
    origin: originOf(url, options),
    payload: serializeRequest(method, url, headers, body),
  };
}

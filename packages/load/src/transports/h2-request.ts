/**
 * HTTP/2 request forms (their header blocks are encoded by `hpack.ts`).
 *
 * Requests reach every transport as the HTTP/1.1 bytes `serializeRequest` made once (so executors
 * and request preparation do not change with the protocol); the HTTP/2 transports translate them
 * here, once per distinct payload on the fast path (cached by identity).
 */

/** One request in HTTP/2 terms. Header names are lower-case; connection-specific headers are dropped. */
export interface H2Request {
  method: string;
  path: string;
  authority: string;
  headers: Array<[string, string]>;
  body: Buffer | null;
}

/** Headers HTTP/2 forbids (RFC 9113 §8.2.2) or carries as pseudo-headers. */
const DROPPED = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host']);

/** Translates HTTP/1.1 request bytes (as `serializeRequest` writes them) into an HTTP/2 request. */
export function h2RequestFromHttp1(payload: Buffer, fallbackAuthority: string): H2Request {
  let end = payload.indexOf('\r\n\r\n');
  if (end === -1) end = payload.length;
  const head = payload.toString('latin1', 0, end);
  const lines = head.split('\r\n');
  const requestLine = lines[0] ?? '';
  const sp1 = requestLine.indexOf(' ');
  const sp2 = requestLine.lastIndexOf(' ');
  const method = requestLine.slice(0, sp1);
  const path = requestLine.slice(sp1 + 1, sp2 > sp1 ? sp2 : undefined) || '/';
  let authority = fallbackAuthority;
  const headers: Array<[string, string]> = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'host') authority = value;
    if (DROPPED.has(name)) continue;
    if (name === 'te' && value.toLowerCase() !== 'trailers') continue;
    headers.push([name, value]);
  }
  const bodyStart = end + 4;
  const body = bodyStart < payload.length ? payload.subarray(bodyStart) : null;
  return { method, path, authority, headers, body };
}

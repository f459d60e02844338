import http from 'node:http';
import https from 'node:https';
import { ErrorCodes, RedlineError } from '@redline/core';

/** How long one output write may take before it counts as failed. */
export const WRITE_TIMEOUT_MS = 5000;

const agents = { http: new http.Agent({ keepAlive: true, maxSockets: 2 }), https: new https.Agent({ keepAlive: true, maxSockets: 2 }) };

/**
 * POSTs a body over a keep-alive connection (node:http, which costs the runner's main thread far
 * less per write than fetch); a non-2xx answer rejects with `HTTP <status>: <start of the body>`.
 */
export function postBody(url: string, body: Uint8Array | string, headers: Record<string, string>): Promise<void> {
  const u = new URL(url);
  const mod = u.protocol === 'https:' ? https : http;
  const payload = typeof body === 'string' ? Buffer.from(body) : body;
  return new Promise<void>((resolve, reject) => {
    const req = mod.request(u, { method: 'POST', agent: u.protocol === 'https:' ? agents.https : agents.http, headers: { ...headers, 'content-length': String(payload.length) } }, (res) => {
      const status = res.statusCode ?? 0;
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        if (size < 4096) chunks.push(c);
        size += c.length;
      });
      res.on('end', () => {
        if (status >= 200 && status < 300) return resolve();
        const text = Buffer.concat(chunks).toString('utf8').trim().replace(/\s+/g, ' ').slice(0, 200);
        reject(new HttpWriteError(status, `HTTP ${status}${text ? `: ${text}` : ''}`));
      });
      res.on('error', reject);
    });
    req.setTimeout(WRITE_TIMEOUT_MS, () => req.destroy(new Error(`no answer within ${WRITE_TIMEOUT_MS} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) => reject(new Error(err.code ? `${err.code} ${u.host}` : err.message)));
    req.end(payload);
  });
}

/** A write the server answered with an error status. */
export class HttpWriteError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'HttpWriteError';
    this.status = status;
  }
}

/** Parses an output URL (http or https only); the label drops any credentials. */
export function outputUrl(name: string, arg: string): { url: URL; label: string } {
  let url: URL;
  try {
    url = new URL(arg);
  } catch {
    throw badUrl(name, arg, 'not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw badUrl(name, arg, `expected http:// or https://, got ${url.protocol}`);
  const shown = new URL(url.href);
  shown.username = '';
  shown.password = '';
  return { url, label: `${name}=${shown.href}` };
}

function badUrl(name: string, arg: string, why: string): RedlineError {
  return new RedlineError(ErrorCodes.BAD_URL, `invalid --output ${name}=${arg}: ${why}`);
}

/** Closes the kept-alive connections (the outputs call it when they close, so none holds the process open). */
export function releaseConnections(): void {
  agents.http.destroy();
  agents.https.destroy();
}

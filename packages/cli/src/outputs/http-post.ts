import { ErrorCodes, RedlineError } from '@redline/core';

/** How long one output write may take before it counts as failed. */
export const WRITE_TIMEOUT_MS = 5000;

/** POSTs a body; a non-2xx answer rejects with `HTTP <status>: <start of the body>`. */
export async function postBody(url: string, body: Uint8Array | string, headers: Record<string, string>): Promise<void> {
  const res = await fetch(url, { method: 'POST', body, headers, signal: AbortSignal.timeout(WRITE_TIMEOUT_MS) });
  if (res.ok) {
    await res.arrayBuffer().catch(() => undefined);
    return;
  }
  const text = (await res.text().catch(() => '')).trim().replace(/\s+/g, ' ').slice(0, 200);
  throw new HttpWriteError(res.status, `HTTP ${res.status}${text ? `: ${text}` : ''}`);
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

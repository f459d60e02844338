import * as net from 'node:net';
import { ErrorCodes, RedlineError } from '@redline/core';
import type { Origin } from './transport.js';

/** An HTTP proxy that tunnels with CONNECT (RFC 9110 §9.3.6). Structured-clonable. */
export interface ProxyTarget {
  host: string;
  port: number;
  /** `Proxy-Authorization` value from the URL's user:password (Basic), or null. */
  authorization: string | null;
  /** The URL without credentials, for messages. */
  display: string;
}

/** Largest CONNECT response head we read before giving up on the proxy. */
const MAX_CONNECT_HEAD_BYTES = 16 * 1024;

/**
 * Parses `--proxy` / the scenario's `proxy`: `http://[user:password@]host[:port]` (port 80 by
 * default; 3128 is only a convention). Throws REDLINE_ERR_BAD_URL naming the value.
 */
export function parseProxyUrl(raw: string): ProxyTarget {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new RedlineError(ErrorCodes.BAD_URL, `invalid proxy URL "${raw}": expected http://host:port`);
  }
  if (u.protocol !== 'http:') throw new RedlineError(ErrorCodes.BAD_URL, `unsupported proxy protocol "${u.protocol}" in "${raw}": only http:// proxies (CONNECT) are supported`);
  if (!u.hostname) throw new RedlineError(ErrorCodes.BAD_URL, `proxy URL "${raw}" has no host`);
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  const authorization = u.username ? `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}` : null;
  return { host, port: u.port ? Number(u.port) : 80, authorization, display: `http://${u.host}` };
}

/** The CONNECT request for a tunnel to `origin`. */
export function connectRequest(proxy: ProxyTarget, origin: Origin): string {
  const target = net.isIPv6(origin.host) ? `[${origin.host}]:${origin.port}` : `${origin.host}:${origin.port}`;
  return `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${proxy.authorization ? `Proxy-Authorization: ${proxy.authorization}\r\n` : ''}\r\n`;
}

/**
 * Reads the proxy's answer to CONNECT from `socket`, then calls `onTunnel` (2xx: the socket is now
 * a tunnel to the origin; `rest` is any byte after the head, normally none) or `onRefused` with
 * the status line. Listens with `data` only until the head is complete.
 */
export function awaitTunnel(socket: net.Socket, onTunnel: (rest: Buffer) => void, onRefused: (status: number, statusLine: string) => void): void {
  let head: Buffer = Buffer.alloc(0);
  const onData = (chunk: Buffer): void => {
    head = head.length ? Buffer.concat([head, chunk]) : chunk;
    const end = head.indexOf('\r\n\r\n');
    if (end === -1) {
      if (head.length > MAX_CONNECT_HEAD_BYTES) {
        socket.off('data', onData);
        onRefused(0, `no complete CONNECT response within ${MAX_CONNECT_HEAD_BYTES / 1024} KiB`);
      }
      return;
    }
    socket.off('data', onData);
    const lineEnd = head.indexOf('\r\n');
    const statusLine = head.toString('latin1', 0, lineEnd);
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
    const status = m ? Number(m[1]) : 0;
    if (status >= 200 && status < 300) onTunnel(head.subarray(end + 4));
    else onRefused(status, statusLine.slice(0, 200));
  };
  socket.on('data', onData);
}

/** The message of a refused CONNECT, as counted (`proxy` errors) and as the pre-flight check throws it. */
export function refusedMessage(proxy: ProxyTarget, origin: Origin, status: number, statusLine: string): string {
  return status > 0 ? `the proxy ${proxy.display} refused CONNECT to ${origin.host}:${origin.port}: ${statusLine}` : `the proxy ${proxy.display} did not open a tunnel to ${origin.host}:${origin.port}: ${statusLine}`;
}

/**
 * Checks before the load that the proxy opens a tunnel to `origin` (one CONNECT, closed at once),
 * so a refusing or unreachable proxy is one clear error (REDLINE_ERR_PROXY_FAILED) instead of a run
 * of failed requests.
 */
export function checkProxy(proxy: ProxyTarget, origin: Origin, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: proxy.host, port: proxy.port });
    const fail = (message: string): void => {
      socket.destroy();
      reject(new RedlineError(ErrorCodes.PROXY_FAILED, message));
    };
    socket.setTimeout(timeoutMs, () => fail(`the proxy ${proxy.display} did not answer CONNECT to ${origin.host}:${origin.port} within ${timeoutMs} ms`));
    socket.once('connect', () => socket.write(connectRequest(proxy, origin)));
    socket.on('error', (err: NodeJS.ErrnoException) => fail(`cannot reach the proxy ${proxy.display}: ${err.code ?? err.message}`));
    awaitTunnel(
      socket,
      () => {
        socket.destroy();
        resolve();
      },
      (status, line) => fail(refusedMessage(proxy, origin, status, line)),
    );
  });
}

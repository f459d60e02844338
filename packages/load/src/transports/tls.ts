import * as net from 'node:net';
import * as tls from 'node:tls';
import type { Origin } from './transport.js';

/**
 * TLS material for client connections, as PEM text (structured-clonable, so it travels to worker
 * threads as is). `null` fields use Node's defaults (the system CA store, no client certificate).
 */
export interface TlsMaterial {
  /** Extra trusted CA certificates (PEM); replaces the default store, as `--ca` does in curl. */
  ca: string | null;
  /** Client certificate (PEM) for mTLS. */
  cert: string | null;
  /** Private key of `cert` (PEM). */
  key: string | null;
}

/** Most TLS sessions kept for resumption per thread; the oldest origin is forgotten first. */
const SESSION_CACHE_MAX = 256;
/** Latest TLS session ticket by origin and protocol: new connections resume instead of a full handshake. */
const sessions = new Map<string, Buffer>();

function sessionKey(o: Origin, alpn: readonly string[]): string {
  return `${o.host}:${o.port}|${alpn.join(',')}|${o.insecure ? 'i' : ''}|${o.tls?.ca?.length ?? 0}|${o.tls?.cert?.length ?? 0}`;
}

/**
 * Opens a TLS connection to `o` offering `alpn`, with the origin's CA, client certificate and
 * verification choice, resuming the latest session of the same origin when there is one. With
 * `over`, the handshake runs on that socket (a CONNECT tunnel) instead of a new connection.
 */
export function connectTls(o: Origin, alpn: readonly string[], over?: net.Socket): tls.TLSSocket {
  const key = sessionKey(o, alpn);
  const options: tls.ConnectionOptions = {
    host: o.host,
    port: o.port,
    // SNI takes host names only, never IP literals.
    ...(net.isIP(o.host) ? {} : { servername: o.host }),
    rejectUnauthorized: !o.insecure,
    ALPNProtocols: [...alpn],
    // Over an open tunnel (a proxy's CONNECT) instead of a new TCP connection.
    ...(over ? { socket: over } : {}),
  };
  const material = o.tls;
  if (material?.ca) options.ca = material.ca;
  if (material?.cert) options.cert = material.cert;
  if (material?.key) options.key = material.key;
  const saved = sessions.get(key);
  if (saved) options.session = saved;
  const socket = tls.connect(options);
  socket.on('session', (session: Buffer) => {
    if (sessions.size >= SESSION_CACHE_MAX && !sessions.has(key)) sessions.delete(sessions.keys().next().value!);
    sessions.set(key, session);
  });
  return socket;
}

/** Forgets every saved TLS session of this thread (tests; a run that must do full handshakes). */
export function clearTlsSessions(): void {
  sessions.clear();
}

/** OpenSSL and Node error codes that mean the TLS handshake or certificate check failed. */
const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'HOSTNAME_MISMATCH',
  'EPROTO',
]);

/** True when a socket error code means a TLS failure (handshake, certificate, alert). */
export function isTlsErrorCode(code: string | undefined): boolean {
  if (typeof code !== 'string') return false;
  return TLS_CODES.has(code) || code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || code.includes('CERT');
}

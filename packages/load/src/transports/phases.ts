import type * as net from 'node:net';

/** Where the setup time of a new connection went, in milliseconds (k6's blocked/connecting/tls_handshaking split). */
export interface ConnectPhases {
  /** Name resolution (0 for IP literals). */
  dnsMs: number;
  /** TCP handshake, after resolution. */
  tcpMs: number;
  /** TLS handshake, after TCP (0 without TLS). */
  tlsMs: number;
}

/**
 * Times the phases of a connection being opened from engine time `startedAt`, by its `lookup`,
 * `connect` and `secureConnect` events. The returned object fills in as the events arrive.
 */
export function watchConnectPhases(socket: net.Socket, startedAt: number, now: () => number, isTls: boolean): ConnectPhases {
  const phases: ConnectPhases = { dnsMs: 0, tcpMs: 0, tlsMs: 0 };
  let lookedUpAt = startedAt;
  let connectedAt = startedAt;
  socket.once('lookup', () => {
    lookedUpAt = now();
    phases.dnsMs = lookedUpAt - startedAt;
  });
  socket.once('connect', () => {
    connectedAt = now();
    phases.tcpMs = connectedAt - lookedUpAt;
  });
  if (isTls) socket.once('secureConnect', () => (phases.tlsMs = now() - connectedAt));
  return phases;
}

import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ErrorCodes, RedlineError } from '@redline/core';
import { http1Transport } from './http1.js';
import { createHttp2Transport, type Http2Transport } from './http2.js';
import { parseProxyUrl, type ProxyTarget } from './proxy.js';
import type { TlsMaterial } from './tls.js';
import { createGrpcFastTransport, type GrpcFastTransport } from './grpc-fast.js';
import { createWsFastTransport } from './ws-fast.js';
import type { WsCounters } from '../script-ws.js';
import type { Origin, Transport, WireProtocol } from './transport.js';

/** How a run talks to its targets: HTTP version, TLS material, HTTP/2 connection sharing. Structured-clonable. */
export interface TransportConfig {
  /** Default HTTP version for every origin (a scripted request may override it); `grpc` for gRPC unary calls. */
  version: WireProtocol;
  insecure: boolean;
  tls: TlsMaterial | null;
  /** HTTP/2: connections per origin per worker thread. */
  connections: number;
  /** HTTP/2: most concurrent streams per connection (the server's own limit applies when lower). */
  maxStreams: number;
  /** HTTP proxy every HTTP/1.1 connection tunnels through (CONNECT), or null. */
  proxy?: ProxyTarget | null;
}

/** TLS files as a scenario or the command line names them (paths). */
export interface TlsFiles {
  ca?: string;
  cert?: string;
  key?: string;
}

export const DEFAULT_H2_CONNECTIONS = 1;
export const DEFAULT_H2_MAX_STREAMS = 100;

/** The transport configuration with defaults, for runs that set nothing. */
export function defaultTransportConfig(): TransportConfig {
  return { version: 'h1', insecure: false, tls: null, connections: DEFAULT_H2_CONNECTIONS, maxStreams: DEFAULT_H2_MAX_STREAMS };
}

/**
 * Reads the PEM files a run names (relative to the scenario file, or the working directory in
 * quick mode). Throws REDLINE_ERR_BAD_DATA_FILE for a file that cannot be read or holds no PEM
 * block, and REDLINE_ERR_INVALID_ARGUMENT for a certificate without its key (or the reverse).
 */
export async function loadTlsMaterial(files: TlsFiles | undefined, scenarioFile: string | null): Promise<TlsMaterial | null> {
  if (!files || (files.ca === undefined && files.cert === undefined && files.key === undefined)) return null;
  if ((files.cert === undefined) !== (files.key === undefined)) {
    throw new RedlineError(ErrorCodes.INVALID_ARGUMENT, `tls: a client certificate needs both cert and key (got only ${files.cert !== undefined ? 'cert' : 'key'})`);
  }
  const base = scenarioFile ? dirname(scenarioFile) : process.cwd();
  const read = async (what: string, file: string | undefined, marker: RegExp): Promise<string | null> => {
    if (file === undefined) return null;
    const path = resolve(base, file);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch {
      throw new RedlineError(ErrorCodes.BAD_DATA_FILE, `tls ${what}: cannot read ${path}`);
    }
    if (!marker.test(text)) throw new RedlineError(ErrorCodes.BAD_DATA_FILE, `tls ${what}: ${path} holds no PEM ${what === 'key' ? 'private key' : 'certificate'}`);
    return text;
  };
  return {
    ca: await read('ca', files.ca, /-----BEGIN CERTIFICATE-----/),
    cert: await read('cert', files.cert, /-----BEGIN CERTIFICATE-----/),
    key: await read('key', files.key, /-----BEGIN [A-Z ]*PRIVATE KEY-----/),
  };
}

/** The transport configuration of a scenario definition (TLS files read here, once, on the runner thread). */
export async function transportConfigOf(
  def: { insecure?: boolean; tls?: TlsFiles; protocol?: WireProtocol; connections?: number; maxStreams?: number; proxy?: string },
  scenarioFile: string | null,
): Promise<TransportConfig> {
  return {
    version: def.protocol ?? 'h1',
    insecure: def.insecure ?? false,
    tls: await loadTlsMaterial(def.tls, scenarioFile),
    connections: def.connections ?? DEFAULT_H2_CONNECTIONS,
    maxStreams: def.maxStreams ?? DEFAULT_H2_MAX_STREAMS,
    proxy: def.proxy === undefined ? null : parseProxyUrl(def.proxy),
  };
}

/**
 * Picks the transport of each origin: HTTP/1.1, or HTTP/2 (one per thread, holding that thread's
 * shared HTTP/2 connections). Executors and metrics see only `Connection`s and `Exchange`s, so
 * they do not change with the protocol.
 */
export class TransportSelector {
  readonly #config: TransportConfig;
  #http2: Http2Transport | null = null;
  #grpc: GrpcFastTransport | null = null;
  #ws: Transport | null = null;
  readonly #wsCounters: WsCounters | undefined;

  /** `wsCounters`: where the WebSocket fast path counts connections, messages and close codes. */
  constructor(config: TransportConfig, wsCounters?: WsCounters) {
    this.#config = config;
    this.#wsCounters = wsCounters;
  }

  get config(): TransportConfig {
    return this.#config;
  }

  /** The transport for `origin` (by its `version`, else the run's default). */
  for(origin: Origin): Transport {
    const version = origin.version ?? this.#config.version;
    if (version === 'h2') return this.#h2();
    if (version === 'ws') return (this.#ws ??= createWsFastTransport(this.#wsCounters));
    if (version === 'grpc') return (this.#grpc ??= createGrpcFastTransport({ connections: this.#config.connections, maxStreams: this.#config.maxStreams }, () => this.#h2()));
    return http1Transport;
  }

  #h2(): Http2Transport {
    return (this.#http2 ??= createHttp2Transport({ connections: this.#config.connections, maxStreams: this.#config.maxStreams }));
  }

  /** HTTP/2 counters of this thread (zero when HTTP/2 was never used). */
  http2Counters(): { goaways: number; streamLimitWaits: number; refusedStreams: number; sessions: number } {
    const c = this.#http2 ? this.#http2.counters() : { goaways: 0, streamLimitWaits: 0, refusedStreams: 0, sessions: 0 };
    if (this.#grpc) {
      const g = this.#grpc.counters();
      c.goaways += g.goaways;
      c.streamLimitWaits += g.streamLimitWaits;
      c.refusedStreams += g.refusedStreams;
      c.sessions += g.sessions;
    }
    return c;
  }

  /** Closes shared connections (HTTP/2 sessions). */
  close(): void {
    this.#http2?.close();
    this.#http2 = null;
    this.#grpc?.close();
    this.#grpc = null;
  }
}

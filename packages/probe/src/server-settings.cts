import diagnosticsChannel from 'node:diagnostics_channel';
import type { RawServerSettings } from './protocol.cjs';

/** Most servers tracked per thread; a target that creates more (tests, per-tenant servers) keeps the first. */
const MAX_SERVERS = 32;

/** What the watcher needs of a server object; everything is read defensively (user code may replace it). */
interface ServerLike {
  address(): unknown;
  listening?: unknown;
  keepAliveTimeout?: unknown;
  headersTimeout?: unknown;
  requestTimeout?: unknown;
  maxRequestsPerSocket?: unknown;
  timeout?: unknown;
  setSecureContext?: unknown;
  constructor?: { name?: unknown };
}

/** Watches the HTTP servers a thread of the target creates and reads their socket settings on demand. */
export interface ServerSettingsWatcher {
  /** The current settings of every tracked server (read now, so values set after `listen()` count). */
  read(): RawServerSettings[];
  /** Unsubscribes from the channels. Idempotent. */
  stop(): void;
}

const msOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null);

/**
 * What kind of server it is, or null for a plain `net.Server` (not HTTP). `http.Server` and
 * `https.Server` carry `keepAliveTimeout`/`headersTimeout`; `https.Server` is a `tls.Server`
 * (`setSecureContext`); HTTP/2 servers are told apart by their constructor's name.
 */
function kindOf(server: ServerLike): RawServerSettings['kind'] | null {
  const name = typeof server.constructor?.name === 'string' ? server.constructor.name : '';
  if (name === 'Http2Server') return 'http2';
  if (name === 'Http2SecureServer') return 'http2-secure';
  if (typeof server.keepAliveTimeout !== 'number' || typeof server.headersTimeout !== 'number') return null;
  return typeof server.setSecureContext === 'function' ? 'https' : 'http';
}

function readOne(server: ServerLike, kind: RawServerSettings['kind'], thread: string): RawServerSettings {
  let address: string | null = null;
  let port: number | null = null;
  try {
    const a = server.address() as { address?: unknown; port?: unknown } | string | null;
    if (typeof a === 'string') address = a;
    else if (a && typeof a === 'object') {
      address = typeof a.address === 'string' ? a.address : null;
      port = typeof a.port === 'number' ? a.port : null;
    }
  } catch {
    // a closed server has no address
  }
  const http1 = kind === 'http' || kind === 'https';
  return {
    kind,
    thread,
    address,
    port,
    listening: server.listening === true,
    keepAliveTimeoutMs: http1 ? msOrNull(server.keepAliveTimeout) : null,
    headersTimeoutMs: http1 ? msOrNull(server.headersTimeout) : null,
    requestTimeoutMs: http1 ? msOrNull(server.requestTimeout) : null,
    // https.Server leaves it unset until assigned (Node 20), which Node treats as no limit, like 0.
    maxRequestsPerSocket: http1 ? (msOrNull(server.maxRequestsPerSocket) ?? 0) : null,
    timeoutMs: msOrNull(server.timeout),
  };
}

/**
 * Starts watching: a server is tracked when it starts listening (`tracing:net.server.listen:asyncEnd`)
 * or receives its first HTTP request (`http.server.request.start`, for servers handed connections
 * without listening themselves). Servers are held through `WeakRef`, so the probe keeps none alive.
 * `onNew` is called (on the next turn, so settings assigned right after `listen()` are in) when a
 * server is first tracked. Never throws into the target.
 */
export function createServerSettingsWatcher(thread: string, onNew: () => void): ServerSettingsWatcher {
  const servers: Array<{ ref: WeakRef<ServerLike>; kind: RawServerSettings['kind'] }> = [];
  const seen = new WeakSet<object>();
  let stopped = false;
  const track = (server: unknown): void => {
    try {
      if (stopped || typeof server !== 'object' || server === null || seen.has(server)) return;
      seen.add(server);
      const s = server as ServerLike;
      if (typeof s.address !== 'function') return;
      const kind = kindOf(s);
      if (kind === null || servers.length >= MAX_SERVERS) return;
      servers.push({ ref: new WeakRef(s), kind });
      setImmediate(() => {
        try {
          if (!stopped) onNew();
        } catch {
          // never throw into the target
        }
      }).unref();
    } catch {
      // never throw into the target
    }
  };
  const onListen = (message: unknown): void => track((message as { server?: unknown } | null)?.server);
  // One WeakSet lookup per request once its server is known.
  const onRequest = (message: unknown): void => track((message as { server?: unknown } | null)?.server);
  const listen = diagnosticsChannel.channel('tracing:net.server.listen:asyncEnd');
  const request = diagnosticsChannel.channel('http.server.request.start');
  listen.subscribe(onListen);
  request.subscribe(onRequest);
  return {
    read() {
      const out: RawServerSettings[] = [];
      for (const { ref, kind } of servers) {
        const s = ref.deref();
        if (s === undefined) continue;
        try {
          out.push(readOne(s, kind, thread));
        } catch {
          // a server whose getters throw is left out
        }
      }
      return out;
    },
    stop() {
      if (stopped) return;
      stopped = true;
      listen.unsubscribe(onListen);
      request.unsubscribe(onRequest);
    },
  };
}

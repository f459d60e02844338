/**
 * What changed, never the values: keys, tags and key prefixes (namespace clears) that receivers
 * must drop from their L1. `sentAtMs` is the sender's `Date.now()`, used to measure propagation lag.
 */
export interface BusMessage {
  /** Id of the sending cache instance (receivers ignore their own messages). */
  source: string;
  sentAtMs: number;
  keys?: readonly string[];
  tags?: readonly string[];
  prefixes?: readonly string[];
}

/** Callbacks a bus delivers to. */
export interface BusHandlers {
  onMessage(message: BusMessage): void;
  /** The bus lost its subscription and got it back; messages in between may be lost. */
  onReconnect(): void;
  onError(err: Error): void;
}

/** Cross-instance invalidation transport. One subscriber per cache instance. */
export interface InvalidationBus {
  publish(message: BusMessage): Promise<void>;
  subscribe(handlers: BusHandlers): Promise<void>;
  /** Unsubscribes and releases connections. Idempotent. */
  close(): Promise<void>;
}

/** Runtime guard for user-supplied buses. */
export function isInvalidationBus(value: unknown): value is InvalidationBus {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.publish === 'function' && typeof v.subscribe === 'function' && typeof v.close === 'function';
}

/** Validates a decoded message; returns undefined for anything malformed (foreign publishers). */
export function parseBusMessage(text: string): BusMessage | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null) return undefined;
  const m = raw as Record<string, unknown>;
  if (typeof m.source !== 'string' || typeof m.sentAtMs !== 'number') return undefined;
  const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
  for (const field of ['keys', 'tags', 'prefixes'] as const) if (m[field] !== undefined && !strings(m[field])) return undefined;
  return m as unknown as BusMessage;
}

/** A hub connecting in-process buses, for tests and single-process multi-cache setups. */
export interface MemoryBusHub {
  /** A new bus attached to this hub. */
  connect(): InvalidationBus;
}

/** Creates an in-process bus hub: every bus from `connect()` receives the others' messages asynchronously. */
export function createMemoryBusHub(): MemoryBusHub {
  const subscribers = new Set<BusHandlers>();
  return {
    connect() {
      let mine: BusHandlers | undefined;
      return {
        async publish(message) {
          const text = JSON.stringify(message);
          setImmediate(() => {
            for (const s of subscribers) {
              const parsed = parseBusMessage(text);
              if (parsed !== undefined) s.onMessage(parsed);
            }
          });
        },
        async subscribe(handlers) {
          mine = handlers;
          subscribers.add(handlers);
        },
        async close() {
          if (mine !== undefined) subscribers.delete(mine);
        },
      };
    },
  };
}

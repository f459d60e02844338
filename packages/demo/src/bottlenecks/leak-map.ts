import type { Bottleneck } from '../bottleneck.js';

interface CartItem {
  sku: number;
  quantity: number;
  note: string;
}

/** One visitor's session: a cart of about 60 items (~7 KB). */
class Session {
  readonly cart: CartItem[];
  constructor(
    readonly id: string,
    readonly startedAt: number,
  ) {
    this.cart = Array.from({ length: 60 }, (_, sku) => ({ sku, quantity: 1, note: `added from ${id}` }));
  }
}

/** The planted problem: sessions are created per request and never expire. */
class SessionStore {
  readonly sessions = new Map<string, Session>();

  /** The session for `id`, created on first use — and never removed. */
  open(id: string): Session {
    let session = this.sessions.get(id);
    if (session === undefined) {
      session = new Session(id, Date.now());
      this.sessions.set(id, session);
    }
    return session;
  }
}

/** Memory leak, Map shape: every request opens a new session in a store that never expires them. */
export function createLeakMap(): Bottleneck {
  const store = new SessionStore();
  let visitors = 0;
  return {
    handle(req) {
      // No cookie in the load test: every request is a new visitor, as crawlers and health checks are.
      const id = req.headers.cookie ?? `visitor-${visitors++}`;
      const session = store.open(id);
      return { session: session.id, items: session.cart.length };
    },
    async close() {
      store.sessions.clear();
    },
  };
}

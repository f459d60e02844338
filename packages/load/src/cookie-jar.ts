/**
 * A per-VU cookie jar: remembers `Set-Cookie` by host and sends matching cookies back.
 * Deliberately small: host-only matching with domain suffixes, path prefix, Max-Age/Expires
 * deletion. Bounded to `maxCookies` per jar.
 */
export class CookieJar {
  readonly #cookies = new Map<string, { name: string; value: string; domain: string; path: string; expiresAt: number }>();
  readonly #maxCookies: number;

  constructor(maxCookies = 300) {
    this.#maxCookies = maxCookies;
  }

  /** Stores cookies from `Set-Cookie` header values received from `url`. */
  store(url: URL, setCookie: readonly string[], nowMs = Date.now()): void {
    for (const header of setCookie) {
      const [pair, ...attrs] = header.split(';');
      const eq = pair?.indexOf('=') ?? -1;
      if (!pair || eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let domain = url.hostname;
      let path = '/';
      let expiresAt = Infinity;
      for (const attr of attrs) {
        const [k, v = ''] = attr.split('=').map((s) => s.trim());
        const key = k?.toLowerCase();
        if (key === 'domain' && v) domain = v.replace(/^\./, '').toLowerCase();
        else if (key === 'path' && v.startsWith('/')) path = v;
        else if (key === 'max-age') expiresAt = nowMs + Number(v) * 1000;
        else if (key === 'expires' && expiresAt === Infinity) {
          const t = Date.parse(v);
          if (!Number.isNaN(t)) expiresAt = t;
        }
      }
      const id = `${domain}|${path}|${name}`;
      if (expiresAt <= nowMs) {
        this.#cookies.delete(id);
        continue;
      }
      if (!this.#cookies.has(id) && this.#cookies.size >= this.#maxCookies) {
        const oldest = this.#cookies.keys().next().value;
        if (oldest !== undefined) this.#cookies.delete(oldest);
      }
      this.#cookies.set(id, { name, value, domain, path, expiresAt });
    }
  }

  /** The `Cookie` header value for a request to `url`, or null when no cookie matches. */
  header(url: URL, nowMs = Date.now()): string | null {
    if (this.#cookies.size === 0) return null;
    const host = url.hostname.toLowerCase();
    const parts: string[] = [];
    for (const [id, c] of this.#cookies) {
      if (c.expiresAt <= nowMs) {
        this.#cookies.delete(id);
        continue;
      }
      const domainOk = host === c.domain || host.endsWith(`.${c.domain}`);
      if (domainOk && url.pathname.startsWith(c.path)) parts.push(`${c.name}=${c.value}`);
    }
    return parts.length ? parts.join('; ') : null;
  }

  /** Cookies as name → value for a URL (what would be sent). */
  get(url: URL): Record<string, string> {
    const out: Record<string, string> = {};
    for (const part of this.header(url)?.split('; ') ?? []) {
      const eq = part.indexOf('=');
      out[part.slice(0, eq)] = part.slice(eq + 1);
    }
    return out;
  }

  /** Removes every cookie. */
  clear(): void {
    this.#cookies.clear();
  }
}

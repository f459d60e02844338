import { Cookie, CookieJar as ToughJar, cookieCompare } from 'tough-cookie';

/**
 * A per-VU cookie jar: RFC 6265 storage and matching by `tough-cookie` (domain checked against
 * the host and the public-suffix list, path-match on `/` boundaries, `Secure` only over https,
 * an invalid `Max-Age` ignored so `Expires` applies). Bounded to `maxCookies` per jar: the oldest
 * cookie goes when a new one would exceed it.
 *
 * `nowMs` parameters make expiry testable without sleeping; they default to `Date.now()`.
 */
export class CookieJar {
  readonly #jar = new ToughJar(undefined, { rejectPublicSuffixes: true, allowSecureOnLocal: false, allowSpecialUseDomain: true });
  /** Stored cookies by `domain|path|name`, oldest first: the bound and the empty-jar fast path. */
  readonly #index = new Map<string, Cookie>();
  readonly #maxCookies: number;
  /**
   * `Cookie` header by scheme, host and path, valid until the earliest expiry among its cookies;
   * cleared whenever the jar changes. A lookup in tough-cookie costs ~20 µs; scripts ask for the
   * same few URLs again and again.
   */
  readonly #headers = new Map<string, { value: string | null; until: number }>();

  constructor(maxCookies = 300) {
    if (!(Number.isInteger(maxCookies) && maxCookies > 0)) throw new RangeError(`maxCookies must be a positive integer, got ${String(maxCookies)}`);
    this.#maxCookies = maxCookies;
  }

  /** Stores cookies from `Set-Cookie` header values received from `url`; cookies the RFC rejects are dropped. */
  store(url: URL, setCookie: readonly string[], nowMs = Date.now()): void {
    const now = new Date(nowMs);
    for (const header of setCookie) {
      const parsed = Cookie.parse(header);
      if (!parsed) continue;
      // Max-Age becomes an absolute expiry at receipt (RFC 6265 §5.2.2). tough-cookie would count
      // it from the last access instead, which every request moves forward.
      if (typeof parsed.maxAge === 'number') {
        parsed.expires = parsed.maxAge <= 0 ? new Date(0) : new Date(nowMs + parsed.maxAge * 1000);
        parsed.maxAge = null;
      }
      const stored = this.#jar.setCookieSync(parsed, url.href, { now, ignoreError: true });
      if (!stored) continue;
      this.#headers.clear();
      const id = `${stored.domain ?? ''}|${stored.path ?? ''}|${stored.key}`;
      if (expiresAt(stored) <= nowMs) {
        this.#remove(id, stored);
        continue;
      }
      this.#index.delete(id);
      this.#index.set(id, stored);
      if (this.#index.size > this.#maxCookies) {
        const [oldestId, oldest] = this.#index.entries().next().value!;
        this.#remove(oldestId, oldest);
      }
    }
  }

  /** The `Cookie` header value for a request to `url`, or null when no cookie matches. */
  header(url: URL, nowMs = Date.now()): string | null {
    if (this.#index.size === 0) return null;
    const key = `${url.protocol}//${url.host}${url.pathname}`;
    const hit = this.#headers.get(key);
    if (hit && nowMs < hit.until) return hit.value;
    const cookies = this.#matching(url, nowMs);
    const value = cookies.length ? cookies.map((c) => c.cookieString()).join('; ') : null;
    let until = Infinity;
    for (const c of cookies) until = Math.min(until, expiresAt(c));
    if (this.#headers.size >= MAX_CACHED_HEADERS) this.#headers.clear();
    this.#headers.set(key, { value, until });
    return value;
  }

  /** Cookies as name → value for a URL (what would be sent). */
  get(url: URL, nowMs = Date.now()): Record<string, string> {
    const out: Record<string, string> = {};
    for (const c of this.#matching(url, nowMs)) out[c.key] = c.value;
    return out;
  }

  /** Removes every cookie. */
  clear(): void {
    this.#jar.removeAllCookiesSync();
    this.#index.clear();
    this.#headers.clear();
  }

  /** Matching, unexpired cookies in RFC order (longer paths first, then older); expired ones are removed. */
  #matching(url: URL, nowMs: number): Cookie[] {
    if (this.#index.size === 0) return [];
    const found = this.#jar.getCookiesSync(url.href, { expire: false });
    const live: Cookie[] = [];
    for (const c of found) {
      if (expiresAt(c) <= nowMs) this.#remove(`${c.domain ?? ''}|${c.path ?? ''}|${c.key}`, c);
      else live.push(c);
    }
    return live.length > 1 ? live.sort(cookieCompare) : live;
  }

  #remove(id: string, c: Cookie): void {
    this.#index.delete(id);
    this.#headers.clear();
    this.#jar.store.removeCookie(c.domain, c.path, c.key, () => undefined);
  }
}

const MAX_CACHED_HEADERS = 256;

/** Absolute expiry in ms since the epoch; Infinity for a session cookie. */
function expiresAt(c: Cookie): number {
  return c.expires instanceof Date ? c.expires.getTime() : Infinity;
}

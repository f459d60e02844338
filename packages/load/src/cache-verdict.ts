/**
 * Cache verdicts: whether a cache in front of the origin (a CDN, Varnish, nginx) served a response,
 * read from the headers caches add. The HTTP/1.1 parser feeds only the few headers named here into
 * one `CacheScan` per connection, and the result travels as one small integer on the `Exchange`
 * (`cache`), so the fast path pays a few character compares per header line and nothing per
 * response of a server that sends none of these headers.
 */

/** Verdicts, indexed by the low 3 bits of `Exchange.cache`. */
export const CACHE_VERDICTS = ['unknown', 'hit', 'miss', 'stale', 'bypass'] as const;
/** A cache verdict: served from cache (`hit`), fetched from the origin (`miss`), served or revalidated stale (`stale`), not looked up (`bypass`), or no cache header (`unknown`). */
export type CacheVerdictName = (typeof CACHE_VERDICTS)[number];

export const VERDICT_UNKNOWN = 0;
export const VERDICT_HIT = 1;
export const VERDICT_MISS = 2;
export const VERDICT_STALE = 3;
export const VERDICT_BYPASS = 4;
const VERDICT_MASK = 7;

/** Header problems, as bits above the verdict. Each is evaluated with the request method and status. */
export const CACHE_PROBLEMS = ['uncacheable', 'varyStar', 'setCookieOnCacheable', 'noValidators'] as const;
/** A header problem of a response (see docs/protocols.md, "Cache verdicts"). */
export type CacheProblemName = (typeof CACHE_PROBLEMS)[number];
/** A GET/HEAD 200 marked `no-store`, `private`, `no-cache` or `max-age=0` (without a positive `s-maxage`). */
export const PROBLEM_UNCACHEABLE = 1 << 3;
/** `Vary: *`: no cache can ever reuse the response. */
export const PROBLEM_VARY_STAR = 1 << 4;
/** `Set-Cookie` on a response a shared cache may store (or did serve): one user's cookie served to others. */
export const PROBLEM_SET_COOKIE = 1 << 5;
/** A cacheable GET 200 with neither `ETag` nor `Last-Modified`: every expiry refetches the whole body. */
export const PROBLEM_NO_VALIDATORS = 1 << 6;

/** Header ids for `CacheScan.add`, from `cacheHeaderId`. */
const H_CACHE_STATUS = 0;
const H_CF_CACHE_STATUS = 1;
const H_X_CACHE = 2;
const H_X_VARNISH = 3;
const H_AGE = 4;
const H_VIA = 5;
const H_CACHE_CONTROL = 6;
const H_VARY = 7;
const H_SET_COOKIE = 8;
const H_ETAG = 9;
const H_LAST_MODIFIED = 10;
const H_EXPIRES = 11;
const H_PRAGMA = 12;

/** True when `s` at `at` holds `lower` case-insensitively (ASCII; `lower` is lower-case). */
function equalsLower(s: string, at: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    if ((s.charCodeAt(at + i) | 0x20) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * The id of a cache-related header whose name is `s[at, at + length)`, or -1. Matches by first
 * letter and length before comparing, so other headers cost two compares.
 */
export function cacheHeaderId(s: string, at: number, length: number): number {
  switch (s.charCodeAt(at) | 0x20) {
    case 0x61 /* a */:
      return length === 3 && equalsLower(s, at, 'age') ? H_AGE : -1;
    case 0x63 /* c */:
      if (length === 13) {
        if (equalsLower(s, at, 'cache-control')) return H_CACHE_CONTROL;
      } else if (length === 12) {
        if (equalsLower(s, at, 'cache-status')) return H_CACHE_STATUS;
      } else if (length === 15 && equalsLower(s, at, 'cf-cache-status')) return H_CF_CACHE_STATUS;
      return -1;
    case 0x65 /* e */:
      if (length === 4) return equalsLower(s, at, 'etag') ? H_ETAG : -1;
      return length === 7 && equalsLower(s, at, 'expires') ? H_EXPIRES : -1;
    case 0x6c /* l */:
      return length === 13 && equalsLower(s, at, 'last-modified') ? H_LAST_MODIFIED : -1;
    case 0x70 /* p */:
      return length === 6 && equalsLower(s, at, 'pragma') ? H_PRAGMA : -1;
    case 0x73 /* s */:
      return length === 10 && equalsLower(s, at, 'set-cookie') ? H_SET_COOKIE : -1;
    case 0x76 /* v */:
      if (length === 3) return equalsLower(s, at, 'via') ? H_VIA : -1;
      return length === 4 && equalsLower(s, at, 'vary') ? H_VARY : -1;
    case 0x78 /* x */:
      if (length === 7) return equalsLower(s, at, 'x-cache') ? H_X_CACHE : -1;
      return length === 9 && equalsLower(s, at, 'x-varnish') ? H_X_VARNISH : -1;
    default:
      return -1;
  }
}

/** The cache-related header id of a lower-case header name (for parsed header objects), or -1. */
export function cacheHeaderIdOf(lowerName: string): number {
  return cacheHeaderId(lowerName, 0, lowerName.length);
}

/** Verdict of one RFC 9211 Cache-Status member (`name; hit`, `name; fwd=miss; stored`, ...). */
function cacheStatusMember(member: string): number {
  const m = member.toLowerCase();
  // `hit` as a bare parameter; a negative ttl on a hit means the response was served stale.
  if (/;\s*hit\s*(;|$)/.test(m)) return /;\s*ttl=-/.test(m) ? VERDICT_STALE : VERDICT_HIT;
  const fwd = /;\s*fwd=([a-z-]+)/.exec(m)?.[1];
  switch (fwd) {
    case undefined:
      return VERDICT_UNKNOWN;
    case 'stale':
      return VERDICT_STALE;
    case 'bypass':
    case 'method':
    case 'request':
      return VERDICT_BYPASS;
    default:
      // uri-miss, vary-miss, miss, partial
      return VERDICT_MISS;
  }
}

/**
 * RFC 9211: members run from the cache nearest the origin to the one nearest the client. Any hit
 * means the origin did not produce the response; otherwise the member nearest the client decides.
 */
export function parseCacheStatus(value: string): number {
  let nearest = VERDICT_UNKNOWN;
  let stale = false;
  for (const member of value.split(',')) {
    const v = cacheStatusMember(member);
    if (v === VERDICT_HIT) return VERDICT_HIT;
    if (v === VERDICT_STALE) stale = true;
    if (v !== VERDICT_UNKNOWN) nearest = v;
  }
  return stale ? VERDICT_STALE : nearest;
}

/** Cloudflare's `CF-Cache-Status`. */
export function parseCfCacheStatus(value: string): number {
  switch (value.trim().toUpperCase()) {
    case 'HIT':
      return VERDICT_HIT;
    case 'MISS':
    case 'EXPIRED':
      return VERDICT_MISS;
    case 'STALE':
    case 'UPDATING':
    case 'REVALIDATED':
      return VERDICT_STALE;
    case 'BYPASS':
    case 'DYNAMIC':
    case 'NONE':
    case 'NONE/UNKNOWN':
      return VERDICT_BYPASS;
    default:
      return VERDICT_UNKNOWN;
  }
}

/**
 * `X-Cache` in its common spellings: `HIT`, `MISS`, `Hit from cloudfront`, `RefreshHit from
 * cloudfront`, squid's `TCP_MISS`, Fastly's `HIT, MISS` (one entry per cache; any hit wins).
 */
export function parseXCache(value: string): number {
  const v = value.toLowerCase();
  if (v.includes('refreshhit') || v.includes('stale')) return VERDICT_STALE;
  if (v.includes('hit')) return VERDICT_HIT;
  if (v.includes('miss')) return VERDICT_MISS;
  if (v.includes('pass') || v.includes('bypass')) return VERDICT_BYPASS;
  return VERDICT_UNKNOWN;
}

/** `X-Varnish`: two transaction ids (this request and the one that stored the object) mean a hit. */
export function parseXVarnish(value: string): number {
  const ids = value.trim().split(/\s+/).filter(Boolean);
  if (ids.length >= 2) return VERDICT_HIT;
  return ids.length === 1 ? VERDICT_MISS : VERDICT_UNKNOWN;
}

/**
 * Accumulates the cache headers of one response. One per connection, reset per response; `add`
 * is called only for headers `cacheHeaderId` recognised, so its string work is off the fast path
 * of servers without caches.
 */
export class CacheScan {
  #seen = false;
  #cacheStatus = VERDICT_UNKNOWN;
  #cf = VERDICT_UNKNOWN;
  #xCache = VERDICT_UNKNOWN;
  #xVarnish = VERDICT_UNKNOWN;
  #age = -1;
  #via = false;
  #uncacheable = false;
  #cacheable = false;
  #varyStar = false;
  #setCookie = false;
  #validator = false;
  #expires: string | null = null;
  #hasCacheControl = false;

  reset(): void {
    if (!this.#seen) return;
    this.#seen = false;
    this.#cacheStatus = this.#cf = this.#xCache = this.#xVarnish = VERDICT_UNKNOWN;
    this.#age = -1;
    this.#via = this.#uncacheable = this.#cacheable = this.#varyStar = this.#setCookie = this.#validator = this.#hasCacheControl = false;
    this.#expires = null;
  }

  /** Adds one header (id from `cacheHeaderId`) with its raw value. */
  add(id: number, value: string): void {
    this.#seen = true;
    switch (id) {
      case H_CACHE_STATUS: {
        const v = parseCacheStatus(value);
        if (v !== VERDICT_UNKNOWN) this.#cacheStatus = v;
        break;
      }
      case H_CF_CACHE_STATUS:
        this.#cf = parseCfCacheStatus(value);
        break;
      case H_X_CACHE:
        this.#xCache = parseXCache(value);
        break;
      case H_X_VARNISH:
        this.#xVarnish = parseXVarnish(value);
        break;
      case H_AGE: {
        const n = Number.parseInt(value.trim(), 10);
        if (Number.isFinite(n) && n >= 0) this.#age = n;
        break;
      }
      case H_VIA:
        this.#via = true;
        break;
      case H_CACHE_CONTROL:
        this.#hasCacheControl = true;
        this.#cacheControl(value);
        break;
      case H_PRAGMA:
        if (value.toLowerCase().includes('no-cache')) this.#uncacheable = true;
        break;
      case H_VARY:
        if (value.split(',').some((t) => t.trim() === '*')) this.#varyStar = true;
        break;
      case H_SET_COOKIE:
        this.#setCookie = true;
        break;
      case H_ETAG:
      case H_LAST_MODIFIED:
        this.#validator = true;
        break;
      case H_EXPIRES:
        this.#expires = value.trim();
        break;
    }
  }

  #cacheControl(value: string): void {
    let maxAgeZero = false;
    let sharedPositive = false;
    for (const raw of value.toLowerCase().split(',')) {
      const d = raw.trim();
      const eq = d.indexOf('=');
      const name = eq === -1 ? d : d.slice(0, eq).trim();
      const arg = eq === -1 ? '' : d.slice(eq + 1).trim().replace(/^"|"$/g, '');
      switch (name) {
        case 'no-store':
        case 'private':
        case 'no-cache':
          this.#uncacheable = true;
          break;
        case 'public':
          this.#cacheable = true;
          break;
        case 'max-age': {
          const n = Number.parseInt(arg, 10);
          if (n > 0) this.#cacheable = true;
          else if (n === 0) maxAgeZero = true;
          break;
        }
        case 's-maxage': {
          const n = Number.parseInt(arg, 10);
          if (n > 0) {
            this.#cacheable = true;
            sharedPositive = true;
          }
          break;
        }
      }
    }
    if (maxAgeZero && !sharedPositive) this.#uncacheable = true;
  }

  /** The verdict alone (low bits of `result`). */
  verdict(): number {
    if (this.#cacheStatus !== VERDICT_UNKNOWN) return this.#cacheStatus;
    if (this.#cf !== VERDICT_UNKNOWN) return this.#cf;
    if (this.#xCache !== VERDICT_UNKNOWN) return this.#xCache;
    if (this.#xVarnish !== VERDICT_UNKNOWN) return this.#xVarnish;
    // Age > 0: a cache held the response for that long (RFC 9111 §5.1). Age 0 behind a Via:
    // a cache passed on what it just fetched.
    if (this.#age > 0) return VERDICT_HIT;
    if (this.#age === 0 && this.#via) return VERDICT_MISS;
    return VERDICT_UNKNOWN;
  }

  /**
   * The response's verdict and problem bits: 0 for an `unknown` verdict without problems, so
   * responses of servers without caches cost nothing downstream.
   * @param get the request was GET or HEAD.
   */
  result(get: boolean, status: number): number {
    if (!this.#seen) return 0;
    const verdict = this.verdict();
    let bits = verdict;
    if (this.#varyStar) bits |= PROBLEM_VARY_STAR;
    const ok = get && status === 200;
    if (ok && this.#uncacheable) bits |= PROBLEM_UNCACHEABLE;
    let cacheable = this.#cacheable && !this.#uncacheable;
    if (!cacheable && !this.#hasCacheControl && this.#expires !== null) {
      const at = Date.parse(this.#expires);
      cacheable = Number.isFinite(at) && at > Date.now();
    }
    const served = verdict === VERDICT_HIT || verdict === VERDICT_STALE;
    if (this.#setCookie && (cacheable || served)) bits |= PROBLEM_SET_COOKIE;
    if (ok && cacheable && !this.#validator) bits |= PROBLEM_NO_VALIDATORS;
    return bits;
  }
}

/** The verdict index (0–4, into `CACHE_VERDICTS`) of `Exchange.cache` bits. */
export function verdictOf(bits: number): number {
  return bits & VERDICT_MASK;
}

/** Cache bits of a response given as a header object (node:http2 and other parsed heads). */
export function cacheBitsOfHeaders(headers: Record<string, string | string[] | number | undefined>, get: boolean, status: number): number {
  let scan: CacheScan | null = null;
  for (const name in headers) {
    const id = cacheHeaderIdOf(name.toLowerCase());
    if (id < 0) continue;
    const v = headers[name];
    if (v === undefined) continue;
    scan ??= new CacheScan();
    for (const one of Array.isArray(v) ? v : [v]) scan.add(id, String(one));
  }
  return scan ? scan.result(get, status) : 0;
}

import type { Bottleneck } from '../bottleneck.js';

interface CachedPage {
  body: string;
  headers: Record<string, string>;
  createdAt: number;
}

/** The planted problem: a response cache with no size limit and no expiry. */
class ResponseCache {
  readonly entries: Record<string, CachedPage> = {};

  get(key: string): CachedPage | undefined {
    return this.entries[key];
  }

  set(key: string, page: CachedPage): void {
    this.entries[key] = page;
  }
}

const cache = new ResponseCache();

/** Memory leak, cache shape: the cache key includes a request id, so nothing is ever hit or evicted. */
export function createLeakCache(): Bottleneck {
  let requestId = 0;
  return {
    handle(req, url) {
      const key = `${url.pathname}${url.search}#${String(req.headers['x-request-id'] ?? requestId++)}`;
      let page = cache.get(key);
      if (page === undefined) {
        // join, not repeat: V8 builds a repeated string from shared halves, which would keep almost nothing.
        page = { body: `<ul>${Array.from({ length: 600 }, (_, i) => `<li>product ${i}</li>`).join('')}</ul><!-- ${key} -->`, headers: { 'content-type': 'text/html' }, createdAt: Date.now() };
        cache.set(key, page);
      }
      return { cached: key, bytes: page.body.length };
    },
    async close() {
      for (const k of Object.keys(cache.entries)) delete cache.entries[k];
    },
  };
}

import type { Bottleneck } from '../bottleneck.js';

/** A well-behaved handler: a little work, no waiting, nothing kept. */
export function createHealthy(): Bottleneck {
  let served = 0;
  return {
    handle(_req, url) {
      served++;
      return { ok: true, path: url.pathname, served };
    },
    async close() {},
  };
}

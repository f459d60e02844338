import type { Bottleneck } from '../bottleneck.js';

/** The planted problem: cleanup callbacks registered per request, run only at shutdown. */
const shutdownHooks: Array<() => number> = [];

/** Registers `hook` to run at shutdown — called once per request, so the list only grows. */
export function onShutdown(hook: () => number): void {
  shutdownHooks.push(hook);
}

/** A rendered page of about 12 KB. */
function renderPage(path: string, n: number): string {
  // join, not repeat: V8 builds a repeated string from shared halves, which would keep almost nothing.
  return `<html><body><h1>${path}</h1>${Array.from({ length: 500 }, (_, i) => `<p>product row ${i}</p>`).join('')}<footer>${n}</footer></body></html>`;
}

/** Memory leak, closure shape: each request's callback keeps its rendered page alive. */
export function createLeakClosures(): Bottleneck {
  let served = 0;
  return {
    handle(_req, url) {
      const page = renderPage(url.pathname, served++);
      onShutdown(() => page.length);
      return { bytes: page.length };
    },
    async close() {
      for (const hook of shutdownHooks.splice(0)) hook();
    },
  };
}

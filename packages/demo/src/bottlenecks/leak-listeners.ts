import { EventEmitter } from 'node:events';
import type { Bottleneck } from '../bottleneck.js';

/** Application-wide configuration events (reloads). */
const configEvents = new EventEmitter();

/** A per-request view of the settings (~6 KB), refreshed on reload. */
function settingsView(path: string): { path: string; rows: string[] } {
  return { path, rows: Array.from({ length: 40 }, (_, i) => `setting-${i}=${'v'.repeat(100)}`) };
}

/** Memory leak, listener shape: every request subscribes to config reloads and never unsubscribes. */
export function createLeakListeners(): Bottleneck {
  return {
    handle(_req, url) {
      let view = settingsView(url.pathname);
      // The planted problem: a listener per request, never removed (Node warns once past 10).
      configEvents.on('reload', () => {
        view = settingsView(url.pathname);
      });
      return { settings: view.rows.length, listeners: configEvents.listenerCount('reload') };
    },
    async close() {
      configEvents.removeAllListeners();
    },
  };
}

import { Agent, get } from 'node:http';
import { Worker } from 'node:worker_threads';
import type { Bottleneck } from '../bottleneck.js';

/** How long the upstream takes to answer, in ms. */
const UPSTREAM_DELAY_MS = 120;

/** The planted problem: each request waits for a slow upstream inventory service. */
export function fetchInventory(agent: Agent, port: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port, path: '/inventory', agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(JSON.parse(body) as unknown));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/**
 * Slow downstream: starts the upstream (a worker thread on 127.0.0.1, port 0) once the service listens
 * (so the probe takes the service's port, not the upstream's), and awaits it in every request.
 */
export function createSlowDownstream(): Bottleneck {
  let worker: Worker | null = null;
  let start!: () => void;
  const started = new Promise<void>((resolve) => (start = resolve));
  const port = started.then(
    () =>
      new Promise<number>((resolve, reject) => {
        worker = new Worker(new URL('../upstream.js', import.meta.url), { workerData: { delayMs: UPSTREAM_DELAY_MS } });
        worker.once('message', (m: { port: number }) => resolve(m.port));
        worker.once('error', reject);
      }),
  );
  // Requests that fail on a broken upstream answer 503 through handle(); nothing else awaits this.
  port.catch(() => undefined);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  return {
    async handle() {
      return { upstream: await fetchInventory(agent, await port) };
    },
    afterListen() {
      start();
    },
    async close() {
      agent.destroy();
      const w = worker as Worker | null;
      if (w === null) return;
      w.postMessage('close');
      await new Promise((resolve) => w.once('exit', resolve));
    },
  };
}

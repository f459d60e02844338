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

/** Slow downstream: starts the upstream (127.0.0.1, port 0) and awaits it in every request. */
export async function createSlowDownstream(): Promise<Bottleneck> {
  const worker = new Worker(new URL('../upstream.js', import.meta.url), { workerData: { delayMs: UPSTREAM_DELAY_MS } });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', (m: { port: number }) => resolve(m.port));
    worker.once('error', reject);
  });
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  return {
    async handle() {
      return { upstream: await fetchInventory(agent, port) };
    },
    async close() {
      agent.destroy();
      worker.postMessage('close');
      await new Promise((resolve) => worker.once('exit', resolve));
    },
  };
}

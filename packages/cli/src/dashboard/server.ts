import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ErrorCodes, RedlineError, type RunResult } from '@redline/core';
import { loadDashboardAssets, type DashboardAssets } from '@redline/report';
import { secondRecord } from '../outputs/json.js';
import type { Output, OutputSecond, OutputStart } from '../outputs/types.js';
import { liveNotes } from './live-notes.js';
import { dashboardPage } from './page.js';

/** k6's dashboard port. */
export const DEFAULT_DASHBOARD_PORT = 5665;
/** Seconds kept for a browser that connects late (an hour at one point per second). */
const HISTORY_LIMIT = 3600;
/** At most this many browsers at once; more get 503. */
const MAX_CLIENTS = 16;

const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Verdict as the report shows it. */
function verdictOf(r: RunResult): { verdict: string; cls: 'ok' | 'bad' | 'warn' } {
  if (r.status === 'aborted') return { verdict: 'ABORTED', cls: 'bad' };
  if (r.thresholds.some((t) => !t.ok)) return { verdict: 'THRESHOLDS FAILED', cls: 'bad' };
  if (r.status === 'interrupted') return { verdict: 'INTERRUPTED', cls: 'warn' };
  if (r.generator.limited) return { verdict: 'GENERATOR-LIMITED', cls: 'warn' };
  return { verdict: r.thresholds.length ? 'PASSED' : 'COMPLETED', cls: 'ok' };
}

/**
 * `--dashboard`: an HTTP server on loopback with a page that draws the report's charts live from
 * server-sent events (`/events`: `start`, a `snapshot` of the seconds so far, one `second` per
 * second, the final `result` with thresholds and findings). Only loopback Host headers are
 * answered, so a web page elsewhere cannot read it through DNS rebinding.
 */
export class Dashboard implements Output {
  readonly label: string;
  readonly #port: number;
  readonly #host: string;
  #server: Server | null = null;
  readonly #clients = new Set<ServerResponse>();
  readonly #history: string[] = [];
  #start: string | null = null;
  #result: string | null = null;
  #assets: DashboardAssets | null = null;
  #boundPort = 0;

  constructor(port = DEFAULT_DASHBOARD_PORT, host = '127.0.0.1') {
    this.#port = port;
    this.#host = host;
    this.label = `dashboard=http://${host}:${port}/`;
  }

  /** The page's address once open (the real port when 0 was asked). */
  get url(): string {
    return `http://${this.#host}:${this.#boundPort || this.#port}/`;
  }

  async open(): Promise<void> {
    this.#assets = loadDashboardAssets();
    const server = createServer((req, res) => this.#handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        reject(
          new RedlineError(
            ErrorCodes.USAGE,
            err.code === 'EADDRINUSE' ? `--dashboard: port ${this.#port} on ${this.#host} is in use; choose another with --dashboard-port` : `--dashboard: cannot listen on ${this.#host}:${this.#port} (${err.code ?? err.message})`,
            { cause: err },
          ),
        );
      });
      server.listen(this.#port, this.#host, () => resolve());
    });
    server.on('error', () => undefined);
    this.#server = server;
    this.#boundPort = (server.address() as AddressInfo).port;
  }

  start(info: OutputStart): void {
    this.#start = JSON.stringify(info);
    this.#broadcast('start', this.#start);
  }

  second(s: OutputSecond): void {
    const data = JSON.stringify({ ...secondRecord(s, null), latencyHistogram: undefined, elapsedMs: s.status.elapsedMs, plannedMs: s.status.plannedMs, notes: liveNotes(s.status) });
    this.#history.push(data);
    if (this.#history.length > HISTORY_LIMIT) this.#history.shift();
    this.#broadcast('second', data);
  }

  end(r: RunResult): Promise<void> {
    this.#result = JSON.stringify({
      ...verdictOf(r),
      status: r.status,
      thresholds: r.thresholds,
      findings: r.findings.map((f) => ({ category: f.category, severity: f.severity, title: f.title })),
      requests: r.summary.requests,
    });
    this.#broadcast('result', this.#result);
    return Promise.resolve();
  }

  async close(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    for (const c of this.#clients) c.end();
    this.#clients.clear();
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #broadcast(event: string, data: string): void {
    const frame = `event: ${event}\ndata: ${data}\n\n`;
    for (const c of this.#clients) c.write(frame);
  }

  #hostAllowed(req: IncomingMessage): boolean {
    const host = (req.headers.host ?? '').toLowerCase();
    const port = String(this.#boundPort);
    return [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`].includes(host);
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    if (!this.#hostAllowed(req)) {
      res.writeHead(403, { 'content-type': 'text/plain' }).end('forbidden: the dashboard answers loopback host names only\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const path = (req.url ?? '/').split('?')[0];
    const a = this.#assets!;
    const files: Record<string, [string, string]> = {
      '/': ['text/html; charset=utf-8', dashboardPage()],
      '/uplot.js': ['text/javascript; charset=utf-8', a.uplotJs],
      '/charts.js': ['text/javascript; charset=utf-8', a.chartsJs],
      '/dashboard.js': ['text/javascript; charset=utf-8', a.dashboardJs],
      '/uplot.css': ['text/css; charset=utf-8', a.uplotCss],
      '/report.css': ['text/css; charset=utf-8', a.reportCss],
    };
    if (path === '/events') return this.#events(res);
    const file = path !== undefined && Object.hasOwn(files, path) ? files[path] : undefined;
    if (!file) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    res.writeHead(200, { 'content-type': file[0], 'cache-control': 'no-store', 'content-security-policy': CSP, 'x-content-type-options': 'nosniff' }).end(file[1]);
  }

  #events(res: ServerResponse): void {
    if (this.#clients.size >= MAX_CLIENTS) {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('too many dashboard clients\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-content-type-options': 'nosniff' });
    res.write('retry: 2000\n\n');
    if (this.#start) res.write(`event: start\ndata: ${this.#start}\n\n`);
    if (this.#history.length) res.write(`event: snapshot\ndata: [${this.#history.join(',')}]\n\n`);
    if (this.#result) res.write(`event: result\ndata: ${this.#result}\n\n`);
    this.#clients.add(res);
    res.on('close', () => this.#clients.delete(res));
  }
}

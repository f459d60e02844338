// Redline demo service: a small HTTP server with one selectable planted bottleneck.
// Usage: node dist/server.js [--bottleneck NAME]   (or REDLINE_DEMO_BOTTLENECK=NAME; PORT=0 by default)
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { BOTTLENECKS, type Bottleneck, type BottleneckName } from './bottleneck.js';
import { createCpuSaturation } from './bottlenecks/cpu-saturation.js';
import { createEventLoopBlock } from './bottlenecks/event-loop-block.js';
import { createGcChurn } from './bottlenecks/gc-churn.js';
import { createGcYoung } from './bottlenecks/gc-young.js';
import { createSyncFs } from './bottlenecks/sync-fs.js';
import { createHealthy } from './bottlenecks/healthy.js';
import { createMemoryLeak } from './bottlenecks/memory-leak.js';
import { createPoolStarvation } from './bottlenecks/pool-starvation.js';
import { createNPlusOne } from './bottlenecks/n-plus-one.js';
import { createSlowQuery } from './bottlenecks/slow-query.js';
import { createSlowDownstream } from './bottlenecks/slow-downstream.js';
import { createThreadpool } from './bottlenecks/threadpool.js';
import { createOverload } from './bottlenecks/overload.js';
import { createLeakCache } from './bottlenecks/leak-cache.js';
import { createLeakClosures } from './bottlenecks/leak-closures.js';
import { createLeakListeners } from './bottlenecks/leak-listeners.js';
import { createLeakMap } from './bottlenecks/leak-map.js';
import { demoLimiter, pickLimiter } from './limiter.js';

const FACTORIES: Record<BottleneckName, () => Bottleneck | Promise<Bottleneck>> = {
  healthy: createHealthy,
  'event-loop-block': createEventLoopBlock,
  'cpu-saturation': createCpuSaturation,
  'gc-churn': createGcChurn,
  'gc-young': createGcYoung,
  'sync-fs': createSyncFs,
  'memory-leak': createMemoryLeak,
  'slow-downstream': createSlowDownstream,
  'pool-starvation': createPoolStarvation,
  'n-plus-one': createNPlusOne,
  'slow-query': createSlowQuery,
  threadpool: createThreadpool,
  overload: createOverload,
  'leak-map': createLeakMap,
  'leak-closures': createLeakClosures,
  'leak-listeners': createLeakListeners,
  'leak-cache': createLeakCache,
};

/** The value of `--flag NAME` / `--flag=NAME` in argv, if present. */
export function flagValue(argv: string[], flag: string): string | undefined {
  const i = argv.findIndex((a) => a === flag || a.startsWith(`${flag}=`));
  if (i < 0) return undefined;
  const arg = argv[i]!;
  return arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : (argv[i + 1] ?? '');
}

function pickBottleneck(argv: string[], env: NodeJS.ProcessEnv): string {
  return flagValue(argv, '--bottleneck') ?? env.REDLINE_DEMO_BOTTLENECK ?? 'healthy';
}

const name = pickBottleneck(process.argv.slice(2), process.env);
const limiterName = pickLimiter(flagValue(process.argv.slice(2), '--limiter') ?? process.env.REDLINE_DEMO_LIMITER);
if (!(BOTTLENECKS as readonly string[]).includes(name)) {
  process.stderr.write(`unknown bottleneck "${name}"; choose one of: ${BOTTLENECKS.join(', ')}\n`);
  process.exitCode = 2;
} else if (limiterName === null) {
  process.stderr.write(`unknown limiter; choose one of: off, gradient2, vegas, aimd, fixed\n`);
  process.exitCode = 2;
} else {
  const port = Number(process.env.PORT ?? 0);
  const bottleneck = await FACTORIES[name as BottleneckName]();
  const serve = (req: IncomingMessage, res: ServerResponse, url: URL): void => {
    Promise.resolve()
      .then(() => bottleneck.handle(req, url))
      .then(
        (body) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body)),
        (err: unknown) => res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ error: String(err) })),
      );
  };
  // With --limiter, @redline/flow admits requests (the rest get 503 + Retry-After); /health stays open.
  const limited = limiterName === 'off' ? null : demoLimiter(limiterName, (req, res) => serve(req, res, new URL(req.url ?? '/', 'http://demo.local')));
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://demo.local');
    if (url.pathname === '/health') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      return;
    }
    if (limited) limited(req, res);
    else serve(req, res, url);
  });
  // Above a load balancer's idle timeout (60 s on AWS ALB and nginx upstreams), as the doctor's server-keepalive rule advises.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.listen(port, '127.0.0.1', () => {
    const addr = server.address();
    const actual = typeof addr === 'object' && addr !== null ? addr.port : port;
    bottleneck.afterListen?.();
    process.stdout.write(`redline demo: bottleneck ${name}${limiterName === 'off' ? '' : `, limiter ${limiterName}`}\nlistening on http://127.0.0.1:${actual}\n`);
  });
  const stop = (): void => {
    server.closeAllConnections();
    server.close();
    void bottleneck.close();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

import type { IncomingMessage } from 'node:http';

/** What a planted bottleneck provides: a request handler returning a JSON body, and cleanup. */
export interface Bottleneck {
  /** Answers one request; the server serialises the returned value as JSON. */
  handle(req: IncomingMessage, url: URL): Promise<unknown> | unknown;
  /**
   * Starts helpers that listen on ports of their own, once the service listens: the probe reports the
   * first port that listens as the service's, so nothing may listen before it.
   */
  afterListen?(): void;
  /** Releases timers, workers and sockets so the process can exit. */
  close(): Promise<void>;
}

/** Names accepted by `--bottleneck` / `REDLINE_DEMO_BOTTLENECK`. */
export const BOTTLENECKS = [
  'healthy',
  'event-loop-block',
  'cpu-saturation',
  'gc-churn',
  'gc-young',
  'sync-fs',
  'memory-leak',
  'slow-downstream',
  'pool-starvation',
  'n-plus-one',
  'slow-query',
  'threadpool',
  'overload',
  'leak-map',
  'leak-closures',
  'leak-listeners',
  'leak-cache',
] as const;

/** One of {@link BOTTLENECKS}. */
export type BottleneckName = (typeof BOTTLENECKS)[number];

/** Busy-waits work units for about `ms`, returning how many units one ms takes (for calibration). */
export function unitsPerMs(work: (units: number) => unknown, probeUnits: number): number {
  work(probeUnits); // warm up so the JIT has compiled it
  work(probeUnits);
  // CPU time, not wall time: on a busy machine wall time would count the moments we were not
  // running and calibrate far too little work per request.
  const cpuMs = (): number => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const start = cpuMs();
  let runs = 0;
  while (cpuMs() - start < 40) {
    work(probeUnits);
    runs++;
  }
  return (runs * probeUnits) / (cpuMs() - start);
}

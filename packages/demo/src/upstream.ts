// A slow upstream service, run in a worker thread of the demo so it stays one process to start and
// stop, while its sockets and timers stay out of the main thread's numbers.
import { createServer } from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';

const delayMs = Number((workerData as { delayMs?: number } | null)?.delayMs ?? 120);
const server = createServer((_req, res) => {
  setTimeout(() => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"inventory":42}');
  }, delayMs);
});
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  parentPort?.postMessage({ port: typeof addr === 'object' && addr !== null ? addr.port : 0 });
});
parentPort?.on('message', (msg: unknown) => {
  if (msg === 'close') {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  }
});

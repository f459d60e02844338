import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A real HTTP server on 127.0.0.1:0 answering JSON after `delayMs`. */
export async function startServer(delayMs = 0, status = 200): Promise<{ url: string; requests(): number; close(): Promise<void> }> {
  let seen = 0;
  const server = http.createServer((_req, res) => {
    seen++;
    const reply = (): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    };
    if (delayMs) setTimeout(reply, delayMs);
    else reply();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

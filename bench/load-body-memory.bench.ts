// Memory of scripted requests for a 1 GiB response body: peak RSS of the generator process when the
// script discards the body (`discardBody`), under the default 10 MiB body limit, and when it keeps
// the whole body (`maxBodySize: '2gb'`, what every scripted request did before the limit existed).
// Target: discard and default stay under 200 MB peak RSS.
// Usage: node --import tsx bench/load-body-memory.bench.ts   (LOAD_BENCH_BODY_MB=1024)
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { envInt, verdict } from './fixtures/load-harness.js';

const bodyMb = envInt('LOAD_BENCH_BODY_MB', 1024);
const gen = fileURLToPath(new URL('./fixtures/body-gen.ts', import.meta.url));
const piece = Buffer.alloc(1024 * 1024, 0x61);

interface GenOut {
  mode: string;
  keptBytes: number;
  error: string | null;
  wireBytes: number;
  wallMs: number;
  maxRssMb: number;
}

function runMode(url: string, mode: string): Promise<GenOut> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', gen, url, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as GenOut) : reject(new Error(`body-gen ${mode} exited ${code}`))));
  });
}

async function main(): Promise<void> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-length': String(bodyMb * piece.length) });
    let sent = 0;
    const more = (): void => {
      while (sent < bodyMb) {
        sent++;
        if (!res.write(piece)) {
          res.once('drain', more);
          return;
        }
      }
      res.end();
    };
    res.on('close', () => (sent = bodyMb));
    more();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  try {
    console.log(`load-body-memory: one scripted GET of a ${bodyMb} MiB body, peak RSS of the generator process`);
    const rows: GenOut[] = [];
    for (const mode of ['discard', 'default', 'keep']) {
      const r = await runMode(url, mode);
      rows.push(r);
      console.log(
        `  ${mode.padEnd(8)} peak RSS ${r.maxRssMb.toFixed(0).padStart(5)} MB  kept ${(r.keptBytes / 1048576).toFixed(0).padStart(5)} MiB  on the wire ${(r.wireBytes / 1048576).toFixed(0).padStart(5)} MiB  error ${r.error ?? '-'}  ${(r.wallMs / 1000).toFixed(1)} s`,
      );
    }
    const [discard, dflt, keep] = rows as [GenOut, GenOut, GenOut];
    console.log(`  keep / discard peak RSS = ${(keep.maxRssMb / discard.maxRssMb).toFixed(1)}×`);
    verdict('discard and default limit peak RSS < 200 MB', discard.maxRssMb < 200 && dflt.maxRssMb < 200, `${discard.maxRssMb.toFixed(0)} MB, ${dflt.maxRssMb.toFixed(0)} MB`);
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

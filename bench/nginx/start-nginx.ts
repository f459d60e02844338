// Starts Debian's nginx with a temporary config on 127.0.0.1:<free port>, pinned to one core.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A running nginx: its URL and a stop function. */
export interface NginxHandle {
  url: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (bound and released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      const sock = connect({ host: '127.0.0.1', port }, () => {
        sock.destroy();
        resolve();
      });
      sock.once('error', () => {
        sock.destroy();
        if (Date.now() > deadline) reject(new Error(`nginx did not listen on ${port} within ${timeoutMs} ms`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

/** Starts nginx pinned to `core` (taskset) with a config template of this folder, and waits until it accepts connections. */
export async function startNginx(core = 1, templateFile = 'nginx.conf.template'): Promise<NginxHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'redline-bench-nginx-'));
  const port = await freePort();
  const template = readFileSync(new URL(`./${templateFile}`, import.meta.url), 'utf8');
  writeFileSync(join(dir, 'nginx.conf'), template.replaceAll('{{PORT}}', String(port)).replaceAll('{{DIR}}', dir));
  const child: ChildProcess = spawn('bash', ['-c', `ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec taskset -c ${core} /usr/sbin/nginx -p "${dir}" -c "${dir}/nginx.conf"`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    await Promise.race([
      waitForPort(port, 5000),
      exited.then(() => {
        throw new Error(`nginx exited: ${stderr.trim()}`);
      }),
    ]);
  } catch (err) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    pid: child.pid!,
    async stop() {
      child.kill('SIGQUIT');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

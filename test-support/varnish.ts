// A throw-away Varnish for tests and benches: `varnishd -F` on a free loopback port in front of a
// backend, with a VCL that accepts `BAN` requests on a surrogate-key header (the VCL docs/cache.md
// recommends), the admin CLI on a second port with a secret, and its working directory (`-n`) in a
// temp dir removed on stop(). Debian's `varnish` package (installed by .ci/run) provides varnishd.
// Start-up compiles the VCL with the C compiler: seconds on a busy machine, so share one per file.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, killOnExit, stopChild, waitForPort } from './throwaway.ts';

/** A running Varnish. */
export interface VarnishServer {
  port: number;
  /** `http://127.0.0.1:port` */
  url: string;
  /** Runs one `varnishadm` command through the admin port and returns its output. */
  admin(...args: string[]): string;
  /** Stops varnishd (SIGTERM, then SIGKILL after 5 s) and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

/**
 * The VCL: BAN on `Surrogate-Key` (a regex of escaped tags joined by `|`) from loopback only. Keys
 * on objects are space-separated; the ban matches whole keys. (The ban expression parser reads
 * backslash escapes and splits on blanks, so the regex spells whitespace `[[:space:]]`.)
 */
export function banVcl(backendPort: number): string {
  return `vcl 4.1;
backend default { .host = "127.0.0.1"; .port = "${backendPort}"; }
acl purgers { "127.0.0.1"; "::1"; }
sub vcl_recv {
  if (req.method == "BAN") {
    if (!client.ip ~ purgers) { return (synth(405, "BAN not allowed from " + client.ip)); }
    if (!req.http.Surrogate-Key) { return (synth(400, "BAN needs a Surrogate-Key header")); }
    ban("obj.http.Surrogate-Key ~ (^|[[:space:]])(" + req.http.Surrogate-Key + ")([[:space:]]|$)");
    return (synth(200, "Banned"));
  }
}
`;
}

function varnishd(): string {
  for (const p of ['/usr/sbin/varnishd', '/usr/bin/varnishd']) if (existsSync(p)) return p;
  throw new Error('varnishd not found: install the Debian package varnish (scripts/ensure-system-deps.mjs)');
}

/** Starts varnishd in front of `127.0.0.1:backendPort` (default VCL: {@link banVcl}). */
export async function startVarnish(backendPort: number, options: { vcl?: string; timeoutMs?: number } = {}): Promise<VarnishServer> {
  const dir = mkdtempSync(join(tmpdir(), 'redline-varnish-'));
  const port = await freePort();
  const adminPort = await freePort();
  const vclFile = join(dir, 'default.vcl');
  const secretFile = join(dir, 'secret');
  writeFileSync(vclFile, options.vcl ?? banVcl(backendPort));
  writeFileSync(secretFile, `redline-test-${process.pid}\n`, { mode: 0o600 });
  // -j none: no privilege separation (works as root and as a plain user); -F: in the foreground,
  // so the child is varnishd itself and stop() reaches it.
  const args = ['-F', '-j', 'none', '-n', join(dir, 'n'), '-a', `127.0.0.1:${port}`, '-T', `127.0.0.1:${adminPort}`, '-S', secretFile, '-f', vclFile, '-s', 'malloc,32m', '-p', 'ban_lurker_sleep=0.1'];
  const child: ChildProcess = spawn(varnishd(), args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => {
    if (stderr.length < 8192) stderr += b.toString();
  });
  const forget = killOnExit(child, dir);
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await stopChild(child);
    forget();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(port, 'varnishd', options.timeoutMs ?? 60_000, child, () => stderr);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    admin: (...cmd: string[]) => {
      const r = spawnSync('varnishadm', ['-T', `127.0.0.1:${adminPort}`, '-S', secretFile, ...cmd], { encoding: 'utf8', timeout: 10_000 });
      if (r.status !== 0) throw new Error(`varnishadm ${cmd.join(' ')} failed (${r.status}): ${r.stdout}${r.stderr}`);
      return r.stdout;
    },
    stop,
  };
}

#!/usr/bin/env node
// The tests use real parts: a redis-server and headless Chromium from Debian. This installs them
// when missing (as root, with apt-get), or says exactly what to install.
// Usage: node scripts/ensure-system-deps.mjs [--bench]   (--bench adds nginx and wrk)
import { execFileSync, spawnSync } from 'node:child_process';

// [command, Debian package]: the real peers the tests start (PostgreSQL, MariaDB for mysql2, Varnish, Prometheus, nginx
// with http2, h2load) as well as the benches' peers.
const needed = [
  ['redis-server', 'redis-server'],
  ['chromium', 'chromium'],
  ['pg_ctlcluster', 'postgresql'],
  ['mariadbd', 'mariadb-server'],
  ['varnishd', 'varnish'],
  ['prometheus', 'prometheus'],
  ['h2load', 'nghttp2-client'],
  ['openssl', 'openssl'],
  ['nginx', 'nginx-light'],
];
if (process.argv.includes('--bench')) needed.push(['wrk', 'wrk'], ['curl', 'curl']);

const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd} || test -x /usr/sbin/${cmd}`], { stdio: 'ignore' }).status === 0;
const missing = needed.filter(([cmd]) => !has(cmd)).map(([, pkg]) => pkg);
if (missing.length === 0) process.exit(0);

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (!isRoot || !has('apt-get')) {
  console.error(`The tests need these system packages: ${missing.join(' ')}\nInstall them, e.g.: sudo apt-get install -y ${missing.join(' ')}`);
  process.exit(1);
}
console.error(`installing ${missing.join(' ')} with apt-get ...`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
execFileSync('apt-get', ['install', '-y', '-qq', ...missing], { stdio: ['ignore', 'ignore', 'inherit'], env });

// The per-request cost of the cookie jar: the tough-cookie jar (packages/load/src/cookie-jar.ts)
// beside the hand-written jar it replaced (bench/fixtures/legacy-cookie-jar.ts), in the same run.
// A VU's jar holds 3 cookies (a session, a path-scoped one, a domain one); each "request" asks for
// the Cookie header of one URL, and every 10th stores a Set-Cookie, as a login-heavy script would.
// A jar that is empty costs nothing on either side (the scripted bench: bench/load-scripted.bench.ts).
// Usage: node --import tsx bench/cookie-jar.bench.ts   (COOKIE_BENCH_OPS=200000, COOKIE_BENCH_ROUNDS=3)
import { CookieJar } from '@redline/load';
import { envInt, verdict } from './fixtures/load-harness.js';
import { CookieJar as LegacyJar } from './fixtures/legacy-cookie-jar.js';

const ops = envInt('COOKIE_BENCH_OPS', 200_000);
const rounds = envInt('COOKIE_BENCH_ROUNDS', 3);
const urls = ['http://shop.example.test/', 'http://shop.example.test/api/orders', 'http://www.example.test/cart'].map((u) => new URL(u));
const origin = new URL('http://shop.example.test/api/login');

interface Jar {
  store(url: URL, setCookie: readonly string[]): void;
  header(url: URL): string | null;
}

function run(jar: Jar): number {
  jar.store(origin, ['sid=abc123; Path=/; HttpOnly', 'api=tok; Path=/api', 'site=1; Domain=example.test; Path=/']);
  let sink = 0;
  const t0 = process.cpuUsage();
  for (let i = 0; i < ops; i++) {
    const h = jar.header(urls[i % urls.length]!);
    sink += h === null ? 0 : h.length;
    if (i % 10 === 0) jar.store(origin, [`seq=${i}; Path=/api`]);
  }
  const cpu = process.cpuUsage(t0);
  if (sink === 0) throw new Error('no cookie was ever sent');
  return ops / ((cpu.user + cpu.system) / 1e6);
}

const ratios: number[] = [];
const toughRates: number[] = [];
for (let r = 1; r <= rounds; r++) {
  const legacy = run(new LegacyJar());
  const tough = run(new CookieJar());
  ratios.push(tough / legacy);
  toughRates.push(tough);
  console.log(`round ${r}: legacy ${Math.round(legacy).toLocaleString('en-US')} req/CPU-s, tough-cookie ${Math.round(tough).toLocaleString('en-US')} req/CPU-s, ratio ${(tough / legacy).toFixed(2)}×`);
}
const mid = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
// A scripted request costs ~80 µs of CPU (about 12,500 req/CPU-s, bench/load-scripted.bench.ts):
// a lookup under 20 µs (≥ 50,000/CPU-s) keeps a jar with cookies under a quarter of that.
const tough = mid(toughRates);
console.log(`tough-cookie / legacy = ${mid(ratios).toFixed(2)}× (median of ${rounds})`);
verdict('tough-cookie jar ≥ 50,000 lookups per CPU-second', tough >= 50_000, `${Math.round(tough).toLocaleString('en-US')}/CPU-s`);

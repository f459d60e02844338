// Runs every bench/*.bench.ts in sequence, each in its own process, and lets each print its own
// results. Select a subset with BENCH=<substring>[,<substring>...] or by arguments, e.g.
//   npm run bench -- load-        (every load-engine bench)
//   BENCH=cache npm run bench
// The load soak (bench/load-soak.bench.ts) takes 10+ minutes; LOAD_SOAK_DURATION_S shortens it.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const filters = [...process.argv.slice(2), ...(process.env.BENCH ?? '').split(',')].map((f) => f.trim()).filter(Boolean);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();

if (files.length === 0) {
  console.error(`no bench matches ${filters.join(', ')}`);
  process.exitCode = 1;
}
const failed: string[] = [];
for (const f of files) {
  console.log(`\n=== ${f}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', `${dir}${f}`], { stdio: 'inherit' });
  if (r.status !== 0) failed.push(f);
}
console.log(`\n${files.length - failed.length} of ${files.length} benches ran${failed.length ? `; failed to run: ${failed.join(', ')}` : ''}`);
if (failed.length) process.exitCode = 1;

// Brotli quality 11 (zlib's default) vs 4, and gzip 6, on a typical JSON API body: CPU time per
// response and bytes. The doctor's advice on compression CPU rests on these numbers.
// Usage: node --import tsx bench/compression-levels.bench.ts   (COMPRESSION_BENCH_MS=2000 per variant)
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { envInt } from './fixtures/load-harness.js';

const budgetMs = envInt('COMPRESSION_BENCH_MS', 2000);

/** A JSON list of 200 orders (~28 KB): repetitive keys, varied values, as API responses are. */
function body(): Buffer {
  const items = Array.from({ length: 200 }, (_, i) => ({
    id: i,
    sku: `SKU-${(i * 7919) % 100000}`,
    name: `Product ${i} ${['red', 'green', 'blue', 'black'][i % 4]} edition`,
    price: Math.round(((i * 37) % 1000) * 100) / 100,
    tags: ['sale', 'new', 'popular', 'limited'].slice(0, (i % 4) + 1),
    createdAt: new Date(1_700_000_000_000 + i * 86_400_000).toISOString(),
  }));
  return Buffer.from(JSON.stringify({ items, total: items.length }));
}

function measure(name: string, f: (b: Buffer) => Buffer, b: Buffer): { name: string; msPerOp: number; bytes: number } {
  let bytes = 0;
  for (let i = 0; i < 3; i++) bytes = f(b).length; // warm-up
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let ops = 0;
  while (performance.now() - t0 < budgetMs) {
    f(b);
    ops++;
  }
  const cpu = process.cpuUsage(cpu0);
  return { name, msPerOp: (cpu.user + cpu.system) / 1000 / ops, bytes };
}

const b = body();
const rows = [
  measure('brotli q11 (default)', (x) => brotliCompressSync(x), b),
  measure('brotli q4', (x) => brotliCompressSync(x, { params: { [constants.BROTLI_PARAM_QUALITY]: 4 } }), b),
  measure('gzip level 6 (default)', (x) => gzipSync(x), b),
];
console.log(`compression-levels: ${b.length} bytes of JSON, ${budgetMs} ms per variant, CPU time per response`);
for (const r of rows) console.log(`  ${r.name.padEnd(24)} ${r.msPerOp.toFixed(3).padStart(8)} ms CPU  ${String(r.bytes).padStart(7)} bytes  (${((r.bytes / b.length) * 100).toFixed(1)}% of identity)`);
const [q11, q4] = rows as [(typeof rows)[number], (typeof rows)[number], (typeof rows)[number]];
console.log(`  brotli q11 / q4: ${(q11.msPerOp / q4.msPerOp).toFixed(1)}× the CPU for ${(((q4.bytes - q11.bytes) / q4.bytes) * 100).toFixed(1)}% fewer bytes`);

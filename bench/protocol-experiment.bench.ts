// The two experiments of `redline run`, run through the CLI as a user would:
//   1. --compare-protocols h1,h2 against a node:http2 TLS target that also speaks HTTP/1.1 (ALPN),
//      launched with the probe: throughput, latency, generator and target CPU per request, bytes,
//      connections, h2/h1 ratios.
//   2. --compare-encodings identity,gzip,br against a launched target that compresses every ~28 KB
//      JSON response as asked (brotli at zlib's default quality 11): bytes per response, the server's
//      CPU per response, latency, and whether the doctor's compression-cpu finding fires.
// Both arms of each pair run in the same process, interleaved (--repeat), on the same machine.
// Usage: node --import tsx bench/protocol-experiment.bench.ts
//   (PROTO_BENCH_DURATION=8s, PROTO_BENCH_VUS=16, PROTO_BENCH_REPEAT=2, ENC_BENCH_VUS=4)
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { ExperimentArm, ExperimentResult } from '@redline/report';
import { main, type CliIo } from '@redline/cli';
import { makeTestCerts } from '../packages/load/test/fixtures/certs.ts';
import { envInt } from './fixtures/load-harness.js';

const duration = process.env.PROTO_BENCH_DURATION ?? '8s';
const vus = envInt('PROTO_BENCH_VUS', 16);
const encVus = envInt('ENC_BENCH_VUS', 4);
const repeat = envInt('PROTO_BENCH_REPEAT', 2);
const H2_SERVER = fileURLToPath(new URL('./fixtures/h2-dual-server.mjs', import.meta.url));
const SCENARIO = fileURLToPath(new URL('./fixtures/protocol-experiment.scenario.ts', import.meta.url));
const COMPRESS_SERVER = fileURLToPath(new URL('../packages/cli/test/fixtures/compress-server.mjs', import.meta.url));

async function experiment(argv: string[], env: Record<string, string>, cwd: string): Promise<ExperimentResult> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    argv,
    env: { ...process.env, ...env },
    cwd,
    stdout: { write: (s: string) => (stdout += s), isTTY: false },
    stderr: { write: (s: string) => (stderr += s), isTTY: false },
    onSignal: () => () => undefined,
  };
  const code = await main(io);
  if (code !== 0) throw new Error(`redline ${argv.join(' ')} exited ${code}: ${stderr.slice(-2000)}`);
  return JSON.parse(stdout) as ExperimentResult;
}

const n = (v: number | null, d = 1): string => (v === null ? '–' : v.toFixed(d));
const ratio = (a: number | null, b: number | null): string => (a === null || b === null || b === 0 ? '–' : `${(a / b).toFixed(2)}×`);

function table(x: ExperimentResult): void {
  console.log('  arm        req/s   p50 ms   p99 ms  gen CPU µs/req  target CPU µs/req  bytes/resp  conns  findings');
  for (const a of x.arms) {
    console.log(
      `  ${a.label.padEnd(8)} ${n(a.throughput).padStart(7)} ${n(a.latencyMs?.p50 ?? null, 2).padStart(8)} ${n(a.latencyMs?.p99 ?? null, 2).padStart(8)} ${n(a.generatorCpuUsPerRequest).padStart(15)} ${n(a.targetCpuUsPerRequest).padStart(18)} ${n(a.receivedBytesPerResponse, 0).padStart(11)} ${String(a.connections ?? '–').padStart(6)}  ${a.findings.filter((f) => f.severity !== 'info').map((f) => f.category).join(', ')}`,
    );
  }
  for (const c of x.comparisons) {
    const m = c.metrics.map((k) => `${k.metric} ${(k.change * 100).toFixed(1)}% ${k.verdict}`).join('; ');
    console.log(`  ${c.candidate} vs ${c.base}: ${c.error ?? m}`);
  }
  for (const w of x.warnings) console.log(`  warning: ${w}`);
}

const certs = makeTestCerts();
const cwd = mkdtempSync(join(tmpdir(), 'redline-proto-bench-'));
try {
  console.log(`protocol-experiment: ${new Date().toISOString()}, h1 vs h2, ${vus} VUs, ${duration} per run, ${repeat} runs per arm interleaved`);
  const p = await experiment(
    ['run', SCENARIO, '--target', `node ${H2_SERVER}`, '--vus', String(vus), '--duration', duration, '--compare-protocols', 'h1,h2', '--repeat', String(repeat), '--out', 'protocols', '--no-report', '--json'],
    { CERT_FILE: join(certs.dir, 'server.pem'), KEY_FILE: join(certs.dir, 'server.key'), BENCH_CA_FILE: certs.caFile },
    cwd,
  );
  table(p);
  const [h1, h2] = p.arms as [ExperimentArm, ExperimentArm];
  console.log(`  h2/h1: throughput ${ratio(h2.throughput, h1.throughput)}, generator CPU per request ${ratio(h2.generatorCpuUsPerRequest, h1.generatorCpuUsPerRequest)}, target CPU per request ${ratio(h2.targetCpuUsPerRequest, h1.targetCpuUsPerRequest)}, bytes per response ${ratio(h2.receivedBytesPerResponse, h1.receivedBytesPerResponse)}`);

  console.log(`\nencoding-experiment: identity vs gzip vs br (quality 11), ${encVus} VUs, ${duration} per run, ${repeat} runs per arm interleaved`);
  const e = await experiment(
    ['run', '--target', `node ${COMPRESS_SERVER}`, '--url', '/', '--vus', String(encVus), '--duration', duration, '--compare-encodings', 'identity,gzip,br', '--repeat', String(repeat), '--out', 'encodings', '--no-report', '--json'],
    {},
    cwd,
  );
  table(e);
  const [identity, gzip, br] = e.arms as [ExperimentArm, ExperimentArm, ExperimentArm];
  console.log(`  bytes per response vs identity: gzip ${ratio(gzip.receivedBytesPerResponse, identity.receivedBytesPerResponse)}, br ${ratio(br.receivedBytesPerResponse, identity.receivedBytesPerResponse)}`);
  console.log(`  server CPU per response vs identity: gzip ${ratio(gzip.targetCpuUsPerRequest, identity.targetCpuUsPerRequest)}, br ${ratio(br.targetCpuUsPerRequest, identity.targetCpuUsPerRequest)}; br vs gzip ${ratio(br.targetCpuUsPerRequest, gzip.targetCpuUsPerRequest)}`);
  console.log(`  compression-cpu finding: br ${br.zlibCpuShare !== null ? `${(br.zlibCpuShare * 100).toFixed(0)}% of busy CPU in zlib` : 'none'}, gzip ${gzip.zlibCpuShare !== null ? `${(gzip.zlibCpuShare * 100).toFixed(0)}%` : 'none'}, identity ${identity.zlibCpuShare !== null ? `${(identity.zlibCpuShare * 100).toFixed(0)}%` : 'none'}`);
} finally {
  certs.cleanup();
  rmSync(cwd, { recursive: true, force: true });
}

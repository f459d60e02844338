import { relative, resolve } from 'node:path';
import { ErrorCodes, ExitCodes, RedlineError, checkTimerMs, parseDuration, parseRate, type RunResult } from '@redline/core';
import { formatFindings } from '@redline/doctor';
import { grpcQuickPlan, noResponseError, parseProxyUrl, planFromFile, quickPlan, PROFILE_NAMES, type GrpcQuickOptions, type LoadFlags, type PlanOverrides, type QuickOptions, type SegmentSpec } from '@redline/load';
import { intFlag, joinDashValues, parseCommandArgs, parseEnvFlags, parseHeaders } from '../args.js';
import { colours, err, out, type CliIo } from '../io.js';
import { runSessionInTerminal } from '../live.js';
import { TRACE_HELP, TRACE_OPTIONS, traceOptionsFrom } from '../trace-flags.js';
import { LEAK_HELP, LEAK_OPTIONS, leakOptionsFrom } from '../leak-flags.js';
import { renderSummary } from '../output/summary.js';
import { OUTPUT_HELP, OUTPUT_OPTIONS, openOutputs, outputPlanFrom, writeCiFiles } from '../outputs/flags.js';
import { terminalSafe } from '../output/terminal-safe.js';
import { targetSpecFrom, type SessionOutcome, type TargetSpec } from '../session.js';
import { DISTRIBUTED_HELP, DISTRIBUTED_OPTIONS, distributedFlags, startDistributed, type DistributedRun } from '../coordinate/run-flags.js';
import { EXPERIMENT_HELP, EXPERIMENT_OPTIONS, experimentFrom, runExperiment, type ArmSpec } from '../experiment.js';

export const RUN_HELP = `Usage:
  redline run --url URL (--rate R | --vus N) [--duration 30s] [options]   quick mode
  redline run scenario.ts [options]                                        scenario mode
  redline run --grpc HOST:PORT --proto F.proto --method pkg.Svc/Method [--message JSON] (--rate R | --vus N)
                                                                           gRPC quick mode (unary calls)

With a scenario file, --rate/--vus/--profile replace its load model, --duration sets its length,
--max-vus its cap, --header and --threshold add to it; --url/--method/--body are quick mode only.

Load:
  --url URL              target URL (quick mode); with --target, a path such as /api is relative to it
                         ws:// or wss://: each request sends --body as a WebSocket message
  --rate R               open model: requests per second (2000, 2k/s)
  --vus N                closed model: concurrent virtual users
  --duration D           how long (default 10s)
  --profile NAME         smoke|load|stress|spike|soak|breakpoint, from the base --rate/--vus
  --method M             HTTP method (default GET, or POST with --body)
  --header "K: V"        request header (repeatable)
  --body DATA|@file      request body
  --timeout D            request timeout (default 30s)
  --max-vus N            open model: cap on concurrent requests
  --threshold "METRIC=EXPR"  e.g. "http.latency=p(99)<200" (repeatable)
  --workers N            worker threads (default: cores - 1, at least 1)
  -e KEY=VALUE           script environment: ctx.env.KEY and defineScenario(({ env }) => ...) (repeatable)

gRPC (quick mode, unary calls over the fast path; see docs/protocols.md):
  --grpc TARGET          host:port (plaintext HTTP/2) or https://host:port (TLS with the flags below)
  --proto FILE           the .proto file defining the service
  --import-path DIR      more directories for the .proto's imports (repeatable)
  --method pkg.Svc/M     with --grpc: the RPC to call
  --message JSON|@file   with --grpc: the request message as JSON (default {})
  --header "K: V"        with --grpc: request metadata; --timeout is also the call's deadline

Protocol and TLS:
  --http2                speak HTTP/2 (h2 over TLS via ALPN for https, h2c with prior knowledge for http)
  --connections N        HTTP/2: connections per origin per worker (default 1)
  --max-streams N        HTTP/2: concurrent streams per connection (default 100)
  --insecure             skip TLS certificate verification
  --ca FILE              trust this CA (PEM) instead of the system store
  --cert FILE --key FILE client certificate and key (PEM) for mTLS
  --proxy URL            tunnel HTTP/1.1 connections through this HTTP proxy (CONNECT); http://[user:pass@]host:port

${EXPERIMENT_HELP}

Target:
  --target "CMD"         start the target with the probe (profiles it under the load)
  --wait-for URL         readiness URL for --target (default: first listening port)
  --start-timeout D      how long the target may take to get ready (default 15s, Ctrl-C stops at once)
  --attach HOST:PORT     attach to a process started with --inspect instead
  --heap-profile         also take a sampling heap profile
  --pool-leak-ms MS      report pool clients held longer than MS, with the stack that took them (--target)
  --target-node-options "--FLAG=V ..."  V8/Node flags for the --target (e.g. "--max-semi-space-size=64"), via NODE_OPTIONS
  --cpu-interval US      CPU sampling interval in microseconds (default: 10000 for runs of 12 s and
                         more, finer for shorter runs so the profile gets ~1000 samples; at least 1000)

${TRACE_HELP}

${DISTRIBUTED_HELP}
${LEAK_HELP}

Output:
  --out DIR              run directory (default .redline/runs/<time>-<name>)
  --name NAME            run name
  --json                 print the summary as JSON on stdout
  --no-report            skip report.html
  --strict               exit 1 when the generator, not the target, limited the run
  --verbose              stack traces on errors

${OUTPUT_HELP}

Exit codes: 0 ok, 1 failure (or generator-limited with --strict), 2 bad input, 99 thresholds failed, 130 interrupted.`;

const RUN_OPTIONS = {
  url: { type: 'string' },
  rate: { type: 'string' },
  vus: { type: 'string' },
  duration: { type: 'string', short: 'd' },
  profile: { type: 'string' },
  method: { type: 'string', short: 'm' },
  header: { type: 'string', short: 'H', multiple: true },
  body: { type: 'string' },
  timeout: { type: 'string' },
  'max-vus': { type: 'string' },
  threshold: { type: 'string', multiple: true },
  workers: { type: 'string', short: 'w' },
  http2: { type: 'boolean' },
  grpc: { type: 'string' },
  proto: { type: 'string' },
  'import-path': { type: 'string', multiple: true },
  message: { type: 'string' },
  proxy: { type: 'string' },
  connections: { type: 'string' },
  'max-streams': { type: 'string' },
  insecure: { type: 'boolean' },
  ca: { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  target: { type: 'string' },
  'wait-for': { type: 'string' },
  'start-timeout': { type: 'string' },
  attach: { type: 'string' },
  'heap-profile': { type: 'boolean' },
  'pool-leak-ms': { type: 'string' },
  'cpu-interval': { type: 'string' },
  'target-node-options': { type: 'string' },
  out: { type: 'string', short: 'o' },
  name: { type: 'string' },
  'no-report': { type: 'boolean' },
  strict: { type: 'boolean' },
  ...TRACE_OPTIONS,
  ...OUTPUT_OPTIONS,
  ...DISTRIBUTED_OPTIONS,
  ...LEAK_OPTIONS,
  ...EXPERIMENT_OPTIONS,
  env: { type: 'string', short: 'e', multiple: true },
} as const;

/** Parses `--threshold "metric=expr"` flags into a thresholds block. */
function thresholdFlags(list: unknown): Record<string, string[]> | undefined {
  const items = (list as string[] | undefined) ?? [];
  if (items.length === 0) return undefined;
  const out: Record<string, string[]> = {};
  for (const item of items) {
    const i = item.indexOf('=');
    if (i <= 0) throw new RedlineError(ErrorCodes.USAGE, `invalid --threshold "${item}": expected METRIC=EXPRESSION such as "http.latency=p(99)<200"`);
    (out[item.slice(0, i).trim()] ??= []).push(item.slice(i + 1).trim());
  }
  return out;
}

/** Transport flags (`--http2`, `--connections`, `--max-streams`, `--insecure`, `--ca`, `--cert`, `--key`, `--proxy`) as plan overrides. */
function transportFlags(v: Record<string, unknown>, cwd: string): PlanOverrides['transport'] | undefined {
  const t: NonNullable<PlanOverrides['transport']> = {};
  if (v.http2) t.protocol = 'h2';
  const connections = intFlag('connections', v.connections);
  if (connections !== undefined) t.connections = connections;
  const maxStreams = intFlag('max-streams', v['max-streams']);
  if (maxStreams !== undefined) t.maxStreams = maxStreams;
  if (v.insecure) t.insecure = true;
  const tls: { ca?: string; cert?: string; key?: string } = {};
  for (const k of ['ca', 'cert', 'key'] as const) if (v[k] !== undefined) tls[k] = resolve(cwd, String(v[k]));
  if (Object.keys(tls).length) t.tls = tls;
  if (v.proxy !== undefined) {
    // Checked here, before a target starts.
    parseProxyUrl(String(v.proxy));
    t.proxy = String(v.proxy);
  }
  return Object.keys(t).length ? t : undefined;
}

/**
 * The gRPC quick-mode flags (`--grpc`, `--proto`, `--import-path`, `--method`, `--message`), or
 * null without `--grpc`. `--proto` and `--message` without `--grpc`, or `--grpc` with a scenario
 * file, `--url` or `--body`, are usage errors.
 */
function grpcQuickFrom(v: Record<string, unknown>, file: string | undefined): Pick<GrpcQuickOptions, 'target' | 'proto' | 'method' | 'message' | 'importPaths'> | null {
  if (v.grpc === undefined) {
    const stray = (['proto', 'message', 'import-path'] as const).filter((k) => v[k] !== undefined);
    if (stray.length) throw new RedlineError(ErrorCodes.USAGE, `redline run: ${stray.map((k) => `--${k}`).join(', ')} ${stray.length > 1 ? 'need' : 'needs'} --grpc host:port`);
    return null;
  }
  const clash = [...(file ? ['a scenario file'] : []), ...(['url', 'body'] as const).filter((k) => v[k] !== undefined).map((k) => `--${k}`)];
  if (clash.length) throw new RedlineError(ErrorCodes.USAGE, `redline run: --grpc cannot be combined with ${clash.join(', ')} (a scenario script uses ctx.grpc)`);
  if (v.proto === undefined) throw new RedlineError(ErrorCodes.USAGE, 'redline run: --grpc needs --proto FILE (the .proto defining the service)');
  if (v.method === undefined) throw new RedlineError(ErrorCodes.USAGE, 'redline run: --grpc needs --method package.Service/Method');
  return {
    target: String(v.grpc),
    proto: String(v.proto),
    method: String(v.method),
    ...(v.message !== undefined ? { message: String(v.message) } : {}),
    ...(v['import-path'] !== undefined ? { importPaths: (v['import-path'] as string[]).map(String) } : {}),
  };
}

/** Exit code for a finished run (documented in docs/exit-codes.md). */
export function runExitCode(r: RunResult, strict: boolean): number {
  if (r.status === 'interrupted') return ExitCodes.INTERRUPTED;
  // A run in which nothing got a response measured nothing: never a pass (REDLINE_ERR_NO_RESPONSES).
  if (noResponseError(r)) return ExitCodes.FAILURE;
  // `aborted` is an abortOnFail threshold failing, here or (distributed) across the instances.
  if (r.status === 'aborted' || r.thresholds.some((t) => !t.ok)) return ExitCodes.THRESHOLDS_FAILED;
  // A merged result without some instance's share did not run the planned load: never a pass.
  if (r.distributed?.missing.length) return ExitCodes.FAILURE;
  if (strict && r.generator.limited) return ExitCodes.FAILURE;
  return ExitCodes.OK;
}

/** Prints the end-of-run summary: the numbers, the findings, and where result.json is. */
export function printSummary(io: CliIo, r: RunResult, runDir: string, written = true): void {
  const paint = colours(io);
  r = terminalSafe(r);
  out(io);
  out(io, renderSummary(r, paint));
  if (r.findings.length) {
    out(io);
    out(io, '  findings');
    out(io, formatFindings(r.findings).split('\n').map((l) => `    ${l}`).join('\n'));
  }
  if (!written) return;
  out(io);
  out(io, `  result: ${relative(io.cwd, runDir) || '.'}/result.json`);
}

/** The one-line failure of a run in which no request got a response (stderr, both output modes). */
function reportNoResponses(io: CliIo, r: RunResult): void {
  const nothing = noResponseError(r);
  if (nothing) err(io, `redline: ${nothing.code}: ${nothing.message}`);
}

/**
 * Session hook that prints the summary as soon as result.json is written, before the report (see
 * {@link finishOutcome}); `--json` prints everything at the end instead.
 */
export function summaryFirst(io: CliIo, json: boolean): { onResult?: (r: RunResult, runDir: string) => void } {
  return json ? {} : { onResult: (r, runDir) => printSummary(io, r, runDir) };
}

/**
 * Ends the output of a session whose summary {@link summaryFirst} printed: the report's path, or for
 * `--json` the whole outcome. A report that could not be written is thrown (exit 1, the file named)
 * after the summary is out: the result is never lost, and the run does not pass as a success.
 * A run without any response says so on stderr (REDLINE_ERR_NO_RESPONSES; exit 1 via runExitCode).
 */
export function finishOutcome(io: CliIo, outcome: SessionOutcome, json: boolean): void {
  const { result: r, runDir, reportPath } = outcome;
  // result.json could not be written, so onResult never ran: the summary still goes out, then the error.
  if (outcome.writeError && !json) printSummary(io, r, runDir, false);
  if (json) {
    out(io, JSON.stringify({ runDir, report: reportPath, status: r.status, summary: r.summary, thresholds: r.thresholds, generator: { limited: r.generator.limited, reasons: r.generator.reasons }, findings: r.findings }, null, 2));
  } else if (reportPath) out(io, `  report: ${relative(io.cwd, reportPath)}`);
  reportNoResponses(io, r);
  if (outcome.writeError) throw outcome.writeError;
  if (outcome.reportError) throw outcome.reportError;
}

/** Where a plan is checked before `--target` is up and its port known. */
const STAND_IN_TARGET = { url: 'http://127.0.0.1:1', port: 1 };

/** `redline run`. */
export async function runCommand(io: CliIo, args: string[]): Promise<number> {
  const { values: v, positionals } = parseCommandArgs('run', joinDashValues(args, ['target-node-options']), RUN_OPTIONS);
  if (v.help) {
    out(io, RUN_HELP);
    return 0;
  }
  if (positionals.length > 1) throw new RedlineError(ErrorCodes.USAGE, `redline run: expected at most one scenario file, got ${positionals.length}`);
  const file = positionals[0];
  const grpcQuick = grpcQuickFrom(v, file);
  if (!file && v.url === undefined && !grpcQuick) throw new RedlineError(ErrorCodes.USAGE, 'redline run: give a scenario file, --url or --grpc (see redline run --help)');
  if (file) {
    const quickOnly = (['url', 'method', 'body'] as const).filter((k) => v[k] !== undefined);
    if (quickOnly.length) throw new RedlineError(ErrorCodes.USAGE, `redline run: ${quickOnly.map((k) => `--${k}`).join(', ')} ${quickOnly.length > 1 ? 'are' : 'is'} for quick mode; a scenario file defines its own requests`);
  }
  // Every flag is checked here, before a target is started or a file is loaded.
  const workers = intFlag('workers', v.workers, 0);
  const target: TargetSpec | undefined = targetSpecFrom(v, (s) => parseDuration(s, '--start-timeout'));
  const timeoutMs = v.timeout !== undefined ? checkTimerMs(parseDuration(String(v.timeout), '--timeout'), '--timeout') : undefined;
  const maxVUs = intFlag('max-vus', v['max-vus']);
  const vus = intFlag('vus', v.vus);
  const thresholds = thresholdFlags(v.threshold);
  const headers = parseHeaders(v.header);
  const scriptEnv = parseEnvFlags(v.env);
  const cpuIntervalUs = intFlag('cpu-interval', v['cpu-interval'], 10);
  const poolLeakMs = intFlag('pool-leak-ms', v['pool-leak-ms'], 1);
  if (poolLeakMs !== undefined && target?.kind !== 'launch') throw new RedlineError(ErrorCodes.USAGE, 'redline run: --pool-leak-ms needs --target (the probe watches the pools of a target it starts)');
  const leak = leakOptionsFrom(v, target?.kind);
  const transport = transportFlags(v, io.cwd);
  const outputPlan = await outputPlanFrom(v, io);
  const distributed = distributedFlags(v);
  const experiment = experimentFrom(v, { grpc: grpcQuick !== null, target, headers });
  const overrides = { ...(transport ? { transport } : {}), ...(v.name !== undefined ? { name: String(v.name) } : {}), ...(workers !== undefined ? { workers } : {}), ...(timeoutMs !== undefined ? { timeoutMs } : {}) };
  // An experiment's arm changes the HTTP version or the Accept-Encoding of the same plan.
  const overridesFor = (arm: ArmSpec | undefined): typeof overrides =>
    arm?.protocol === undefined ? overrides : { ...overrides, transport: { ...(overrides.transport ?? {}), protocol: arm.protocol } };
  const headersFor = (arm: ArmSpec | undefined): Record<string, string> => (arm?.acceptEncoding === undefined ? headers : { ...headers, 'accept-encoding': arm.acceptEncoding });
  const environment = (): Record<string, string> => {
    const env: Record<string, string> = {};
    for (const [k, val] of Object.entries(io.env)) if (val !== undefined) env[k] = val;
    return Object.freeze({ ...env, ...scriptEnv });
  };

  const quick = (baseUrl: string | null, arm?: ArmSpec): QuickOptions => {
    const rawUrl = String(v.url);
    return {
      url: baseUrl && rawUrl.startsWith('/') ? `${baseUrl}${rawUrl}` : rawUrl,
      ...(v.rate !== undefined ? { rate: String(v.rate) } : {}),
      ...(vus !== undefined ? { vus } : {}),
      ...(v.duration !== undefined ? { duration: String(v.duration) } : {}),
      ...(v.method !== undefined ? { method: String(v.method) } : {}),
      headers: headersFor(arm),
      ...(v.body !== undefined ? { body: String(v.body).startsWith('@') ? `@${resolve(io.cwd, String(v.body).slice(1))}` : String(v.body) } : {}),
      ...(v.timeout !== undefined ? { timeout: String(v.timeout) } : {}),
      ...(v.profile !== undefined ? { profile: String(v.profile) } : {}),
      ...(maxVUs !== undefined ? { maxVUs } : {}),
      ...(thresholds ? { thresholds } : {}),
    };
  };
  const grpcQuickOptions = (): GrpcQuickOptions => ({
    ...grpcQuick!,
    ...(v.rate !== undefined ? { rate: String(v.rate) } : {}),
    ...(vus !== undefined ? { vus } : {}),
    ...(v.duration !== undefined ? { duration: String(v.duration) } : {}),
    ...(Object.keys(headers).length ? { metadata: headers } : {}),
    ...(v.timeout !== undefined ? { timeout: String(v.timeout) } : {}),
    ...(v.profile !== undefined ? { profile: String(v.profile) } : {}),
    ...(maxVUs !== undefined ? { maxVUs } : {}),
    ...(thresholds ? { thresholds } : {}),
  });
  let flags: LoadFlags = {};
  const flagsFor = (arm: ArmSpec | undefined): LoadFlags => (arm?.acceptEncoding === undefined ? flags : { ...flags, headers: headersFor(arm) });
  if (file) {
    if (v.rate !== undefined) parseRate(String(v.rate));
    if (v.duration !== undefined) checkTimerMs(parseDuration(String(v.duration)), '--duration');
    if (v.profile !== undefined && !(PROFILE_NAMES as readonly string[]).includes(String(v.profile))) {
      throw new RedlineError(ErrorCodes.UNKNOWN_PROFILE, `unknown profile "${String(v.profile)}": expected one of ${PROFILE_NAMES.join(', ')}`);
    }
    flags = {
      ...(v.rate !== undefined ? { rate: String(v.rate) } : {}),
      ...(vus !== undefined ? { vus } : {}),
      ...(v.duration !== undefined ? { duration: String(v.duration) } : {}),
      ...(v.profile !== undefined ? { profile: String(v.profile) } : {}),
      ...(maxVUs !== undefined ? { maxVUs } : {}),
      ...(Object.keys(headers).length ? { headers } : {}),
      ...(thresholds ? { thresholds } : {}),
    };
  }
  const standIn = target?.kind === 'launch' ? STAND_IN_TARGET : null;
  // Every arm of an experiment is checked, so a plan one arm cannot run fails here, not after the first arm.
  for (const arm of experiment?.arms ?? [undefined]) {
    if (file && standIn) {
      // The file's plan with the flags applied, against a stand-in address, so a flag its load model
      // refuses (--duration on stages, --max-vus on a closed model) is reported before the target starts.
      // A scenario exported as a function of the environment is called once more, with the real address.
      await planFromFile(file, { ...overridesFor(arm), env: { ...environment(), REDLINE_TARGET_URL: standIn.url, REDLINE_TARGET_PORT: String(standIn.port) } }, io.cwd, flagsFor(arm));
    } else if (grpcQuick) {
      // The .proto, the method and the message are checked before anything starts.
      await grpcQuickPlan(grpcQuickOptions(), overrides, io.cwd);
    } else if (!file) {
      // The whole quick plan, against a stand-in address when the target's port is not known yet.
      await quickPlan(quick(standIn?.url ?? null, arm), overridesFor(arm));
    }
  }

  const trace = traceOptionsFrom(v);
  const planFor = (arm?: ArmSpec) => async ({ url }: { url: string | null }): Promise<Awaited<ReturnType<typeof planFromFile>>> => {
    const env = environment();
    if (file) return planFromFile(file, { ...overridesFor(arm), env }, io.cwd, flagsFor(arm));
    if (grpcQuick) return grpcQuickPlan(grpcQuickOptions(), { ...overrides, env }, io.cwd);
    return quickPlan(quick(url, arm), { ...overridesFor(arm), env });
  };
  const plan = planFor();
  const session = { dist: null, segment: undefined, target, trace, workers, cpuIntervalUs, poolLeakMs, outputPlan, leak };
  if (experiment) return runExperiment(io, v, experiment, (armIo, arm, outDir) => runWithSession(armIo, { ...v, out: outDir }, { ...session, plan: planFor(arm) }));
  // Redis is checked before a target starts: an unreachable coordinator is a bad address (exit 2).
  const dist: DistributedRun | null = distributed.coordinator
    ? await startDistributed(distributed.coordinator, distributed.segment, file ?? `--url ${String(v.url)}`, io.cwd, (m) => err(io, `redline: ${m}`))
    : null;
  try {
    return await runWithSession(io, v, { plan, dist, segment: distributed.segment, target, trace, workers, cpuIntervalUs, poolLeakMs, outputPlan, leak });
  } finally {
    dist?.close();
  }
}

/** The session of `redline run`, and for a distributed run its merged result. */
async function runWithSession(
  io: CliIo,
  v: Record<string, unknown>,
  s: {
    plan: (t: { url: string | null }) => ReturnType<typeof planFromFile>;
    dist: DistributedRun | null;
    segment: SegmentSpec | undefined;
    target: TargetSpec | undefined;
    trace: ReturnType<typeof traceOptionsFrom>;
    workers: number | undefined;
    cpuIntervalUs: number | undefined;
    poolLeakMs: number | undefined;
    outputPlan: Awaited<ReturnType<typeof outputPlanFrom>>;
    leak: ReturnType<typeof leakOptionsFrom>;
  },
): Promise<number> {
  const { target, trace, workers, cpuIntervalUs, poolLeakMs, outputPlan, leak } = s;
  await openOutputs(io, outputPlan);
  let outcome: SessionOutcome;
  try {
    outcome = await runSessionInTerminal(io, Boolean(v.json), {
    ...summaryFirst(io, Boolean(v.json)),
    ...(target ? { target } : {}),
    ...(trace ? { trace } : {}),
    ...(workers !== undefined ? { workers } : {}),
    ...(v.out !== undefined ? { outDir: String(v.out) } : {}),
    ...(cpuIntervalUs !== undefined ? { cpuIntervalUs } : {}),
    heapProfile: Boolean(v['heap-profile']),
    ...(poolLeakMs !== undefined ? { poolLeakMs } : {}),
    leak,
    report: !v['no-report'],
    ...(outputPlan.set.size ? { outputs: outputPlan.set } : {}),
    ...(s.dist ? s.dist.session(s.plan) : { plan: s.plan, ...(s.segment ? { load: { segment: s.segment } } : {}) }),
    });
  } finally {
    await outputPlan.set.close();
  }
  await writeCiFiles(io, outputPlan, outcome.result, outcome.reportPath);
  finishOutcome(io, outcome, Boolean(v.json));
  const merged = s.dist ? await s.dist.finish(outcome) : null;
  if (merged) {
    out(io);
    out(io, `  merged result of ${merged.result.distributed?.instances ?? 0} instances: ${relative(io.cwd, merged.runDir) || '.'}/result.json`);
    for (const m of merged.result.distributed?.missing ?? []) err(io, `redline: missing from the merged result: ${m}`);
    return runExitCode(merged.result, Boolean(v.strict));
  }
  return runExitCode(outcome.result, Boolean(v.strict));
}

import { join, relative, resolve } from 'node:path';
import { ErrorCodes, ExitCodes, RedlineError, type ErrorCode } from '@redline/core';
import { renderExperimentTable, summarizeExperiment, writeExperiment, type ExperimentKind } from '@redline/report';
import { intFlag } from './args.js';
import { colours, out, type CliIo } from './io.js';
import { prepareOutDir } from './out-dir.js';
import { terminalSafe } from './output/terminal-safe.js';
import type { TargetSpec } from './session.js';

/** Flags of the protocol and encoding experiments of `redline run`. */
export const EXPERIMENT_OPTIONS = {
  'compare-protocols': { type: 'string' },
  'compare-encodings': { type: 'string' },
  repeat: { type: 'string' },
} as const;

/** Help text of those flags. */
export const EXPERIMENT_HELP = `Experiments (the same schedule once per arm, in turn, then side by side with compare's statistics):
  --compare-protocols h1,h2          each HTTP version (h2: ALPN for https, h2c for http); throughput, latency,
                                     generator and target CPU per request, bytes on the wire, connections
  --compare-encodings identity,gzip,br   each Accept-Encoding (also deflate); bytes, the server's CPU per
                                     response, latency; needs --target or --attach
  --repeat N                         runs per arm, interleaved (default 1, at most 10; 3+ for verdicts
                                     that hold the run-to-run noise). --out DIR is the experiment's directory`;

/** HTTP versions `--compare-protocols` knows. */
export const EXPERIMENT_PROTOCOLS = ['h1', 'h2'] as const;
/** Content codings `--compare-encodings` knows (what the load engine can ask for and count). */
export const EXPERIMENT_ENCODINGS = ['identity', 'gzip', 'br', 'deflate'] as const;
/** Most runs per arm. */
const MAX_REPEAT = 10;

/** One arm: what differs from the command line in it. */
export interface ArmSpec {
  label: string;
  protocol?: (typeof EXPERIMENT_PROTOCOLS)[number];
  /** The Accept-Encoding header the arm's requests carry. */
  acceptEncoding?: string;
}

/** A checked experiment: its kind, its arms in order (the first is the base), runs per arm. */
export interface ExperimentPlan {
  kind: ExperimentKind;
  arms: ArmSpec[];
  repeat: number;
}

/** What else the command line asked for, which the experiment must agree with. */
export interface ExperimentContext {
  grpc: boolean;
  target: TargetSpec | undefined;
  headers: Record<string, string>;
}

function list(flag: string, text: string, known: readonly string[], code: ErrorCode, what: string): string[] {
  const names = text.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '');
  for (const n of names) {
    if (!known.includes(n)) throw new RedlineError(code, `unknown ${what} "${n}" in --${flag}: expected ${known.slice(0, -1).join(', ')} or ${known.at(-1)!}`);
  }
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) throw new RedlineError(ErrorCodes.USAGE, `--${flag} lists ${twice} twice`);
  if (names.length < 2) throw new RedlineError(ErrorCodes.USAGE, `--${flag} needs at least two ${what}s to compare, e.g. ${known.slice(0, 2).join(',')} (got "${text}")`);
  return names;
}

/**
 * Reads and checks `--compare-protocols`, `--compare-encodings` and `--repeat` (null without an
 * experiment). Unknown names are REDLINE_ERR_UNKNOWN_PROTOCOL / REDLINE_ERR_UNKNOWN_ENCODING; an
 * experiment without what it needs, or with a flag it cannot honour, is REDLINE_ERR_USAGE (exit 2).
 */
export function experimentFrom(v: Record<string, unknown>, ctx: ExperimentContext): ExperimentPlan | null {
  const protocols = v['compare-protocols'];
  const encodings = v['compare-encodings'];
  if (protocols === undefined && encodings === undefined) {
    if (v.repeat !== undefined) throw new RedlineError(ErrorCodes.USAGE, 'redline run: --repeat needs --compare-protocols or --compare-encodings');
    return null;
  }
  if (protocols !== undefined && encodings !== undefined) throw new RedlineError(ErrorCodes.USAGE, 'redline run: give one experiment at a time: --compare-protocols or --compare-encodings');
  const flag = protocols !== undefined ? 'compare-protocols' : 'compare-encodings';
  if (ctx.grpc) throw new RedlineError(ErrorCodes.USAGE, `redline run: --${flag} is for HTTP targets, not --grpc`);
  const clash = (
    [
      ['http2', '--http2 picks one protocol'],
      ['coordinator', 'a distributed run'],
      ['execution-segment', 'a distributed run'],
      ['output', 'each arm is its own run'],
      ['dashboard', 'each arm is its own run'],
      ['junit', 'each arm is its own run'],
    ] as const
  ).find(([k]) => v[k] !== undefined && v[k] !== false);
  if (clash) throw new RedlineError(ErrorCodes.USAGE, `redline run: --${flag} cannot be combined with --${clash[0]} (${clash[1]})`);
  const repeat = intFlag('repeat', v.repeat) ?? 1;
  if (repeat > MAX_REPEAT) throw new RedlineError(ErrorCodes.USAGE, `invalid --repeat "${String(v.repeat)}": expected an integer from 1 to ${MAX_REPEAT}`);
  if (protocols !== undefined) {
    const names = list(flag, String(protocols), EXPERIMENT_PROTOCOLS, ErrorCodes.UNKNOWN_PROTOCOL, 'protocol');
    if (names.includes('h2') && v.proxy !== undefined) throw new RedlineError(ErrorCodes.USAGE, `redline run: --${flag} with h2 cannot be combined with --proxy (HTTP/2 through a proxy is not supported)`);
    return { kind: 'protocols', arms: names.map((p) => ({ label: p, protocol: p as (typeof EXPERIMENT_PROTOCOLS)[number] })), repeat };
  }
  const names = list(flag, String(encodings), EXPERIMENT_ENCODINGS, ErrorCodes.UNKNOWN_ENCODING, 'encoding');
  if (ctx.target === undefined) throw new RedlineError(ErrorCodes.USAGE, 'redline run: --compare-encodings needs --target (or --attach): the server\'s CPU per response comes from the probe inside it');
  const own = Object.keys(ctx.headers).find((k) => k.toLowerCase() === 'accept-encoding');
  if (own !== undefined) throw new RedlineError(ErrorCodes.USAGE, `redline run: --compare-encodings sets Accept-Encoding in each arm; drop --header "${own}: ${ctx.headers[own]!}"`);
  return { kind: 'encodings', arms: names.map((e) => ({ label: e, acceptEncoding: e })), repeat };
}

/** The run directory of one arm's k-th run (1-based) inside the experiment's directory. */
export function armDir(dir: string, arm: ArmSpec, k: number, repeat: number): string {
  return join(dir, repeat > 1 ? `${arm.label}-${k}` : arm.label);
}

/** A CliIo whose stdout goes nowhere (the arms of a `--json` experiment; the experiment prints one JSON). */
function quiet(io: CliIo): CliIo {
  return { ...io, stdout: { write: () => true, isTTY: false } };
}

/** Exit code of an experiment from its arms': a failure outranks failed thresholds, which outrank success. */
function worst(codes: number[]): number {
  for (const c of [ExitCodes.FAILURE, ExitCodes.THRESHOLDS_FAILED]) if (codes.includes(c)) return c;
  return codes.find((c) => c !== ExitCodes.OK) ?? ExitCodes.OK;
}

/**
 * Runs an experiment: every arm `repeat` times, interleaved (h1, h2, h1, h2, … so a drift of the
 * machine hits every arm), each a full session with its own run directory, then writes
 * `experiment.json`, `experiment.html` and one compare.html per arm against the first. Stops at
 * an interrupted arm (exit 130). The exit code is the worst of the arms'.
 */
export async function runExperiment(
  io: CliIo,
  v: Record<string, unknown>,
  plan: ExperimentPlan,
  runArm: (armIo: CliIo, arm: ArmSpec, outDir: string) => Promise<number>,
): Promise<number> {
  const json = Boolean(v.json);
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const dir = resolve(io.cwd, v.out !== undefined ? String(v.out) : join('.redline', 'experiments', `${stamp}-${plan.kind}`));
  await prepareOutDir(dir, io.cwd);
  const codes: number[] = [];
  const total = plan.arms.length * plan.repeat;
  for (let k = 1; k <= plan.repeat; k++) {
    for (const arm of plan.arms) {
      const n = codes.length + 1;
      if (!json) out(io, colours(io).bold(`── ${arm.label}${plan.repeat > 1 ? ` (run ${k})` : ''}: ${n}/${total} ──`));
      const code = await runArm(json ? quiet(io) : io, arm, armDir(dir, arm, k, plan.repeat));
      codes.push(code);
      if (code === ExitCodes.INTERRUPTED) return code;
    }
  }
  const inputs = plan.arms.map((arm) => ({ label: arm.label, dirs: Array.from({ length: plan.repeat }, (_, i) => armDir(dir, arm, i + 1, plan.repeat)) }));
  const x = await summarizeExperiment(plan.kind, inputs, { compare: { appRoot: io.cwd }, ...(v['no-report'] ? {} : { htmlDir: dir }) });
  const files = await writeExperiment(x, dir);
  const code = worst(codes);
  if (json) out(io, JSON.stringify({ dir, files, exitCodes: codes, ...x }, null, 2));
  else {
    out(io);
    out(io, renderExperimentTable(terminalSafe(x), { color: Boolean(io.stdout.isTTY) && !io.env.NO_COLOR }));
    out(io, `  experiment: ${relative(io.cwd, files.json) || files.json}`);
    out(io, `  page: ${relative(io.cwd, files.html) || files.html}`);
  }
  return code;
}

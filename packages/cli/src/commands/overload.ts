import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { ErrorCodes, RedlineError, defaultRunDir, parseDuration } from '@redline/core';
import {
  loadStepRunner,
  parseSlo,
  renderOverloadHtml,
  renderOverloadSvg,
  renderOverloadText,
  runOverload,
  searchCapacity,
  formatStepLine,
  type OverloadResult,
  type Slo,
} from '@redline/capacity';
import { importScenarioModule, parseTargetUrl, type ScenarioDefinition } from '@redline/load';
import { launchTarget, type TargetHandle } from '@redline/probe/host';
import { intFlag, parseCommandArgs, parseHeaders } from '../args.js';
import { out, type CliIo } from '../io.js';
import { interruptHandler } from '../live.js';

export const OVERLOAD_HELP = `Usage:
  redline overload --target "CMD" [--target "CMD2" ...] --slo 'p(99)<100' [options]
  redline overload scenario.ts --target "CMD" [--target "CMD2" ...] --slo 'p(99)<100' [options]
  redline capacity --overload ...   (the same command)

Finds the maximum sustainable rate of the first target (or takes --max-rate), then offers each
target 0.5×, 1×, 2×, 3×, 4× that rate and back to 0.5× in one sequence of open-model steps. Reports
goodput (responses within the SLO per second), the admitted requests' p99 per step, and whether
goodput comes back after the load drops (a metastable failure when it does not). Give the same
service with and without a limiter as two targets to see them side by side.

  --target "CMD"         start a service with the probe (repeat for each variant)
  --label NAME           name of the matching --target in the output (repeatable)
  --url PATH             request path (default /); or give a scenario file with one scenario whose
                         requests use paths: its baseUrl is set to each launched target
  --method M             request method with --url (default GET)
  --header "N: v"        request header with --url (repeatable)
  --slo EXPR             latency objective, e.g. 'p(99)<100' (ms)
  --max-rate N           maximum sustainable rate per second (default: searched on the first target)
  --steps LIST           load multiples (default 0.5,1,2,3,4,0.5; the last is the recovery step)
  --step D               duration of each step (default 5s)
  --recovery-step D      duration of the last step (default 10s)
  --recover-within D     goodput must come back within this (default 5s)
  --warmup D             unmeasured first step at the first level, after the launch (default 2s; 0 for none)
  --timeout D            request timeout (default 2s)
  --search-step D        step duration of the capacity search (default 3s)
  --search-budget D      time budget of the capacity search (default 2m)
  --search-start N       first rate of the capacity search (default 20)
  --out DIR              directory for the steps and overload.json/svg/html
  --workers N            load-generator worker threads
  --json                 print the result as JSON`;

/** One service the experiment runs. */
export interface OverloadVariant {
  label: string;
  command: string;
  cwd?: string;
}

/** Settings of {@link overloadExperiment}. */
export interface OverloadExperimentOptions {
  variants: OverloadVariant[];
  /** Request path on each target (with `method`, `headers`); ignored when `definition` is given. */
  path: string;
  method?: string;
  headers?: Record<string, string>;
  /**
   * A scenario definition (one scenario) to offer instead of one request: its `baseUrl` is set to
   * each launched target, so its requests' paths go to that target.
   */
  definition?: ScenarioDefinition;
  /** Names `definition` in validation messages. */
  source?: string;
  slo: Slo;
  maxRate?: number;
  multipliers?: number[];
  stepMs: number;
  recoveryStepMs: number;
  recoverWithinMs: number;
  /** Unmeasured first step at the first level, ms (see `runOverload`). Default 0. */
  warmupMs?: number;
  timeoutMs: number;
  searchStepMs: number;
  searchBudgetMs: number;
  /** First level of the capacity search, per second. */
  searchStart: number;
  outDir: string;
  workers?: number;
  quiet?: boolean;
}

/** What {@link overloadExperiment} wrote. */
export interface OverloadFiles {
  json: string;
  svg: string;
  html: string;
}

function slug(label: string): string {
  return label.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'target';
}

/**
 * Runs the overload experiment with Ctrl-C wired to stop it, and prints its table (or, with `json`,
 * the results and files as JSON). `redline overload` and `redline demo overload` share it.
 */
export async function runAndPrintOverload(io: CliIo, json: boolean, options: (() => Omit<OverloadExperimentOptions, 'quiet'>) | Omit<OverloadExperimentOptions, 'quiet'>): Promise<number> {
  const interrupts = interruptHandler(io);
  const abort = new AbortController();
  interrupts.attach({ stop: () => abort.abort(), abort: () => abort.abort() });
  try {
    const o = typeof options === 'function' ? options() : options;
    const { results, files } = await overloadExperiment(io, { ...o, quiet: json }, abort.signal);
    if (json) out(io, JSON.stringify({ results, files }, null, 2));
    else {
      out(io, renderOverloadText(results));
      out(io, `overload: ${relative(io.cwd, files.json)}  chart: ${relative(io.cwd, files.svg)}  page: ${relative(io.cwd, files.html)}`);
    }
    return 0;
  } finally {
    interrupts.dispose();
  }
}

/**
 * Runs the overload experiment on each variant in turn (each started fresh with the probe) and
 * writes `overload.json`, `overload.svg` and `overload.html` to `outDir`.
 */
export async function overloadExperiment(io: CliIo, o: OverloadExperimentOptions, signal: AbortSignal): Promise<{ results: OverloadResult[]; files: OverloadFiles }> {
  const results: OverloadResult[] = [];
  let maxRate = o.maxRate;
  const log = (line: string): void => {
    if (!o.quiet) io.stderr.write(`${line}\n`);
  };
  for (const variant of o.variants) {
    let target: TargetHandle | null = null;
    try {
      target = await launchTarget({ command: variant.command, cwd: variant.cwd ?? io.cwd });
      if (!target.port) throw new RedlineError(ErrorCodes.TARGET_START_FAILED, `target "${variant.label}" did not report a listening port`);
      const definition = variantDefinition(o, variant, `http://127.0.0.1:${target.port}`);
      const dir = join(o.outDir, slug(variant.label));
      const workers = o.workers !== undefined ? { workers: o.workers } : {};
      const source = o.source !== undefined ? { source: o.source } : {};
      if (maxRate === undefined) {
        log(`overload: searching the maximum sustainable rate of ${variant.label} under ${o.slo.expression}`);
        const search = await searchCapacity(loadStepRunner({ definition, outDir: join(dir, 'search'), ...workers, ...source }), {
          model: 'open',
          slo: o.slo,
          startLevel: o.searchStart,
          maxLevel: 20_000,
          stepDurationMs: o.searchStepMs,
          warmupMs: 1000,
          maxDurationMs: o.searchBudgetMs,
          signal,
          onStep: (p) => log(`  ${formatStepLine(p)}`),
        });
        if (!search.maxSustainable) {
          throw new RedlineError(ErrorCodes.INVALID_ARGUMENT, `no sustainable rate found for ${variant.label} under ${o.slo.expression} (search stopped: ${search.stopReason}); give --max-rate`);
        }
        maxRate = search.maxSustainable.level;
        log(`overload: maximum sustainable rate ${maxRate}/s`);
      }
      log(`overload: ${variant.label}: steps ${(o.multipliers ?? [0.5, 1, 2, 3, 4, 0.5]).join('×, ')}× of ${maxRate}/s`);
      const result = await runOverload(loadStepRunner({ definition, outDir: join(dir, 'steps'), maxVUsPerRate: 1, ...workers, ...source }), {
        label: variant.label,
        slo: o.slo,
        maxRate,
        ...(o.multipliers && { multipliers: o.multipliers }),
        stepDurationMs: o.stepMs,
        recoveryDurationMs: o.recoveryStepMs,
        recoverWithinMs: o.recoverWithinMs,
        ...(o.warmupMs !== undefined && { warmupMs: o.warmupMs }),
        signal,
        onStep: (s) => log(`  ${variant.label} ${s.multiplier}× ${s.offeredRate}/s: goodput ${s.goodput.toFixed(1)}/s, 2xx ${s.throughput.toFixed(1)}/s, errors ${(s.errorRate * 100).toFixed(1)} %, admitted p99 ${s.admittedP99Ms.toFixed(1)} ms`),
      });
      results.push(result);
    } finally {
      if (target) await target.stop().catch(() => undefined);
    }
  }
  await mkdir(o.outDir, { recursive: true });
  const files = { json: join(o.outDir, 'overload.json'), svg: join(o.outDir, 'overload.svg'), html: join(o.outDir, 'overload.html') };
  await writeFile(files.json, JSON.stringify({ schema: 'redline-overload/1', results }, null, 2));
  await writeFile(files.svg, renderOverloadSvg(results));
  await writeFile(files.html, renderOverloadHtml(results));
  return { results, files };
}

/** What one variant is offered: the scenario aimed at its origin, or one request to `path`. */
function variantDefinition(o: OverloadExperimentOptions, variant: OverloadVariant, origin: string): ScenarioDefinition {
  if (o.definition) return { timeout: `${o.timeoutMs}ms`, ...o.definition, baseUrl: origin };
  const url = parseTargetUrl(`${origin}${o.path}`);
  const method = o.method ?? 'GET';
  return {
    name: `overload-${slug(variant.label)}`,
    timeout: `${o.timeoutMs}ms`,
    requests: [{ method, url: url.href, name: `${method} ${url.pathname}`, ...(o.headers && Object.keys(o.headers).length > 0 && { headers: o.headers }) }],
  };
}

function multiplierList(value: unknown): number[] | undefined {
  if (value === undefined) return undefined;
  const list = String(value).split(',').map((s) => Number(s.trim()));
  if (list.length < 2 || list.some((n) => !(n > 0 && Number.isFinite(n)))) {
    throw new RedlineError(ErrorCodes.USAGE, `invalid --steps "${String(value)}": expected at least two positive multiples, such as 0.5,1,2,3,4,0.5`);
  }
  return list;
}

function positiveFlag(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!(n > 0 && Number.isFinite(n))) throw new RedlineError(ErrorCodes.USAGE, `invalid --${name} "${String(value)}": expected a positive number`);
  return n;
}

/** `redline overload`. */
export async function overloadCommand(io: CliIo, args: string[]): Promise<number> {
  const { values: v, positionals } = parseCommandArgs('overload', args, {
    target: { type: 'string', multiple: true },
    label: { type: 'string', multiple: true },
    url: { type: 'string' },
    method: { type: 'string' },
    header: { type: 'string', multiple: true },
    slo: { type: 'string' },
    'max-rate': { type: 'string' },
    steps: { type: 'string' },
    step: { type: 'string' },
    'recovery-step': { type: 'string' },
    'recover-within': { type: 'string' },
    warmup: { type: 'string' },
    timeout: { type: 'string' },
    'search-step': { type: 'string' },
    'search-budget': { type: 'string' },
    'search-start': { type: 'string' },
    out: { type: 'string', short: 'o' },
    workers: { type: 'string' },
  });
  if (v.help) {
    out(io, OVERLOAD_HELP);
    return 0;
  }
  const targets = (v.target as string[] | undefined) ?? [];
  if (targets.length === 0) throw new RedlineError(ErrorCodes.USAGE, 'redline overload: give at least one --target "CMD" (the service is started by Redline)');
  if (v.slo === undefined) throw new RedlineError(ErrorCodes.USAGE, "redline overload: --slo is required, e.g. --slo 'p(99)<100'");
  const labels = (v.label as string[] | undefined) ?? [];
  if (labels.length > targets.length) throw new RedlineError(ErrorCodes.USAGE, `redline overload: ${labels.length} --label for ${targets.length} --target`);
  if (positionals.length > 1) throw new RedlineError(ErrorCodes.USAGE, `redline overload: expected at most one scenario file, got ${positionals.length} (${positionals.join(', ')})`);
  const file = positionals[0];
  if (file !== undefined && (v.url !== undefined || v.method !== undefined || v.header !== undefined)) {
    throw new RedlineError(ErrorCodes.USAGE, 'redline overload: give a scenario file or --url/--method/--header, not both');
  }
  const path = String(v.url ?? '/');
  if (!path.startsWith('/')) throw new RedlineError(ErrorCodes.USAGE, `invalid --url "${path}": expected a path such as /search (the target is started by Redline)`);
  const headers = parseHeaders(v.header);
  const definition = file !== undefined ? ((await importScenarioModule(file, io.cwd)) as ScenarioDefinition) : undefined;
  const maxRate = v['max-rate'] === undefined ? undefined : positiveFlag('max-rate', v['max-rate'], 1);
  const duration = (name: string, fallback: string): number => parseDuration(String(v[name] ?? fallback), `--${name}`);
  return runAndPrintOverload(io, Boolean(v.json), () => {
    const outDir = v.out !== undefined ? String(v.out) : defaultRunDir('overload', new Date(), io.cwd);
    const workers = intFlag('workers', v.workers, 0);
    const multipliers = multiplierList(v.steps);
    return {
      variants: targets.map((command, i) => ({ label: labels[i] ?? (targets.length === 1 ? 'target' : `target ${i + 1}`), command })),
      path,
      ...(v.method !== undefined && { method: String(v.method).toUpperCase() }),
      headers,
      ...(definition && { definition, source: file! }),
      slo: parseSlo(String(v.slo)),
      ...(maxRate !== undefined && { maxRate }),
      ...(multipliers && { multipliers }),
      stepMs: duration('step', '5s'),
      recoveryStepMs: duration('recovery-step', '10s'),
      recoverWithinMs: duration('recover-within', '5s'),
      warmupMs: v.warmup === undefined ? 2000 : String(v.warmup) === '0' ? 0 : duration('warmup', '2s'),
      timeoutMs: duration('timeout', '2s'),
      searchStepMs: duration('search-step', '3s'),
      searchBudgetMs: duration('search-budget', '2m'),
      searchStart: positiveFlag('search-start', v['search-start'], 20),
      outDir,
      ...(workers !== undefined && { workers }),
    };
  });
}

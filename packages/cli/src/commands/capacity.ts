import { relative, join } from 'node:path';
import { ErrorCodes, RedlineError, defaultRunDir, parseDuration, parseRate, readRunResult } from '@redline/core';
import { fitCommandResult, loadStepRunner, parseSlo, renderFitText, renderSearchSvg, renderSearchText, searchCapacity, searchResultJson, formatStepLine, writeSearchResult, type SearchResult } from '@redline/capacity';
import { writeReport } from '@redline/report';
import { importScenarioModule, parseTargetUrl, type ScenarioDefinition } from '@redline/load';
import { launchTarget, type TargetHandle } from '@redline/probe/host';
import { intFlag, parseCommandArgs, parseHeaders } from '../args.js';
import { err, out, type CliIo } from '../io.js';
import { interruptHandler } from '../live.js';
import { reportFailed, runSession } from '../session.js';
import { TRACE_OPTIONS, traceOptionsFrom } from '../trace-flags.js';
import { OUTPUT_OPTIONS, openOutputs, outputPlanFrom } from '../outputs/flags.js';
import { StepStream } from '../outputs/step-stream.js';
import { overloadCommand } from './overload.js';

export const CAPACITY_HELP = `Usage:
  redline capacity scenario.ts --slo 'p(99)<100' [options]
  redline capacity --url URL --slo 'p(99)<100' [options]
  redline capacity fit data.csv [--predict 10,50,100] [--throughput 1500] [--slo 'p(99)<100'] [--json]
  redline capacity --overload --target "CMD" --slo 'p(99)<100' [options]   (= redline overload; see its --help)

Search: raises the load step by step until the SLO breaks, errors exceed the budget, or throughput
stops growing, then bisects to the maximum sustainable rate and fits the Universal Scalability Law.

  --slo EXPR             latency objective, e.g. 'p(99)<100' (ms)
  --error-budget R       highest acceptable error rate per step (default 0.01)
  --model open|closed    open: arrival rate (default); closed: concurrency
  --start N              first level (default 50 rps or 4 VUs)
  --max N                highest level (default 20000 rps or 1000 VUs)
  --growth F             level multiplier per step (default 1.5)
  --step D               measured duration of each step (default 10s)
  --warmup D             warm-up per step, excluded from its statistics (default 2s)
  --max-duration D       total time budget (default 5m)
  --target "CMD"         start the target with the probe; the bottleneck at the knee is diagnosed
  --trace                trace the knee step (see redline run --help for --trace-sample, --trace-export, ...)
  --out DIR              directory for the steps and capacity.json/svg
  --output NAME=ARG      stream every second of every step (json=FILE, csv=FILE, prometheus=URL, otlp=URL;
                         repeatable), numbered on across steps; see redline run --help
  --dashboard            live page on http://127.0.0.1:5665/ showing the steps as they run
  --dashboard-port N     dashboard port (default 5665; 0 picks a free one)
  --workers N            load-generator worker threads
  --json                 print the result as JSON`;

/** `redline capacity` and `redline capacity fit`. */
export async function capacityCommand(io: CliIo, args: string[]): Promise<number> {
  // `capacity --overload` is the overload experiment: the search first, then past the redline and back.
  if (args.includes('--overload')) return overloadCommand(io, args.filter((a) => a !== '--overload'));
  const { values: v, positionals } = parseCommandArgs('capacity', args, {
    url: { type: 'string' },
    slo: { type: 'string' },
    'error-budget': { type: 'string' },
    model: { type: 'string' },
    start: { type: 'string' },
    max: { type: 'string' },
    growth: { type: 'string' },
    step: { type: 'string' },
    warmup: { type: 'string' },
    'max-duration': { type: 'string' },
    target: { type: 'string' },
    out: { type: 'string', short: 'o' },
    workers: { type: 'string' },
    method: { type: 'string' },
    header: { type: 'string', multiple: true },
    predict: { type: 'string' },
    throughput: { type: 'string' },
    output: OUTPUT_OPTIONS.output,
    dashboard: OUTPUT_OPTIONS.dashboard,
    'dashboard-port': OUTPUT_OPTIONS['dashboard-port'],
    ...TRACE_OPTIONS,
  });
  const trace = traceOptionsFrom(v);
  if (v.help) {
    out(io, CAPACITY_HELP);
    return 0;
  }
  if (positionals[0] === 'fit') {
    if (positionals.length !== 2) throw new RedlineError(ErrorCodes.USAGE, 'redline capacity fit: expected exactly one CSV file');
    const predictAt = v.predict !== undefined ? String(v.predict).split(',').map((s) => Number(s)) : undefined;
    if (predictAt?.some((n) => !(n > 0))) throw new RedlineError(ErrorCodes.USAGE, `invalid --predict "${String(v.predict)}": expected positive numbers`);
    const fit = fitCommandResult(positionals[1]!, {
      ...(predictAt ? { predictAt } : {}),
      ...(v.throughput !== undefined ? { targetThroughput: parseRate(String(v.throughput), '--throughput') } : {}),
      ...(v.slo !== undefined ? { slo: String(v.slo) } : {}),
    });
    out(io, v.json ? JSON.stringify(fit, null, 2) : renderFitText(fit));
    return 0;
  }
  if (v.slo === undefined) throw new RedlineError(ErrorCodes.USAGE, "redline capacity: --slo is required, e.g. --slo 'p(99)<100'");
  const slo = parseSlo(String(v.slo));
  const model = String(v.model ?? 'open');
  if (model !== 'open' && model !== 'closed') throw new RedlineError(ErrorCodes.USAGE, `invalid --model "${model}": expected open or closed`);
  const file = positionals[0];
  if (!file && v.url === undefined) throw new RedlineError(ErrorCodes.USAGE, 'redline capacity: give a scenario file or --url');
  const num = (name: string, value: unknown, fallback: number): number => {
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!(n > 0)) throw new RedlineError(ErrorCodes.USAGE, `invalid --${name} "${String(value)}": expected a positive number`);
    return n;
  };
  const errorBudget = v['error-budget'] !== undefined ? Number(v['error-budget']) : 0.01;
  if (!(errorBudget >= 0 && errorBudget < 1)) throw new RedlineError(ErrorCodes.USAGE, `invalid --error-budget "${String(v['error-budget'])}": expected a rate from 0 to 1, such as 0.01`);
  const workers = intFlag('workers', v.workers, 0);
  const maxDurationMs = parseDuration(String(v['max-duration'] ?? '5m'), '--max-duration');
  // Output flags are checked, files created and the dashboard's port bound before any load.
  const outputPlan = await outputPlanFrom(v, io);
  await openOutputs(io, outputPlan);
  const stream = outputPlan.set.size ? new StepStream(outputPlan.set, maxDurationMs) : null;
  const interrupts = interruptHandler(io);
  const abort = new AbortController();
  interrupts.attach({ stop: () => abort.abort(), abort: () => abort.abort() });
  let target: TargetHandle | null = null;
  try {
    if (v.target !== undefined) {
      target = await launchTarget({ command: String(v.target), cwd: io.cwd });
      if (target.port) {
        io.env.REDLINE_TARGET_URL = `http://127.0.0.1:${target.port}`;
        io.env.REDLINE_TARGET_PORT = String(target.port);
      }
    }
    let definition: ScenarioDefinition;
    if (file) definition = (await importScenarioModule(file, io.cwd)) as ScenarioDefinition;
    else {
      const raw = String(v.url);
      const url = parseTargetUrl(raw.startsWith('/') && io.env.REDLINE_TARGET_URL ? `${io.env.REDLINE_TARGET_URL}${raw}` : raw);
      definition = { name: url.host, requests: [{ method: String(v.method ?? 'GET'), url: url.href, headers: parseHeaders(v.header) }] };
    }
    const outDir = v.out !== undefined ? String(v.out) : defaultRunDir(`capacity-${definition.name ?? 'run'}`, new Date(), io.cwd);
    outputPlan.set.start({ name: `capacity-${definition.name ?? 'run'}`, runId: `capacity-${definition.name ?? 'run'}-${Date.now()}`, plannedMs: maxDurationMs });
    const runStep = loadStepRunner({
      definition,
      source: file ?? 'command line',
      outDir: join(outDir, 'steps'),
      ...(workers !== undefined ? { workers } : {}),
      ...(stream ? { onSecond: stream.onSecond } : {}),
    });
    const result: SearchResult = await searchCapacity(runStep, {
      model,
      slo,
      errorBudget,
      startLevel: num('start', v.start, model === 'open' ? 50 : 4),
      maxLevel: num('max', v.max, model === 'open' ? 20_000 : 1000),
      growthFactor: num('growth', v.growth, 1.5),
      stepDurationMs: parseDuration(String(v.step ?? '10s'), '--step'),
      warmupMs: parseDuration(String(v.warmup ?? '2s'), '--warmup'),
      maxDurationMs,
      signal: abort.signal,
      onStep: (p) => {
        if (!v.json) io.stderr.write(`${formatStepLine(p)}\n`);
      },
    });
    const files = await writeSearchResult(outDir, result);
    // The HTML report of the best step carries the capacity chart (points, fit, band, knee, redline).
    const best = result.steps.find((st) => st.index === result.maxSustainable?.step) ?? result.steps.filter((st) => st.ok).at(-1) ?? result.steps.at(-1);
    // The outputs' final record (JSON summary line, the dashboard's verdict) is the best step's result.
    if (stream && best?.measurement.runDir) await outputPlan.set.end(await readRunResult(best.measurement.runDir));
    // A report that cannot be written is reported after the search result is printed, never instead of it.
    let reportPath: string | null = null;
    let reportError: RedlineError | null = null;
    if (best?.measurement.runDir) {
      const path = join(outDir, 'report.html');
      try {
        reportPath = await writeReport(best.measurement.runDir, { capacitySvg: renderSearchSvg(result), outPath: path, appRoot: io.cwd });
      } catch (err) {
        reportError = reportFailed(path, err);
      }
    }
    let bottleneck: string | null = null;
    if (target && result.maxSustainable) {
      // Diagnose the target at the knee: one probed step at the maximum sustainable level.
      const command = String(v.target);
      await target.stop();
      target = null;
      const level = result.maxSustainable.level;
      const session = await runSession({
        cwd: io.cwd,
        env: io.env,
        target: { kind: 'launch', command },
        outDir: join(outDir, 'knee'),
        ...(trace ? { trace } : {}),
        ...(workers !== undefined ? { workers } : {}),
        report: true,
        plan: async () => {
          const { stepDefinition } = await import('@redline/capacity');
          const { resolvePlan } = await import('@redline/load');
          const stepMs = parseDuration(String(v.step ?? '10s'));
          return resolvePlan(stepDefinition(definition, { model, level, durationMs: stepMs, warmupMs: 0 }), file ?? 'command line', { name: 'knee' });
        },
      });
      if (session.writeError) throw session.writeError;
      reportError ??= session.reportError;
      const top = session.result.findings[0];
      bottleneck = top ? `${top.category}: ${top.title}` : null;
    }
    if (v.json) out(io, JSON.stringify({ ...(searchResultJson(result) as object), bottleneckAtKnee: bottleneck, files: { ...files, report: reportPath } }, null, 2));
    else {
      out(io, renderSearchText(result));
      if (bottleneck) out(io, `bottleneck at the knee: ${bottleneck}`);
      out(io, `capacity: ${relative(io.cwd, files.json)}  chart: ${relative(io.cwd, files.svg)}${reportPath ? `  report: ${relative(io.cwd, reportPath)}` : ''}`);
    }
    if (reportError) throw reportError;
    return 0;
  } finally {
    interrupts.dispose();
    if (target) await target.stop().catch(() => undefined);
    await outputPlan.set.close();
    for (const p of outputPlan.set.problems()) err(io, `redline: ${p}`);
  }
}

import { ErrorCodes, RedlineError } from '@redline/core';
import { parseTraceSample } from '@redline/load';
import { checkExportUrl, DEFAULT_SAMPLE_PER_SECOND, type RunTracingOptions } from '@redline/trace';

/** The tracing flags `run`, `demo` and `capacity` share (node:util parseArgs options). */
export const TRACE_OPTIONS = {
  trace: { type: 'boolean' },
  'trace-sample': { type: 'string' },
  'trace-export': { type: 'string' },
  'trace-port': { type: 'string' },
  'trace-own-sdk': { type: 'boolean' },
} as const;

/** Help lines for the tracing flags. */
export const TRACE_HELP = `Tracing:
  --trace                trace the target under load (OpenTelemetry; "Where the time goes")
  --trace-sample N/s     about N sampled requests per second, in one burst per second (default ${DEFAULT_SAMPLE_PER_SECOND}/s)
  --trace-sample R       or a share of requests flagged as sampled, 0 < R <= 1
  --trace-export URL     also send the kept traces to an OTLP/HTTP endpoint (Jaeger, Tempo, a collector)
  --trace-port N         port of the run's OTLP receiver (default: any; 4318 with --attach)
  --trace-own-sdk        the target runs its own OTel SDK: point it at the receiver, do not preload ours`;

/** Reads the tracing flags; undefined when `--trace` is absent. Throws REDLINE_ERR_USAGE for tracing flags without --trace. */
export function traceOptionsFrom(v: Record<string, unknown>): Pick<RunTracingOptions, 'sampleRatio' | 'samplePerSecond' | 'port' | 'exportUrl' | 'ownSdk'> | undefined {
  const extra = ['trace-sample', 'trace-export', 'trace-port', 'trace-own-sdk'].filter((k) => v[k] !== undefined);
  if (!v.trace) {
    if (extra.length) throw new RedlineError(ErrorCodes.USAGE, `--${extra[0]} needs --trace`);
    return undefined;
  }
  const out: Pick<RunTracingOptions, 'sampleRatio' | 'samplePerSecond' | 'port' | 'exportUrl' | 'ownSdk'> = {};
  if (v['trace-sample'] !== undefined) {
    const policy = parseTraceSample(String(v['trace-sample']));
    if (policy === null) throw new RedlineError(ErrorCodes.USAGE, `--trace-sample must be a ratio in (0, 1] or a rate such as 50/s, got "${String(v['trace-sample'])}"`);
    if ('ratio' in policy) out.sampleRatio = policy.ratio;
    else out.samplePerSecond = policy.perSecond;
  }
  if (v['trace-port'] !== undefined) {
    const p = Number(v['trace-port']);
    if (!Number.isInteger(p) || p < 1 || p > 65535) throw new RedlineError(ErrorCodes.USAGE, `--trace-port must be a port number 1-65535, got "${String(v['trace-port'])}"`);
    out.port = p;
  }
  if (v['trace-export'] !== undefined) out.exportUrl = checkExportUrl(String(v['trace-export'])).href;
  if (v['trace-own-sdk']) out.ownSdk = true;
  return out;
}

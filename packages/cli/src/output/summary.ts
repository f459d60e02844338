import { formatDuration, formatThresholdActual, type RunResult } from '@redline/core';
import { cacheLines } from './cache-lines.js';
import { bytes, dotted, ms, pct, table } from './format.js';

type Paint = { red(s: string): string; green(s: string): string; yellow(s: string): string; dim(s: string): string; bold(s: string): string };
const plain: Paint = { red: (s) => s, green: (s) => s, yellow: (s) => s, dim: (s) => s, bold: (s) => s };

function describeScenario(s: RunResult['config']['scenarios'][number]): string {
  const o = s.options as Record<string, unknown>;
  const d = (v: unknown): string => formatDuration(Number(v));
  switch (s.executor) {
    case 'constant-vus':
      return `${o.vus} VUs for ${d(o.durationMs)}`;
    case 'constant-arrival-rate':
      return `${o.rate}/${d(o.timeUnitMs)} for ${d(o.durationMs)} (max ${o.maxVUs} VUs)`;
    case 'per-vu-iterations':
      return `${o.vus} VUs × ${o.iterations} iterations`;
    case 'shared-iterations':
      return `${o.iterations} iterations over ${o.vus} VUs`;
    default: {
      const stages = (o.stages as Array<{ durationMs: number; target: number }> | undefined) ?? [];
      return `${o.profile ? `profile ${o.profile}, ` : ''}${stages.length} stages over ${d(stages.reduce((a, st) => a + st.durationMs, 0))}`;
    }
  }
}

/** The end-of-run summary in the spirit of k6's. */
export function renderSummary(r: RunResult, paint: Paint = plain): string {
  const s = r.summary;
  const lines: string[] = [];
  const statusText = r.status === 'completed' ? paint.green('completed') : paint.yellow(r.status);
  lines.push(`  ${paint.bold(r.name)} · ${statusText} in ${formatDuration(s.durationMs)} · ${r.config.workers || 1} worker${r.config.workers > 1 ? 's' : ''}`);
  for (const sc of r.config.scenarios) lines.push(`    scenario ${sc.name}: ${sc.executor}, ${describeScenario(sc)}${sc.mode === 'static' ? ' (fast path)' : ''}`);
  lines.push('');
  const open = r.config.scenarios.some((sc) => sc.executor.endsWith('arrival-rate'));
  const q = (l: typeof s.latency): string => (l ? `p50=${ms(l.p50)} p90=${ms(l.p90)} p99=${ms(l.p99)} p99.9=${ms(l.p999)} max=${ms(l.max)}` : paint.yellow('no responses, no percentiles'));
  const errRate = s.requests ? s.errors / s.requests : 0;
  const kinds = Object.entries(s.errorsByKind).map(([k, v]) => `${k}=${v}`).join(' ');
  lines.push(`  ${dotted('http.requests')} ${s.requests}  ${s.throughput.toFixed(1)}/s`);
  lines.push(`  ${dotted('http.errors')} ${(errRate > 0 ? paint.red : paint.green)(pct(errRate))}  ${s.errors} of ${s.requests}${kinds ? `  (${kinds})` : ''}`);
  lines.push(`  ${dotted('http.latency')} ${q(s.latency)}${open ? paint.dim('  from intended send time') : ''}`);
  lines.push(`  ${dotted('http.service_time')} ${q(s.serviceTime)}${paint.dim('  from actual send')}`);
  if (s.timings) {
    // k6's phase split, p50/p99 each: where the service time went.
    const phase = (name: string): string => {
      const t = s.timings![name];
      return t ? `${name} ${ms(t.p50)}/${ms(t.p99)}` : '';
    };
    const parts = ['dns', 'connect', 'tls', 'waiting', 'receiving'].map(phase).filter(Boolean);
    lines.push(`  ${dotted('http.timing')} ${parts.join('  ')}${paint.dim('  p50/p99')}`);
  }
  lines.push(`  ${dotted('iterations')} ${s.iterations}${s.iterationsDropped ? paint.red(`  dropped ${s.iterationsDropped}`) : '  dropped 0'}${s.iterationErrors ? paint.red(`  failed ${s.iterationErrors}`) : ''}`);
  const checkTotal = s.checks.passes + s.checks.fails;
  if (checkTotal) lines.push(`  ${dotted('checks')} ${(s.checks.fails ? paint.red : paint.green)(pct(s.checks.passes / checkTotal))}  ✓ ${s.checks.passes} ✗ ${s.checks.fails}`);
  lines.push(`  ${dotted('vus')} max ${s.vusMax}`);
  lines.push(`  ${dotted('data')} ${bytes(s.dataSentBytes)} sent, ${bytes(s.dataReceivedBytes)} received`);
  if (s.compression) {
    const c = s.compression;
    lines.push(`  ${dotted('data.compressed')} ${c.responses} responses: ${bytes(c.wireBytes)} of bodies on the wire, ${bytes(c.decodedBytes)} decoded (${c.wireBytes ? (c.decodedBytes / c.wireBytes).toFixed(1) : '-'}×)`);
  }
  if (s.http2) {
    const h = s.http2;
    lines.push(`  ${dotted('http2')} ${h.connections} connection${h.connections === 1 ? '' : 's'}, GOAWAY ${h.goaways}, stream-limit waits ${h.streamLimitWaits}, refused streams ${h.refusedStreams}`);
  }
  if (s.grpc) {
    const statuses = Object.entries(s.grpc.byStatus).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ');
    lines.push(`  ${dotted('grpc')} ${s.grpc.calls} call${s.grpc.calls === 1 ? '' : 's'} with a status: ${statuses}`);
  }
  if (s.ws) {
    const w = s.ws;
    const codes = Object.entries(w.closeCodes).map(([k, n]) => `${k}×${n}`).join(', ') || 'none';
    lines.push(`  ${dotted('websocket')} ${w.connections} connection${w.connections === 1 ? '' : 's'}${w.failedHandshakes ? ` (${w.failedHandshakes} failed handshakes)` : ''}, ${w.messagesSent} sent, ${w.messagesReceived} received, ${w.unanswered} unanswered, close codes ${codes}`);
  }
  if (s.cache) lines.push(...cacheLines(s.cache, paint));
  const g = r.generator;
  lines.push(`  ${dotted('generator')} event loop ${pct(g.eluMean)} busy (max ${pct(g.eluMax)}), CPU ${g.cpuCoresMean.toFixed(2)} cores${open ? `, schedule lag p99 ${ms(g.scheduleLagMs.p99)}` : ''}`);

  const names = Object.entries(s.byName);
  if (names.length > 1 || (names.length === 1 && Object.keys(s.byName).length !== 0 && r.config.scenarios.some((sc) => sc.mode === 'script'))) {
    lines.push('', '  by request name');
    const rows = [['name', 'count', 'rate', 'p50', 'p90', 'p99', 'p99.9', 'max', 'errors']];
    for (const [name, t] of names.sort((a, b) => b[1].requests - a[1].requests).slice(0, 20)) {
      rows.push([name, String(t.requests), `${t.throughput.toFixed(1)}/s`, ...(t.latency ? [t.latency.p50, t.latency.p90, t.latency.p99, t.latency.p999, t.latency.max].map(ms) : ['-', '-', '-', '-', '-']), String(t.errors)]);
    }
    lines.push(table(rows, '    '));
  }

  if (s.byGroup) {
    lines.push('', '  by group');
    const rows = [['group', 'calls', 'duration p50', 'p99', 'requests', 'req p99', 'errors']];
    for (const [path, gr] of Object.entries(s.byGroup).slice(0, 20)) {
      rows.push([path, String(gr.duration?.count ?? 0), gr.duration ? ms(gr.duration.p50) : '-', gr.duration ? ms(gr.duration.p99) : '-', String(gr.requests), gr.latency ? ms(gr.latency.p99) : '-', String(gr.errors)]);
    }
    lines.push(table(rows, '    '));
  }
  if (s.metrics) {
    lines.push('', '  custom metrics');
    for (const [name, m] of Object.entries(s.metrics)) lines.push(`  ${dotted(name)} ${customMetricLine(m)}`);
  }

  if (r.thresholds.length) {
    lines.push('', '  thresholds');
    for (const t of r.thresholds) {
      const mark = t.ok ? paint.green('✓') : paint.red('✗');
      lines.push(`    ${mark} ${t.metric} ${t.expression}   actual ${formatThresholdActual(t.metric, t.expression, t.actual, t.unit)}${t.abortOnFail ? ' (abortOnFail)' : ''}`);
    }
  }
  if (g.limited) {
    lines.push('', paint.yellow('  ⚠ generator-limited: these numbers may describe the load generator, not the target'));
    for (const reason of g.reasons) lines.push(paint.yellow(`    - ${reason}`));
  }
  if (r.status === 'interrupted') lines.push('', paint.yellow('  ⚠ interrupted: the result holds what was measured before the stop'));
  if (r.status === 'aborted') lines.push('', paint.yellow('  ⚠ aborted early by an abortOnFail threshold'));
  for (const w of r.warnings ?? []) lines.push(paint.yellow(`  ⚠ ${w}`));
  return lines.join('\n');
}

/** The one live status line (TTY) or periodic line (not a TTY). */
export function renderLiveLine(status: { elapsedMs: number; plannedMs: number; point: RunResult['timeseries'][number]; totalRequests: number; totalErrors: number }): string {
  const p = status.point;
  const errRate = status.totalRequests ? status.totalErrors / status.totalRequests : 0;
  // A second in which nothing was timed (every request refused, say) has no p99, not a p99 of 0.
  const p99 = p.latency === null ? '-' : ms(p.latency.p99);
  return `${formatDuration(Math.round(status.elapsedMs / 1000) * 1000)}/${formatDuration(status.plannedMs)}  ${p.requests}/s  p99 ${p99}  errors ${pct(errRate)}  VUs ${p.vus}${p.iterationsDropped ? `  dropped ${p.iterationsDropped}` : ''}`;
}

/** One custom metric in the summary, in its own unit (a Trend's values are not assumed to be ms). */
function customMetricLine(m: NonNullable<RunResult['summary']['metrics']>[string]): string {
  const n = (v: number): string => (Number.isInteger(v) ? String(v) : v.toFixed(3).replace(/\.?0+$/, ''));
  switch (m.type) {
    case 'counter':
      return `count ${n(m.count)}  rate ${n(m.rate)}/s`;
    case 'gauge':
      return `value ${n(m.value)}  min ${n(m.min)}  max ${n(m.max)}`;
    case 'rate':
      return `${pct(m.rate)}  ✓ ${m.passes} ✗ ${m.fails}`;
    case 'trend':
      return `avg ${n(m.mean)}  min ${n(m.min)}  med ${n(m.p50)}  p90 ${n(m.p90)}  p95 ${n(m.p95)}  p99 ${n(m.p99)}  max ${n(m.max)}  (count ${m.count})`;
  }
}

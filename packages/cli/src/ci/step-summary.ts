import { appendFile } from 'node:fs/promises';
import { formatDuration, formatThresholdActual, type RunResult } from '@redline/core';
import { noResponseError } from '@redline/load';

/** Markdown table cell text: no pipes or line breaks. */
function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/[\r\n]+/g, ' ');
}

const ms = (v: number | undefined): string => (v === undefined ? '–' : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : v >= 10 ? `${v.toFixed(1)} ms` : `${v.toFixed(2)} ms`);

/** The run as GitHub-flavoured markdown for `$GITHUB_STEP_SUMMARY`. */
export function stepSummaryMarkdown(r: RunResult, reportPath: string | null): string {
  const s = r.summary;
  const failed = r.thresholds.filter((t) => !t.ok);
  const nothing = noResponseError(r);
  const verdict = nothing ? '❌ no responses' : r.status === 'aborted' ? '❌ aborted' : failed.length ? '❌ thresholds failed' : r.status === 'interrupted' ? '⚠️ interrupted' : r.generator.limited ? '⚠️ generator-limited' : '✅ passed';
  const lines: string[] = [];
  lines.push(`### Redline · ${cell(r.name)} · ${verdict}`, '');
  lines.push('| requests | throughput | errors | p50 | p99 | p99.9 | duration |', '|---:|---:|---:|---:|---:|---:|---:|');
  lines.push(
    `| ${s.requests.toLocaleString('en-US')} | ${s.throughput.toFixed(1)}/s | ${s.requests ? ((s.errors / s.requests) * 100).toFixed(2) : '0.00'} % | ${ms(s.latency?.p50)} | ${ms(s.latency?.p99)} | ${ms(s.latency?.p999)} | ${formatDuration(s.durationMs)} |`,
  );
  if (r.thresholds.length) {
    lines.push('', '| threshold | result | actual |', '|---|:---:|---:|');
    for (const t of r.thresholds) lines.push(`| \`${cell(t.metric)}\` ${cell(t.expression)} | ${t.ok ? '✅' : '❌'} | ${cell(formatThresholdActual(t.metric, t.expression, t.actual, t.unit))} |`);
  }
  const checks = Object.entries(s.checks.byName);
  if (checks.length) {
    lines.push('', '| check | passed | failed |', '|---|---:|---:|');
    for (const [name, c] of checks) lines.push(`| ${cell(name)} | ${c.passes} | ${c.fails} |`);
  }
  if (r.generator.limited) lines.push('', ...r.generator.reasons.map((x) => `> ⚠️ ${cell(x)}`));
  if (r.findings.length) {
    lines.push('', '**Findings**', '');
    for (const f of r.findings) lines.push(`- **${f.severity.toUpperCase()}** \`${f.category}\` — ${cell(f.title)}`);
  }
  if (reportPath) lines.push('', `Report: \`${cell(reportPath)}\``);
  lines.push('', '');
  return lines.join('\n');
}

/** Appends the summary to `$GITHUB_STEP_SUMMARY` when it is set; returns the file written, else null. */
export async function appendStepSummary(env: Record<string, string | undefined>, r: RunResult, reportPath: string | null): Promise<string | null> {
  const file = env.GITHUB_STEP_SUMMARY;
  if (!file) return null;
  await appendFile(file, stepSummaryMarkdown(r, reportPath));
  return file;
}

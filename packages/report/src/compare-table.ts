import type { CompareResult, MetricComparison } from './compare.js';
import { fmtBytes, fmtChange, fmtDuration, fmtMs, fmtNum, fmtPct } from './format.js';

/** Options of {@link renderCompareTable}. */
export interface CompareTableOptions {
  /** ANSI colours (red regressed, green improved). Default false. */
  color?: boolean;
}

/** A metric value in its unit, for people. */
export function fmtMetricValue(m: Pick<MetricComparison, 'unit'>, v: number): string {
  switch (m.unit) {
    case 'req/s':
      return `${fmtNum(v, 1)}/s`;
    case 'ms':
      return fmtMs(v);
    case 'ratio':
      return fmtPct(v, 2);
    case 'cores':
      return `${fmtNum(v, 2)} cores`;
    case 'bytes':
      return fmtBytes(v);
  }
}

// Display width, ignoring ANSI colour codes.
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');
const width = (s: string): number => s.replace(ANSI, '').length;
const pad = (s: string, n: number, right = false): string => (right ? ' '.repeat(Math.max(0, n - width(s))) + s : s + ' '.repeat(Math.max(0, n - width(s))));

/**
 * Renders a comparison as a plain-text table for a terminal: one row per metric with base, candidate,
 * change, 95 % interval and verdict, then the warnings and, with profiles, the top moving functions.
 */
export function renderCompareTable(cmp: CompareResult, opts: CompareTableOptions = {}): string {
  const paint = (code: string, s: string): string => (opts.color ? `\u001b[${code}m${s}\u001b[0m` : s);
  const side = (runs: CompareResult['base']): string =>
    runs.length === 1 ? `${runs[0]!.name} (${fmtDuration(runs[0]!.durationMs)}, ${runs[0]!.dir})` : `${runs.length} runs (${runs.map((r) => r.name).join(', ')})`;
  const lines: string[] = [];
  lines.push(`base:      ${side(cmp.base)}`);
  lines.push(`candidate: ${side(cmp.candidate)}`);
  lines.push(`noise threshold ${fmtPct(cmp.noiseThreshold, 1)} · ${Math.round(cmp.confidenceLevel * 100)} % intervals from ${cmp.iterations} hierarchical bootstrap resamples (runs, then blocks of seconds)`);
  lines.push('');
  const header = ['metric', 'base', 'candidate', 'change', `${Math.round(cmp.confidenceLevel * 100)} % CI`, 'verdict'];
  const rows = cmp.metrics.map((m) => {
    const ci = m.ci === null ? 'n/a' : `[${fmtChange(m.ci.low)}, ${fmtChange(m.ci.high)}]`;
    const verdict =
      m.verdict === 'regressed' ? paint('1;31', 'REGRESSED') : m.verdict === 'improved' ? paint('1;32', 'improved') : paint('2', m.significant ? 'no change (within noise)' : 'no change');
    return [m.label, fmtMetricValue(m, m.base), fmtMetricValue(m, m.candidate), fmtChange(m.change), ci, verdict];
  });
  const widths = header.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i]!))));
  const line = (cells: string[]): string => cells.map((c, i) => pad(c, widths[i]!, i >= 1 && i <= 4)).join('  ').trimEnd();
  lines.push(line(header.map((h) => paint('1', h))));
  lines.push(widths.map((w) => '─'.repeat(w)).join('  '));
  for (const r of rows) lines.push(line(r));
  const regressed = cmp.metrics.filter((m) => m.verdict === 'regressed').map((m) => m.label);
  const improved = cmp.metrics.filter((m) => m.verdict === 'improved').map((m) => m.label);
  lines.push('');
  lines.push(
    regressed.length > 0
      ? paint('1;31', `Regressed: ${regressed.join(', ')}`) + (improved.length > 0 ? `; improved: ${improved.join(', ')}` : '')
      : improved.length > 0
        ? paint('1;32', `Improved: ${improved.join(', ')}`) + '; nothing regressed'
        : 'No change beyond noise.',
  );
  if (cmp.profile !== null && cmp.profile.movers.length > 0) {
    lines.push('');
    lines.push(paint('1', 'CPU profile: functions whose share of samples moved most (self time)'));
    for (const m of cmp.profile.movers.slice(0, 8)) {
      const d = m.selfDelta * 100;
      const where = m.file ? ` ${m.file}${m.line > 0 ? `:${m.line}` : ''}` : '';
      lines.push(`  ${pad(paint(d > 0 ? '31' : '32', `${d > 0 ? '+' : ''}${d.toFixed(2)} pp`), 11, true)}  ${m.name}${where}  (${fmtPct(m.baseSelfShare)} → ${fmtPct(m.candidateSelfShare)})`);
    }
  }
  if (cmp.gcTuning !== undefined) {
    lines.push('');
    lines.push(paint('1', 'GC tuning A/B (target node options differ)'));
    lines.push(`  measured: ${cmp.gcTuning.summary}`);
    if (cmp.gcTuning.finding !== null) lines.push(`  answers the base's finding: ${cmp.gcTuning.finding}`);
  }
  for (const w of cmp.warnings) lines.push(paint('33', `warning: ${w}`));
  return lines.join('\n') + '\n';
}

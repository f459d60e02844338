import type { Evidence, Finding, HotFrame } from '@redline/core';

/** Options of {@link formatFindings}. */
export interface FormatFindingsOptions {
  /** Frames shown per finding (default 3). */
  maxFrames?: number;
}

const COMPARISON: Record<Evidence['comparison'], string> = { '>': '>', '<': '<', '>=': '≥', '<=': '≤' };

function formatValue(value: number, unit: string): string {
  if (unit === 'ratio') return `${(value * 100).toFixed(value < 0.1 ? 1 : 0)}%`;
  return `${value} ${unit}`;
}

function formatFrame(f: HotFrame): string {
  const where = f.file === '' ? '' : `  ${f.file}:${f.line}`;
  return `${(f.selfShare * 100).toFixed(1).padStart(5)}% self ${(f.totalShare * 100).toFixed(1).padStart(5)}% total  ${f.functionName}${where}  [${f.area}]`;
}

/**
 * Renders findings as plain text for a terminal or a log, one block per finding: severity, category,
 * confidence and window; the title; the evidence against its thresholds; the top frames; and the
 * recommendation. No colours, no trailing newline; '' for an empty list.
 */
export function formatFindings(findings: readonly Finding[], opts: FormatFindingsOptions = {}): string {
  const maxFrames = opts.maxFrames ?? 3;
  return findings
    .map((f) => {
      const lines = [
        `${f.severity.toUpperCase()}  ${f.category}  (confidence ${Math.round(f.confidence * 100)}%, t=${f.window.startS}–${f.window.endS} s)`,
        `  ${f.title}`,
      ];
      if (f.evidence.length > 0) {
        lines.push(`  evidence: ${f.evidence.map((e) => `${e.metric} ${formatValue(e.value, e.unit)} (${COMPARISON[e.comparison]} ${formatValue(e.threshold, e.unit)})`).join('; ')}`);
      }
      for (const fr of f.frames.slice(0, maxFrames)) lines.push(`  ${formatFrame(fr)}`);
      lines.push(`  → ${f.recommendation}`);
      return lines.join('\n');
    })
    .join('\n\n');
}

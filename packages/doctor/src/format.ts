import type { Evidence, Finding, HotFrame } from '@redline/core';

/** Options of {@link formatFindings}. */
export interface FormatFindingsOptions {
  /** Frames shown per finding (default 3). */
  maxFrames?: number;
}

const COMPARISON: Record<Evidence['comparison'], string> = { '>': '>', '<': '<', '>=': '≥', '<=': '≤' };

/** An evidence value with its unit for people: ratios as percentages, counts bare, the rest `<value> <unit>`. */
export function formatEvidenceValue(value: number, unit: string): string {
  if (unit === 'ratio') return `${(value * 100).toFixed(value < 0.1 ? 1 : 0)}%`;
  if (unit === 'count') return String(value);
  return `${value} ${unit}`;
}

/** Whether the observed value of a piece of evidence meets its threshold. */
export function evidenceMet(e: Evidence): boolean {
  switch (e.comparison) {
    case '>':
      return e.value > e.threshold;
    case '<':
      return e.value < e.threshold;
    case '>=':
      return e.value >= e.threshold;
    case '<=':
      return e.value <= e.threshold;
  }
}

/**
 * One piece of evidence as a sentence that cannot read as a contradiction: the observed value, then
 * whether it meets the rule's threshold, e.g. `target.cpu 0.69 cores (does not meet ≥ 0.9 cores)`.
 */
export function formatEvidence(e: Evidence): string {
  return `${e.metric} ${formatEvidenceValue(e.value, e.unit)} (${evidenceMet(e) ? 'meets' : 'does not meet'} ${COMPARISON[e.comparison]} ${formatEvidenceValue(e.threshold, e.unit)})`;
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
        lines.push(`  evidence: ${f.evidence.map(formatEvidence).join('; ')}`);
      }
      for (const fr of f.frames.slice(0, maxFrames)) lines.push(`  ${formatFrame(fr)}`);
      lines.push(`  → ${f.recommendation}`);
      return lines.join('\n');
    })
    .join('\n\n');
}

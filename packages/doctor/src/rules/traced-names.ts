import { isAbsolute, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { HotFrame } from '@redline/core';
import type { CodeLocation, NameAnalysis } from '@redline/trace';
import { classifyArea } from '../profile-model.js';
import { SourceMapResolver } from '../source-maps.js';
import { Thresholds } from '../thresholds.js';
import type { RuleContext } from '../timeline.js';

const resolver = new SourceMapResolver();

/**
 * A traced statement's calling code as a finding frame: mapped through the script's source map
 * (TypeScript path and line) and shown relative to the target's directory when inside it.
 */
export function callerFrame(ctx: RuleContext, loc: CodeLocation): HotFrame {
  const url = isAbsolute(loc.file) ? pathToFileURL(loc.file).href : loc.file;
  const pos = resolver.resolve(url, loc.line - 1, Math.max(0, loc.column - 1));
  let file = pos?.file ?? loc.file;
  const area = classifyArea(url, pos === null ? undefined : file, ctx.appRoot);
  if (ctx.appRoot !== undefined && isAbsolute(file)) {
    const rel = relative(ctx.appRoot, file);
    if (rel !== '' && !rel.startsWith('..') && !isAbsolute(rel)) file = rel.split(sep).join('/');
  }
  return { functionName: loc.functionName, file, line: pos === null ? loc.line : pos.line + 1, column: pos === null ? loc.column : pos.column + 1, area, selfShare: 0, totalShare: 0 };
}

/** ` from fn (file:line)`, or '' without a caller. */
export function fromCaller(frame: HotFrame | undefined): string {
  return frame === undefined ? '' : ` from ${frame.functionName} (${frame.file}:${frame.line})`;
}

/** The request names of a traced run with enough traces to judge, most requests first. */
export function tracedNames(ctx: RuleContext): NameAnalysis[] {
  const byName = ctx.traces?.analysis.byName;
  if (byName === undefined) return [];
  return Object.values(byName)
    .filter((n) => n.traced >= Thresholds.TRACE_MIN_TRACES)
    .sort((a, b) => (ctx.result.summary.byName[b.name]?.requests ?? 0) - (ctx.result.summary.byName[a.name]?.requests ?? 0));
}

/** `12.3 ms` with one decimal under 100 ms. */
export function ms(v: number): string {
  return `${v >= 100 ? Math.round(v) : Math.round(v * 10) / 10} ms`;
}

/** A percentage with no decimals. */
export function pct(share: number): string {
  return `${Math.round(share * 100)}%`;
}

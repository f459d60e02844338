import { formatDuration, type ResolvedScenarioConfig, type RunResult } from '@redline/core';
import { escapeHtml as h, fmtNum } from './format.js';

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** One scenario's load settings as `label → value` pairs (rate, VUs, maxVUs, duration or stages). */
export function scenarioSettings(s: ResolvedScenarioConfig): [string, string][] {
  const o = s.options;
  const out: [string, string][] = [['executor', `${s.executor}${s.mode === 'static' ? ' (fast path)' : ' (script)'}`]];
  const unit = num(o.timeUnitMs) ?? 1000;
  const per = unit === 1000 ? '/s' : `/${formatDuration(unit)}`;
  if (num(o.rate) !== null) out.push(['rate', `${fmtNum(num(o.rate), 2)}${per}`]);
  if (num(o.startRate) !== null) out.push(['start rate', `${fmtNum(num(o.startRate), 2)}${per}`]);
  if (num(o.vus) !== null) out.push(['VUs', fmtNum(num(o.vus))]);
  if (num(o.startVUs) !== null) out.push(['start VUs', fmtNum(num(o.startVUs))]);
  if (num(o.iterations) !== null) out.push(['iterations', fmtNum(num(o.iterations))]);
  if (num(o.maxVUs) !== null) out.push(['maxVUs', fmtNum(num(o.maxVUs))]);
  if (num(o.preAllocatedVUs) !== null) out.push(['preallocated VUs', fmtNum(num(o.preAllocatedVUs))]);
  if (num(o.durationMs) !== null) out.push(['duration', formatDuration(num(o.durationMs)!)]);
  if (num(o.maxDurationMs) !== null) out.push(['max duration', formatDuration(num(o.maxDurationMs)!)]);
  if (Array.isArray(o.stages)) {
    const stages = (o.stages as { durationMs?: unknown; target?: unknown }[]).map((st) => `${formatDuration(num(st.durationMs) ?? 0)} → ${fmtNum(num(st.target), 2)}`);
    out.push(['stages', stages.join(', ')]);
  }
  if (s.startMs > 0) out.push(['starts at', formatDuration(s.startMs)]);
  if (typeof o.profile === 'string') out.push(['profile', o.profile]);
  return out;
}

/**
 * The run's settings near the top of the report: each scenario's executor, rate, VUs, maxVUs,
 * duration or stages; workers, timeouts; the target command; and the command line that ran it.
 */
export function settingsHtml(result: RunResult): string {
  const c = result.config;
  const dl = (pairs: [string, string][]): string => pairs.map(([k, v]) => `<dt>${h(k)}</dt><dd>${h(v)}</dd>`).join('');
  const scenarios = c.scenarios.map((s) => `<div class="setting-group"><h4>scenario ${h(s.name)}</h4><dl class="settings">${dl(scenarioSettings(s))}</dl></div>`).join('');
  const run: [string, string][] = [
    ['workers', c.workers === 0 ? '0 (in the runner)' : fmtNum(c.workers)],
    ['request timeout', formatDuration(c.timeoutMs)],
    ['graceful stop', formatDuration(c.gracefulStopMs)],
  ];
  if (c.source !== null) run.push(['scenario file', c.source]);
  if (result.target?.command) run.push(['target command', result.target.command]);
  if (result.target?.attach) run.push(['attached to', result.target.attach]);
  for (const [k, v] of Object.entries(c.tags)) run.push([`tag ${k}`, v]);
  const command = c.commandLine ? `<div class="setting-command"><span class="note">command</span> <code>${h(['redline', ...c.commandLine].map(shellQuote).join(' '))}</code></div>` : '';
  return `<section id="settings" class="settings-section"><h2>Settings</h2>${command}<div class="setting-groups">${scenarios}<div class="setting-group"><h4>run</h4><dl class="settings">${dl(run)}</dl></div></div></section>`;
}

/** Quotes an argument for a POSIX shell when it needs it, so the line can be pasted back. */
function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

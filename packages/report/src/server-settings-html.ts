import type { ServerSettings } from '@redline/core';
import { escapeHtml as h, fmtNum } from './format.js';

const ms = (v: number | null, zero: string): string => (v === null ? '–' : v === 0 ? zero : v % 1000 === 0 ? `${fmtNum(v / 1000)} s` : `${fmtNum(v)} ms`);

/**
 * The target's HTTP servers and their socket settings (`target.servers`, read by the probe), as a
 * table for the report's target section; '' when none were recorded.
 */
export function serverSettingsHtml(servers: readonly ServerSettings[] | undefined): string {
  if (servers === undefined || servers.length === 0) return '';
  const rows = servers
    .map(
      (s) =>
        `<tr><td>${h(s.kind)}</td><td>${h(s.address ?? '–')}${s.port !== null ? `:${h(String(s.port))}` : ''}${s.listening ? '' : ' <span class="note">(not listening)</span>'}</td><td>${h(s.thread)}</td><td class="num">${h(ms(s.keepAliveTimeoutMs, '0 (none)'))}</td><td class="num">${h(ms(s.headersTimeoutMs, '0 (none)'))}</td><td class="num">${h(ms(s.requestTimeoutMs, '0 (none)'))}</td><td class="num">${h(s.maxRequestsPerSocket === null ? '–' : s.maxRequestsPerSocket === 0 ? 'unlimited' : fmtNum(s.maxRequestsPerSocket))}</td><td class="num">${h(ms(s.timeoutMs, '0 (none)'))}</td></tr>`,
    )
    .join('');
  return `<h3>HTTP servers</h3><p class="hint">Socket settings of the servers the target created, read by the probe at the end of the run. A keepAliveTimeout below a load balancer's idle timeout (60 s on AWS ALB and nginx upstreams) gives intermittent 502s behind it.</p>
<table class="data"><thead><tr><th>kind</th><th>address</th><th>thread</th><th class="num">keepAliveTimeout</th><th class="num">headersTimeout</th><th class="num">requestTimeout</th><th class="num">maxRequestsPerSocket</th><th class="num">timeout</th></tr></thead><tbody>${rows}</tbody></table>`;
}

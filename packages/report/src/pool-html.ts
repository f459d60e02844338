import type { RunResult } from '@redline/core';
import { escapeHtml as h, fmtNum } from './format.js';

/**
 * The "Connection pools" section: per watched pool, its clients (size, in use, idle, waiting) and its
 * acquire wait and hold time per second, on the same time axis as every other chart (zoom follows).
 * Empty when the run watched no pool.
 */
export function poolsSectionHtml(result: RunResult): string {
  const pools = result.target?.pools ?? [];
  if (pools.length === 0) return '';
  const blocks = pools
    .map((p, i) => {
      const meta = p.meta ?? {};
      const where = typeof meta.host === 'string' ? `${meta.host}${meta.port !== undefined ? `:${String(meta.port)}` : ''}${typeof meta.database === 'string' ? `/${meta.database}` : ''}` : '';
      const facts = [
        typeof meta.driver === 'string' ? meta.driver : null,
        where !== '' && !p.name.includes(where) ? where : null,
        typeof meta.max === 'number' ? `max ${fmtNum(meta.max)}` : null,
        p.serverMaxConnections !== undefined ? `server allows ${fmtNum(p.serverMaxConnections)} connections` : null,
      ].filter((x): x is string => x !== null);
      return `<h3>${h(p.name)}${facts.length > 0 ? ` <span class="note">(${h(facts.join(', '))})</span>` : ''}</h3>
<div class="cols"><div class="chart" data-chart="pool-clients-${i}"></div><div class="chart" data-chart="pool-waiting-${i}"></div></div>
<div class="chart" data-chart="pool-wait-${i}"></div>`;
    })
    .join('\n');
  return `<section id="pools">
<h2>Connection pools</h2>
<p class="hint">Reported by the pool watcher inside the target every second, on the run clock. <b>In use</b> and <b>waiting</b> are time-weighted means over each second (the dotted lines are the most at once); size and idle are at the end of the second. A pool whose in-use line sits on its max while callers wait is too small for the load, or holds its clients too long.</p>
${blocks}
</section>`;
}

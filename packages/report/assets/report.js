/* Redline run report: draws the charts and the flame graph from the inline JSON data. */
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('redline-data').textContent);
  var C = window.RedlineCharts;
  var c = data.charts;
  function el(name) { return document.querySelector('[data-chart="' + name + '"]'); }
  var bands = c.stages;
  var pw = c.profileWindow;
  var common = { bands: bands, highlight: pw };

  function draw(name, fn) {
    var node = el(name);
    if (!node) return;
    try { fn(node); } catch (err) {
      node.classList.add('chart-empty');
      node.textContent = 'This chart could not be drawn: ' + (err && err.message ? err.message : String(err));
      throw err;
    }
  }

  draw('throughput', function (n) {
    C.timeChart(n, c.t, [
      { label: 'achieved req/s', values: c.requestsPerSec, color: '#2563eb', fill: 'rgba(37,99,235,0.08)' },
      { label: 'intended req/s', values: c.intendedRate, color: '#94a3b8', dash: [6, 4] },
      { label: 'errors/s', values: c.errorsPerSec, color: '#dc2626' },
    ], Object.assign({ title: 'Throughput', kind: 'num' }, common));
  });
  draw('latency', function (n) {
    C.timeChart(n, c.t, [
      { label: 'p50', values: c.latency.p50, color: '#059669' },
      { label: 'p90', values: c.latency.p90, color: '#2563eb' },
      { label: 'p99', values: c.latency.p99, color: '#f59e0b' },
      { label: 'max', values: c.latency.max, color: '#dc2626', width: 1, dash: [3, 3] },
    ], Object.assign({ title: 'Latency percentiles (corrected for coordinated omission)', kind: 'ms', log: data.latencyLog, plugins: window.RedlineTraces ? [window.RedlineTraces.plugin()] : [] }, common));
  });
  draw('errors', function (n) {
    var kinds = Object.keys(c.errorsByKind);
    C.timeChart(n, c.t, kinds.map(function (k, i) {
      return { label: k, values: c.errorsByKind[k], color: ['#dc2626', '#ea580c', '#a21caf', '#b45309', '#be123c', '#7c2d12'][i % 6] };
    }), Object.assign({ title: 'Errors by kind (per second)', kind: 'int', empty: 'No errors during the run.' }, common));
  });
  draw('vus', function (n) {
    C.timeChart(n, c.t, [
      { label: 'active VUs', values: c.vus, color: '#7c3aed', fill: 'rgba(124,58,237,0.07)' },
    ], Object.assign({ title: 'Active virtual users', kind: 'int' }, common));
  });
  draw('lag', function (n) {
    C.timeChart(n, c.t, [
      { label: 'schedule lag p99', values: c.scheduleLagP99Ms, color: '#475569' },
    ], Object.assign({ title: 'Generator schedule lag (p99)', kind: 'ms', height: 160 }, common));
  });
  draw('spectrum', function (n) {
    var s = c.spectrum;
    if (!s) { n.classList.add('chart-empty'); n.textContent = 'No latency samples.'; return; }
    C.spectrumChart(n, [
      { label: 'latency (corrected)', percentiles: s.percentiles, values: s.latencyMs, color: '#dc2626' },
      { label: 'service time', percentiles: s.percentiles, values: s.serviceMs, color: '#2563eb', dash: [6, 3] },
    ], { title: 'Latency by percentile', height: 320 });
  });
  var tg = c.target;
  if (tg) {
    var tcommon = { bands: bands, highlight: pw, height: 180, axis: c.t };
    draw('elu', function (n) {
      C.timeChart(n, tg.t, [{ label: 'event-loop utilisation', values: tg.elu, color: '#dc2626', fill: 'rgba(220,38,38,0.07)' }], Object.assign({ title: 'Event-loop utilisation', kind: 'pct' }, tcommon));
    });
    draw('loop-delay', function (n) {
      C.timeChart(n, tg.t, [
        { label: 'delay p99', values: tg.loopDelayP99Ms, color: '#ea580c' },
        { label: 'delay mean', values: tg.loopDelayMeanMs, color: '#f59e0b', dash: [4, 3] },
      ], Object.assign({ title: 'Event-loop delay', kind: 'ms' }, tcommon));
    });
    draw('gc', function (n) {
      C.timeChart(n, tg.t, [{ label: 'GC share of wall time', values: tg.gcShare, color: '#ca8a04', fill: 'rgba(202,138,4,0.08)' }], Object.assign({ title: 'Garbage collection', kind: 'pct' }, tcommon));
    });
    draw('heap', function (n) {
      C.timeChart(n, tg.t, [
        { label: 'heap used', values: tg.heapUsedMiB, color: '#7c3aed' },
        { label: 'heap total', values: tg.heapTotalMiB, color: '#a78bfa', dash: [5, 3] },
        { label: 'RSS', values: tg.rssMiB, color: '#64748b', width: 1 },
      ], Object.assign({ title: 'Memory', kind: 'mib' }, tcommon));
    });
    if (tg.io) draw('io', function (n) {
      C.timeChart(n, tg.t, [
        { label: 'read calls (rchar)', values: tg.io.rcharMiB, color: '#0d9488' },
        { label: 'write calls (wchar)', values: tg.io.wcharMiB, color: '#db2777' },
        { label: 'storage read', values: tg.io.readMiB, color: '#115e59', dash: [5, 3] },
        { label: 'storage write', values: tg.io.writeMiB, color: '#9d174d', dash: [5, 3] },
      ], Object.assign({ title: 'Disk and socket I/O per second (/proc/self/io)', kind: 'mib' }, tcommon));
    });
    draw('cpu', function (n) {
      C.timeChart(n, tg.t, [{ label: 'CPU (user + system)', values: tg.cpuCores, color: '#0891b2', fill: 'rgba(8,145,178,0.08)' }], Object.assign({ title: 'CPU', kind: 'cores' }, tcommon));
    });
  }

  (c.pools || []).forEach(function (p, i) {
    var pcommon = { bands: bands, highlight: pw, height: 200, axis: c.t };
    var limit = p.max == null ? null : p.t.map(function () { return p.max; });
    // Clients and callers waiting on two charts: a queue of 80 callers would flatten a pool of 4.
    draw('pool-clients-' + i, function (n) {
      C.timeChart(n, p.t, [
        { label: 'in use (mean)', values: p.inUseMean, color: '#2563eb', fill: 'rgba(37,99,235,0.08)' },
        { label: 'in use (most)', values: p.inUseMax, color: '#2563eb', width: 1, dash: [2, 3] },
        { label: 'idle', values: p.idle, color: '#059669' },
        { label: 'size', values: p.size, color: '#475569' },
        { label: 'max', values: limit, color: '#94a3b8', width: 1, dash: [6, 4] },
      ], Object.assign({ title: 'Pool clients: ' + p.name, kind: 'num', yLabel: 'clients' }, pcommon));
    });
    draw('pool-waiting-' + i, function (n) {
      C.timeChart(n, p.t, [
        { label: 'waiting (mean)', values: p.waitingMean, color: '#dc2626', fill: 'rgba(220,38,38,0.07)' },
        { label: 'waiting (most)', values: p.waitingMax, color: '#dc2626', width: 1, dash: [2, 3] },
      ], Object.assign({ title: 'Callers waiting for a client', kind: 'num', yLabel: 'callers' }, pcommon));
    });
    draw('pool-wait-' + i, function (n) {
      C.timeChart(n, p.t, [
        { label: 'acquire wait mean', values: p.waitMeanMs, color: '#dc2626' },
        { label: 'acquire wait p99', values: p.waitP99Ms, color: '#f59e0b', dash: [4, 3] },
        { label: 'hold mean', values: p.holdMeanMs, color: '#7c3aed' },
      ], Object.assign({ title: 'Pool wait and hold time per second', kind: 'ms', empty: 'No client was acquired or released.' }, pcommon));
    });
  });

  var flameEl = document.querySelector('[data-flame]');
  var flame = null;
  if (flameEl && data.flame) flame = window.RedlineFlame.mount(flameEl, data.flame);
  document.querySelectorAll('[data-flame-search]').forEach(function (b) {
    b.addEventListener('click', function () {
      if (!flame) return;
      flame.search(b.getAttribute('data-flame-search'));
      flameEl.scrollIntoView({ behavior: 'smooth', block: 'start' });
    });
  });
  document.documentElement.setAttribute('data-ready', 'true');
})();

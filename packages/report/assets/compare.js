/* Redline compare page: overlaid distributions and per-second curves, and the differential flame graph. */
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('redline-data').textContent);
  var C = window.RedlineCharts;
  var cmp = data.cmp;
  function el(name) { return document.querySelector('[data-chart="' + name + '"]'); }
  var d = cmp.distribution;
  if (d) {
    C.spectrumChart(el('spectrum'), [
      { label: 'base', percentiles: d.percentiles, values: d.baseMs, color: '#2563eb' },
      { label: 'candidate', percentiles: d.percentiles, values: d.candidateMs, color: '#dc2626' },
    ], { title: 'Corrected latency by percentile', height: 320 });
  } else {
    el('spectrum').classList.add('chart-empty');
    el('spectrum').textContent = 'No latency samples.';
  }
  // Both sides on one time axis: seconds since each run's start, the union of both.
  var b = cmp.series.base, c = cmp.series.candidate;
  var ts = [], seen = {};
  b.t.concat(c.t).forEach(function (t) { if (!seen[t]) { seen[t] = true; ts.push(t); } });
  ts.sort(function (x, y) { return x - y; });
  function align(side, key) {
    var m = {};
    side.t.forEach(function (t, i) { m[t] = side[key][i]; });
    return ts.map(function (t) { return t in m ? m[t] : null; });
  }
  C.timeChart(el('p99'), ts, [
    { label: 'base p99', values: align(b, 'p99Ms'), color: '#2563eb' },
    { label: 'candidate p99', values: align(c, 'p99Ms'), color: '#dc2626' },
  ], { title: 'Latency p99 per second', kind: 'ms', group: 'cmp' });
  C.timeChart(el('throughput'), ts, [
    { label: 'base req/s', values: align(b, 'throughput'), color: '#2563eb' },
    { label: 'candidate req/s', values: align(c, 'throughput'), color: '#dc2626' },
  ], { title: 'Throughput', kind: 'num', group: 'cmp' });
  var flameEl = document.querySelector('[data-flame]');
  if (flameEl && data.flame) window.RedlineFlame.mount(flameEl, data.flame);
  document.documentElement.setAttribute('data-ready', 'true');
})();

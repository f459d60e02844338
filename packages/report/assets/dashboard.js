/* Redline live dashboard: reads server-sent events from /events and redraws the report's charts
   (window.RedlineCharts over uPlot) once per second. Served by `redline run --dashboard`. */
(function () {
  'use strict';
  var C = window.RedlineCharts;
  var MAX_POINTS = 3600;
  var state = { info: null, t: [], rps: [], errors: [], intended: [], p50: [], p90: [], p99: [], max: [], vus: [], lag: [], totalRequests: 0, totalErrors: 0, elapsedMs: 0, plannedMs: 0, notes: [] };
  var charts = {};

  function $(id) { return document.getElementById(id); }
  function text(id, v) { var n = $(id); if (n) n.textContent = v; }

  function push(p) {
    state.t.push(p.t);
    state.rps.push(p.requests);
    state.errors.push(p.errors);
    state.intended.push(p.intendedRate);
    // A second without responses has no latency (null): a gap in the chart, not 0 ms.
    var l = p.latencyMs || { p50: null, p90: null, p99: null, max: null };
    state.p50.push(l.p50);
    state.p90.push(l.p90);
    state.p99.push(l.p99);
    state.max.push(l.max);
    state.vus.push(p.vus);
    state.lag.push(p.scheduleLagMs.p99);
    if (state.t.length > MAX_POINTS) ['t', 'rps', 'errors', 'intended', 'p50', 'p90', 'p99', 'max', 'vus', 'lag'].forEach(function (k) { state[k].shift(); });
    state.totalRequests = p.totalRequests;
    state.totalErrors = p.totalErrors;
    state.elapsedMs = p.elapsedMs;
    state.plannedMs = p.plannedMs;
    state.last = p;
  }

  /** Draws a chart, or updates it in place when the same series are non-empty as last time. */
  function chart(name, series, opts) {
    var el = document.querySelector('[data-chart="' + name + '"]');
    if (!el) return;
    var live = series.filter(function (s) { return s.values.some(function (v) { return v != null; }); });
    var shape = live.map(function (s) { return s.label; }).join('|');
    var c = charts[name];
    if (c && c.shape === shape && c.u) {
      c.u.setData([state.t].concat(live.map(function (s) { return s.values; })));
      return;
    }
    if (c && c.u) c.u.destroy();
    el.textContent = '';
    el.classList.remove('chart-empty');
    charts[name] = { shape: shape, u: C.timeChart(el, state.t, series, opts) };
  }

  function render() {
    var p = state.last;
    text('kpi-requests', C.fmtNum(state.totalRequests, 0));
    text('kpi-rps', p ? C.fmtNum(p.requests, 0) + '/s' : '–');
    text('kpi-p99', p && p.latencyMs ? C.fmtMs(p.latencyMs.p99) : '–');
    text('kpi-errors', state.totalRequests > 0 ? C.fmtPct(state.totalErrors / state.totalRequests) : '–');
    text('kpi-vus', p ? C.fmtNum(p.vus, 0) : '–');
    text('kpi-elapsed', C.fmtT(state.elapsedMs / 1000) + ' / ' + C.fmtT(state.plannedMs / 1000));
    document.documentElement.setAttribute('data-total-requests', String(state.totalRequests));
    chart('throughput', [
      { label: 'achieved req/s', values: state.rps, color: '#2563eb', fill: 'rgba(37,99,235,0.08)' },
      { label: 'intended req/s', values: state.intended, color: '#94a3b8', dash: [6, 4] },
      { label: 'errors/s', values: state.errors, color: '#dc2626' },
    ], { title: 'Throughput', kind: 'num' });
    chart('latency', [
      { label: 'p50', values: state.p50, color: '#059669' },
      { label: 'p90', values: state.p90, color: '#2563eb' },
      { label: 'p99', values: state.p99, color: '#f59e0b' },
      { label: 'max', values: state.max, color: '#dc2626', width: 1, dash: [3, 3] },
    ], { title: 'Latency percentiles (corrected for coordinated omission)', kind: 'ms' });
    chart('vus', [{ label: 'active VUs', values: state.vus, color: '#7c3aed', fill: 'rgba(124,58,237,0.07)' }], { title: 'Active virtual users', kind: 'int', height: 180 });
    chart('lag', [{ label: 'schedule lag p99', values: state.lag, color: '#475569' }], { title: 'Generator schedule lag (p99)', kind: 'ms', height: 180 });
    notes(p ? p.notes : []);
  }

  function notes(list) {
    var box = $('live-notes');
    if (!box) return;
    box.textContent = '';
    (list || []).forEach(function (n) {
      var d = document.createElement('div');
      d.className = 'alert ' + (n.level === 'bad' ? 'bad' : 'warn');
      d.textContent = n.text;
      box.appendChild(d);
    });
  }

  function finished(r) {
    var badge = $('status');
    badge.textContent = r.verdict;
    badge.className = 'badge ' + r.cls;
    var box = $('final');
    box.hidden = false;
    var th = $('final-thresholds');
    th.textContent = '';
    r.thresholds.forEach(function (t) {
      var li = document.createElement('li');
      li.textContent = (t.ok ? '✓ ' : '✗ ') + t.metric + ' ' + t.expression + (t.actual == null ? '' : '  actual ' + C.fmtNum(t.actual, 2));
      li.className = t.ok ? 'ok' : 'bad';
      th.appendChild(li);
    });
    var fl = $('final-findings');
    fl.textContent = '';
    if (r.findings.length === 0) { var none = document.createElement('li'); none.textContent = 'No findings.'; fl.appendChild(none); }
    r.findings.forEach(function (f) {
      var li = document.createElement('li');
      var b = document.createElement('b');
      b.textContent = f.severity.toUpperCase() + ' ' + f.category;
      li.appendChild(b);
      li.appendChild(document.createTextNode(' — ' + f.title));
      fl.appendChild(li);
    });
    document.documentElement.setAttribute('data-finished', 'true');
  }

  var es = new EventSource('events');
  es.addEventListener('start', function (e) {
    var info = JSON.parse(e.data);
    state.info = info;
    text('run-name', info.name);
  });
  es.addEventListener('second', function (e) {
    push(JSON.parse(e.data));
    render();
  });
  es.addEventListener('snapshot', function (e) {
    JSON.parse(e.data).forEach(push);
    if (state.t.length) render();
  });
  es.addEventListener('result', function (e) {
    finished(JSON.parse(e.data));
    es.close();
  });
  es.onerror = function () {
    var badge = $('status');
    if (document.documentElement.getAttribute('data-finished') !== 'true') { badge.textContent = 'DISCONNECTED'; badge.className = 'badge warn'; }
  };
  document.documentElement.setAttribute('data-ready', 'true');
})();

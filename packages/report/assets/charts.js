/* Redline chart helpers over uPlot: time charts with synced zoom/hover and shaded stages, and the HDR
   percentile spectrum. Inlined into report.html / compare.html. Exposes window.RedlineCharts. */
(function () {
  'use strict';
  var timeCharts = [];
  var syncing = false;
  var PALETTE = ['#2563eb', '#f59e0b', '#dc2626', '#7c3aed', '#059669', '#db2777', '#0891b2', '#65a30d', '#ea580c', '#475569'];

  function fmtT(v) {
    if (v == null) return '–';
    var s = Math.round(v);
    var m = Math.floor(s / 60), r = s % 60;
    return m > 0 ? m + ':' + (r < 10 ? '0' : '') + r : s + 's';
  }
  function fmtNum(v, digits) {
    if (v == null || !isFinite(v)) return '–';
    return v.toLocaleString('en-US', { maximumFractionDigits: digits == null ? 1 : digits });
  }
  function fmtMs(v) {
    if (v == null || !isFinite(v)) return '–';
    if (v >= 1000) return (v / 1000).toFixed(2) + ' s';
    if (v >= 100) return v.toFixed(0) + ' ms';
    if (v >= 10) return v.toFixed(1) + ' ms';
    if (v >= 1) return v.toFixed(2) + ' ms';
    return v.toFixed(3) + ' ms';
  }
  function fmtPct(v) { return v == null || !isFinite(v) ? '–' : (v * 100).toFixed(1) + ' %'; }
  var FORMATS = { ms: fmtMs, num: fmtNum,  pct: fmtPct, int: function (v) { return fmtNum(v, 0); }, mib: function (v) { return v == null ? '–' : fmtNum(v, 1) + ' MiB'; }, cores: function (v) { return v == null ? '–' : fmtNum(v, 2) + ' cores'; } };

  function axisValues(kind) {
    var f = FORMATS[kind] || fmtNum;
    return function (u, vals) {
      return vals.map(function (v) {
        // uPlot passes null for log-scale ticks it leaves unlabelled.
        if (v == null) return '';
        if (kind === 'ms') return v >= 1000 ? (v / 1000) + 's' : v + '';
        if (kind === 'pct') return Math.round(v * 1000) / 10 + '%';
        // Units go in the axis label; tick labels stay short so they are never clipped.
        if (kind === 'mib' || kind === 'cores') return fmtNum(v, 2);
        return f(v);
      });
    };
  }

  function bandsPlugin(bands, highlight) {
    return {
      hooks: {
        drawClear: [function (u) {
          var ctx = u.ctx, b = u.bbox;
          ctx.save();
          (bands || []).forEach(function (band, i) {
            var x0 = Math.max(b.left, u.valToPos(band.startS, 'x', true));
            var x1 = Math.min(b.left + b.width, u.valToPos(band.endS, 'x', true));
            if (x1 <= x0) return;
            ctx.fillStyle = i % 2 === 0 ? 'rgba(37,99,235,0.055)' : 'rgba(37,99,235,0.11)';
            ctx.fillRect(x0, b.top, x1 - x0, b.height);
            ctx.fillStyle = 'rgba(30,41,59,0.55)';
            ctx.font = Math.round(10 * devicePixelRatio) + 'px system-ui, sans-serif';
            ctx.textBaseline = 'top';
            ctx.textAlign = 'left';
            var label = band.label;
            if (ctx.measureText(label).width < x1 - x0 - 6) ctx.fillText(label, x0 + 4, b.top + 3);
          });
          if (highlight) {
            var h0 = Math.max(b.left, u.valToPos(highlight.startS, 'x', true));
            var h1 = Math.min(b.left + b.width, u.valToPos(highlight.endS, 'x', true));
            if (h1 > h0) {
              ctx.strokeStyle = 'rgba(234,88,12,0.7)';
              ctx.setLineDash([4 * devicePixelRatio, 3 * devicePixelRatio]);
              ctx.lineWidth = devicePixelRatio;
              ctx.strokeRect(h0, b.top + 1, h1 - h0, b.height - 2);
              ctx.setLineDash([]);
              ctx.fillStyle = 'rgba(234,88,12,0.9)';
              ctx.font = Math.round(10 * devicePixelRatio) + 'px system-ui, sans-serif';
              ctx.textBaseline = 'bottom';
              ctx.textAlign = 'left';
              ctx.fillText(highlight.label, h0 + 4, b.top + b.height - 3);
            }
          }
          ctx.restore();
        }],
      },
    };
  }

  function syncZoom(src) {
    if (syncing) return;
    syncing = true;
    var min = src.scales.x.min, max = src.scales.x.max;
    timeCharts.forEach(function (c) { if (c !== src && c.root.isConnected) c.setScale('x', { min: min, max: max }); });
    syncing = false;
  }

  function emptyNote(el, text) {
    el.classList.add('chart-empty');
    el.textContent = text || 'No data for this chart.';
    return null;
  }

  /**
   * Series sampled at seconds `t`, moved onto the run's time axis `axis` (both ascending): each axis
   * second takes the sample within half a second of it, else null (a gap). Samples outside the axis
   * (the probe's or a pool's seconds before the load began or in the drain) are left out, so every
   * chart spans the same seconds and a double-click resets them all to the same range.
   */
  function onAxis(axis, t, series) {
    var idx = [];
    var j = 0;
    for (var i = 0; i < axis.length; i++) {
      while (j < t.length && t[j] < axis[i] - 0.5) j++;
      idx.push(j < t.length && Math.abs(t[j] - axis[i]) <= 0.5 ? j : -1);
    }
    return series.map(function (s) {
      var values = s.values ? idx.map(function (k) { return k < 0 ? null : s.values[k]; }) : s.values;
      return Object.assign({}, s, { values: values });
    });
  }

  /**
   * A chart over seconds since run start. series: [{label, values, color, kind?, dash?, fill?}].
   * opts: {title, kind ('ms'|'num'|'pct'|...), height, bands, highlight, log, group, plugins (more uPlot plugins),
   * axis (the run's seconds: `t` and the series are moved onto it, see onAxis)}
   */
  function timeChart(el, t, series, opts) {
    opts = opts || {};
    if (opts.axis && opts.axis.length > 0 && t && t !== opts.axis) {
      series = onAxis(opts.axis, t, series);
      t = opts.axis;
    }
    series = series.filter(function (s) { return s.values && s.values.some(function (v) { return v != null; }); });
    if (!t || t.length === 0 || series.length === 0) return emptyNote(el, opts.empty);
    var kind = opts.kind || 'num';
    var fmt = FORMATS[kind] || fmtNum;
    var u = new uPlot({
      title: opts.title,
      width: Math.max(300, el.clientWidth),
      height: opts.height || 220,
      scales: { x: { time: false }, y: opts.log ? { distr: 3 } : { range: function (u, min, max) { return [Math.min(0, min), max > 0 ? max * 1.08 : 1]; } } },
      series: [{ label: 'time', value: function (u, v) { return fmtT(v); } }].concat(series.map(function (s, i) {
        return {
          label: s.label,
          stroke: s.color || PALETTE[i % PALETTE.length],
          width: s.width || 1.6,
          dash: s.dash,
          fill: s.fill,
          points: { show: false },
          spanGaps: false,
          value: function (u, v) { return fmt(v); },
        };
      })),
      axes: [
        // Whole seconds only: a 4-second run would otherwise get ticks at 1.2 s, 1.4 s, ...
        { incrs: [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200], values: function (u, vals) { return vals.map(fmtT); }, grid: { stroke: '#eef1f5' }, ticks: { stroke: '#e2e8f0' } },
        { values: axisValues(kind), incrs: kind === 'int' ? [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000] : undefined, size: 58, label: opts.yLabel || { mib: 'MiB', cores: 'cores', ms: 'ms' }[kind], labelSize: 18, labelFont: '11px system-ui, sans-serif', grid: { stroke: '#eef1f5' }, ticks: { stroke: '#e2e8f0' } },
      ],
      cursor: { sync: { key: opts.group || 'run-time' }, drag: { x: true, y: false } },
      legend: { live: true },
      plugins: [bandsPlugin(opts.bands, opts.highlight)].concat(opts.plugins || []),
      hooks: { setScale: [function (u, key) { if (key === 'x') syncZoom(u); }] },
    }, [t].concat(series.map(function (s) { return s.values; })), el);
    timeCharts.push(u);
    return u;
  }

  /** Percentile (0–100) → x on the log axis 1/(1−p); the max gets its own point past the last. */
  function spectrumX(percentiles) {
    var xs = [];
    for (var i = 0; i < percentiles.length; i++) {
      var p = percentiles[i];
      xs.push(p >= 100 ? (xs.length ? xs[xs.length - 1] * 1.6 : 10) : 1 / (1 - p / 100));
    }
    return xs;
  }
  function pctLabel(x) {
    var p = 100 * (1 - 1 / x);
    if (p <= 0) return '0%';
    var digits = Math.max(0, Math.ceil(-Math.log10(100 - p) + 1e-9));
    return (Math.round(p * Math.pow(10, digits)) / Math.pow(10, digits)) + '%';
  }

  /** The HDR percentile spectrum: series [{label, percentiles, values, color}] on a log 1/(1−p) axis. */
  function spectrumChart(el, series, opts) {
    opts = opts || {};
    series = series.filter(function (s) { return s.values && s.values.length; });
    if (series.length === 0) return emptyNote(el, 'No latency samples.');
    // All series share the first one's percentile axis (the page builds them that way).
    var xs = spectrumX(series[0].percentiles);
    var maxX = xs[xs.length - 1];
    var u = new uPlot({
      title: opts.title,
      width: Math.max(300, el.clientWidth),
      height: opts.height || 300,
      padding: [12, 28, 0, 0],
      scales: { x: { time: false, distr: 3, log: 10 }, y: opts.log ? { distr: 3 } : { range: function (u, min, max) { return [0, max > 0 ? max * 1.08 : 1]; } } },
      series: [{ label: 'percentile', value: function (u, v) { return v == null ? '–' : (v === maxX ? 'max' : pctLabel(v)); } }].concat(series.map(function (s, i) {
        return { label: s.label, stroke: s.color || PALETTE[i], width: 2, dash: s.dash, points: { show: false }, value: function (u, v) { return fmtMs(v); } };
      })),
      axes: [
        {
          splits: function (u, ai, min, max) { var out = []; for (var v = 1; v <= max * 1.0001; v *= 10) if (v >= min * 0.9999) out.push(v); return out; },
          values: function (u, vals) { return vals.map(pctLabel); },
          grid: { stroke: '#eef1f5' }, ticks: { stroke: '#e2e8f0' },
        },
        { values: axisValues('ms'), size: 58, grid: { stroke: '#eef1f5' }, ticks: { stroke: '#e2e8f0' }, label: 'latency (ms)' },
      ],
      cursor: { drag: { x: true, y: false } },
      legend: { live: true },
    }, [xs].concat(series.map(function (s) { return s.values; })), el);
    return u;
  }

  var resizeTimer = 0;
  window.addEventListener('resize', function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      document.querySelectorAll('.chart').forEach(function (el) {
        var u = el.__uplot;
        if (u) u.setSize({ width: Math.max(300, el.clientWidth), height: u.height });
      });
    }, 150);
  });

  function attach(el, u) { if (u) el.__uplot = u; return u; }

  window.RedlineCharts = {
    PALETTE: PALETTE,
    timeChart: function (el, t, s, o) { return attach(el, timeChart(el, t, s, o)); },
    spectrumChart: function (el, s, o) { return attach(el, spectrumChart(el, s, o)); },
    fmtMs: fmtMs, fmtPct: fmtPct, fmtNum: fmtNum, fmtT: fmtT,
  };
})();

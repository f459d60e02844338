/* Redline run report: trace exemplars on the latency chart. Each kept trace is a mark at the second its
   request completed and its client latency (◆ tail, ● baseline); clicking one shows its waterfall
   (a <template> the report rendered) in "Where the time goes". Exposes window.RedlineTraces. */
(function () {
  'use strict';
  var node = document.getElementById('redline-exemplars');
  var points = [];
  try { points = node ? JSON.parse(node.textContent) : []; } catch (e) { points = []; }
  var selected = null;
  var chart = null;
  var R = 4;

  function pos(u, p) {
    // CSS pixels relative to the plot area (u.over); null when outside the current zoom.
    var x = u.valToPos(p.t, 'x');
    var y = u.valToPos(Math.max(p.ms, 0.001), 'y');
    if (!isFinite(x) || !isFinite(y) || x < -R || y < -R || x > u.over.clientWidth + R || y > u.over.clientHeight + R) return null;
    return { x: x, y: y };
  }

  function nearest(u, ox, oy) {
    var best = null, bestD = 8 * 8;
    for (var i = 0; i < points.length; i++) {
      var q = pos(u, points[i]);
      if (!q) continue;
      var d = (q.x - ox) * (q.x - ox) + (q.y - oy) * (q.y - oy);
      if (d <= bestD) { bestD = d; best = points[i]; }
    }
    return best;
  }

  function open(p) {
    var view = document.getElementById('trace-exemplar-view');
    if (!view || !p) return false;
    var tpl = null;
    document.querySelectorAll('#trace-exemplar-templates template').forEach(function (t) { if (t.getAttribute('data-trace-id') === p.traceId) tpl = t; });
    var old = view.querySelector('.waterfall');
    if (old) old.remove();
    if (!tpl) return false;
    view.appendChild(tpl.content.cloneNode(true));
    view.setAttribute('data-open-trace', p.traceId);
    selected = p;
    if (chart) chart.redraw(false, false);
    view.scrollIntoView({ behavior: 'auto', block: 'start' });
    return true;
  }

  function draw(u) {
    if (points.length === 0) return;
    var ctx = u.ctx, b = u.bbox, dpr = devicePixelRatio;
    ctx.save();
    ctx.beginPath();
    ctx.rect(b.left, b.top, b.width, b.height);
    ctx.clip();
    for (var i = 0; i < points.length; i++) {
      var p = points[i];
      var q = pos(u, p);
      if (!q) continue;
      var x = b.left + q.x * dpr, y = b.top + q.y * dpr, r = R * dpr;
      ctx.beginPath();
      if (p.reason === 'tail') { ctx.moveTo(x, y - r); ctx.lineTo(x + r, y); ctx.lineTo(x, y + r); ctx.lineTo(x - r, y); ctx.closePath(); }
      else ctx.arc(x, y, r * 0.8, 0, 2 * Math.PI);
      ctx.fillStyle = p.reason === 'tail' ? 'rgba(124,58,237,0.85)' : 'rgba(100,116,139,0.7)';
      ctx.fill();
      if (p === selected) { ctx.lineWidth = 2 * dpr; ctx.strokeStyle = '#111827'; ctx.stroke(); }
    }
    ctx.restore();
    ctx.save();
    ctx.font = Math.round(10 * dpr) + 'px system-ui, sans-serif';
    ctx.fillStyle = 'rgba(124,58,237,0.9)';
    ctx.textAlign = 'right';
    ctx.textBaseline = 'top';
    ctx.fillText('◆ ● kept traces (click one)', b.left + b.width - 4 * dpr, b.top + 3 * dpr);
    ctx.restore();
  }

  /** A uPlot plugin for the latency chart; it widens the y range so the slowest mark is in view. */
  function plugin() {
    return {
      opts: function (u, opts) {
        var top = 0;
        points.forEach(function (p) { if (p.ms > top) top = p.ms; });
        if (!(top > 0)) return;
        var y = opts.scales.y || {};
        var inner = y.range;
        if (y.distr === 3) {
          y.range = function (u, min, max) { return uPlot.rangeLog(min, Math.max(max, top), 10, true); };
        } else {
          y.range = function (u, min, max) {
            var r = typeof inner === 'function' ? inner(u, min, Math.max(max, top)) : [Math.min(0, min), Math.max(max, top)];
            return [r[0], Math.max(r[1], top * 1.08)];
          };
        }
        opts.scales.y = y;
      },
      hooks: {
        ready: [function (u) {
          chart = u;
          var down = null;
          u.over.addEventListener('mousedown', function (e) { down = { x: e.offsetX, y: e.offsetY }; });
          u.over.addEventListener('mousemove', function (e) {
            var p = nearest(u, e.offsetX, e.offsetY);
            u.over.style.cursor = p && p.w ? 'pointer' : '';
            u.over.title = p ? (p.reason + ' trace: ' + p.name + ', ' + p.ms.toFixed(1) + ' ms' + (p.w ? ' (click for its waterfall)' : ' (no spans)')) : '';
          });
          u.over.addEventListener('click', function (e) {
            // A drag (zoom) is not a click on a mark.
            if (down && Math.abs(down.x - e.offsetX) + Math.abs(down.y - e.offsetY) > 4) return;
            var p = nearest(u, e.offsetX, e.offsetY);
            if (p && p.w) open(p);
          });
        }],
        draw: [draw],
      },
    };
  }

  /** Page coordinates of the drawn marks (for tests and for keyboard users' future use). */
  function marks() {
    if (!chart) return [];
    var r = chart.over.getBoundingClientRect();
    var out = [];
    points.forEach(function (p) {
      var q = pos(chart, p);
      if (q) out.push({ traceId: p.traceId, reason: p.reason, w: p.w, x: r.left + q.x, y: r.top + q.y });
    });
    return out;
  }

  window.RedlineTraces = { plugin: plugin, points: points, marks: marks, open: function (id) { return open(points.filter(function (p) { return p.traceId === id; })[0]); } };
})();

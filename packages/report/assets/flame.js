/* Redline flame graph: a small canvas icicle chart (root on top) for CPU profiles and profile diffs.
   Inlined into report.html / compare.html; no dependencies. Exposes window.RedlineFlame.mount. */
(function () {
  'use strict';
  var AREAS = ['app', 'dependency', 'node', 'v8'];
  var KINDS = ['function', 'root', 'idle', 'program', 'gc'];
  var AREA_LABEL = { app: 'application', dependency: 'dependency', node: 'Node internals', v8: 'V8 / native' };
  var AREA_HUE = { app: [18, 80], dependency: [265, 45], node: [150, 40], v8: [210, 12] };
  var ROW = 18;

  function hash(s) {
    var h = 2166136261;
    for (var i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 16777619); }
    return (h >>> 0) / 4294967296;
  }

  function decode(enc) {
    var a = enc.nodes, st = enc.stride, strs = enc.strings, diff = enc.mode === 'diff';
    var i = 0, root = null, maxDepth = 0;
    var stack = []; // [node, remainingChildren]
    while (i < a.length) {
      var n = {
        name: strs[a[i]], file: strs[a[i + 1]], line: a[i + 2], area: AREAS[a[i + 3]] || 'v8', kind: KINDS[a[i + 4]] || 'function',
        children: [], parent: null, depth: 0, match: false,
      };
      if (diff) {
        n.base = a[i + 5]; n.cand = a[i + 6]; n.baseSelf = a[i + 8]; n.candSelf = a[i + 9];
        n.value = (n.base + n.cand) / 2; n.delta = n.cand - n.base;
      } else {
        n.self = a[i + 5]; n.total = a[i + 6]; n.value = n.total;
      }
      var childCount = a[i + 7];
      i += st;
      while (stack.length && stack[stack.length - 1][1] === 0) stack.pop();
      if (stack.length) {
        var top = stack[stack.length - 1];
        n.parent = top[0]; n.depth = top[0].depth + 1; top[0].children.push(n); top[1]--;
      } else root = n;
      if (n.depth > maxDepth) maxDepth = n.depth;
      stack.push([n, childCount]);
    }
    return { root: root, maxDepth: maxDepth };
  }

  function fmtShare(v) { return (v * 100).toFixed(v < 0.001 ? 3 : v < 0.1 ? 2 : 1) + ' %'; }
  function fmtMs(ms) {
    if (ms >= 1000) return (ms / 1000).toFixed(2) + ' s';
    if (ms >= 10) return ms.toFixed(0) + ' ms';
    return ms.toFixed(1) + ' ms';
  }
  function esc(s) { return String(s).replace(/[&<>"]/g, function (c) { return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]; }); }
  function where(n) { return n.file ? n.file + (n.line > 0 ? ':' + n.line : '') : ''; }

  function mount(container, enc, opts) {
    opts = opts || {};
    var tree = decode(enc);
    var root = tree.root;
    var diff = enc.mode === 'diff';
    var total = root.value || 1;
    var maxAbsDelta = 0;
    if (diff) (function walk() {
      var todo = [root];
      while (todo.length) { var n = todo.pop(); if (n !== root && Math.abs(n.delta) > maxAbsDelta) maxAbsDelta = Math.abs(n.delta); for (var k = 0; k < n.children.length; k++) todo.push(n.children[k]); }
    })();

    container.classList.add('flame');
    container.innerHTML =
      '<div class="flame-bar">' +
      '<input type="search" class="flame-search" placeholder="Search functions or files (regex ok)…" aria-label="Search the flame graph">' +
      '<span class="flame-matches" aria-live="polite"></span>' +
      '<button type="button" class="flame-reset" disabled>Reset zoom</button>' +
      '</div>' +
      '<div class="flame-crumb"></div>' +
      '<div class="flame-scroll"><canvas class="flame-canvas"></canvas></div>' +
      '<div class="flame-tip" hidden></div>';
    var input = container.querySelector('.flame-search');
    var matchesEl = container.querySelector('.flame-matches');
    var resetBtn = container.querySelector('.flame-reset');
    var crumb = container.querySelector('.flame-crumb');
    var canvas = container.querySelector('.flame-canvas');
    var tip = container.querySelector('.flame-tip');
    var ctx = canvas.getContext('2d');
    var zoom = root;
    var rows = [];
    var searching = false;

    function color(n) {
      if (searching && !n.match) return n.kind === 'function' ? '#e4e6eb' : '#eef0f3';
      if (searching && n.match) return 'hsl(' + (315 + hash(n.name) * 20) + ',85%,' + (55 + hash(n.file) * 10) + '%)';
      if (diff) {
        if (n === root || maxAbsDelta === 0) return '#dde3ea';
        var r = Math.max(-1, Math.min(1, n.delta / maxAbsDelta));
        var mag = Math.sqrt(Math.abs(r));
        if (Math.abs(n.delta) < 1) return '#e8ebef';
        return r > 0 ? 'hsl(2,' + Math.round(30 + 60 * mag) + '%,' + Math.round(92 - 38 * mag) + '%)' : 'hsl(214,' + Math.round(30 + 60 * mag) + '%,' + Math.round(92 - 38 * mag) + '%)';
      }
      if (n.kind === 'idle') return '#e9edf1';
      if (n.kind === 'root') return '#cfd6de';
      if (n.kind === 'gc') return 'hsl(48,85%,62%)';
      var hs = AREA_HUE[n.area] || AREA_HUE.v8;
      var h = hash(n.name);
      return 'hsl(' + (hs[0] + (h - 0.5) * 16) + ',' + hs[1] + '%,' + (60 + h * 14) + '%)';
    }

    function render() {
      var dpr = window.devicePixelRatio || 1;
      var width = Math.max(200, container.clientWidth || 800);
      var scale = width / (zoom.value || 1);
      // Depth needed: ancestors of the zoomed node plus descendants wide enough to draw.
      var depthNeeded = zoom.depth, todo = [zoom];
      while (todo.length) {
        var n = todo.pop();
        if (n.depth > depthNeeded) depthNeeded = n.depth;
        for (var k = 0; k < n.children.length; k++) if (n.children[k].value * scale >= 0.5) todo.push(n.children[k]);
      }
      var height = (depthNeeded + 1) * ROW + 2;
      canvas.width = Math.round(width * dpr); canvas.height = Math.round(height * dpr);
      canvas.style.width = width + 'px'; canvas.style.height = height + 'px';
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, width, height);
      ctx.font = '11px system-ui, -apple-system, "Segoe UI", sans-serif';
      ctx.textBaseline = 'middle';
      rows = [];
      for (var d = 0; d <= depthNeeded; d++) rows.push([]);
      // Ancestors of the zoomed node span the full width, faded, so a click on them zooms back out.
      for (var p = zoom.parent; p; p = p.parent) box(p, 0, width, true);
      var queue = [[zoom, 0]];
      while (queue.length) {
        var item = queue.pop(), node = item[0], x = item[1];
        var w = node.value * scale;
        box(node, x, w, false);
        var cx = x;
        for (var c = 0; c < node.children.length; c++) {
          var ch = node.children[c], cw = ch.value * scale;
          if (cw >= 0.5) queue.push([ch, cx]);
          cx += cw;
        }
      }
      container.setAttribute('data-zoom', zoom === root ? '' : zoom.name);
      resetBtn.disabled = zoom === root;
      crumb.textContent = zoom === root ? '' : 'Zoomed into ' + zoom.name + (where(zoom) ? ' — ' + where(zoom) : '') + ' (' + fmtShare(zoom.value / total) + ' of ' + (diff ? 'the average profile' : 'samples') + '). Click a faded bar above, press Esc or Reset to zoom out.';
    }

    function box(n, x, w, faded) {
      var y = n.depth * ROW;
      rows[n.depth].push({ x: x, w: w, n: n });
      ctx.globalAlpha = faded ? 0.55 : 1;
      ctx.fillStyle = color(n);
      ctx.fillRect(x, y, Math.max(w - (w > 3 ? 1 : 0), 0.5), ROW - 1);
      if (w > 28) {
        var label = n.name + (n.kind === 'function' && n.file ? '  ' + n.file.split('/').pop() : '');
        ctx.fillStyle = searching && !n.match ? '#8a9099' : '#1d2330';
        var maxW = w - 6;
        if (ctx.measureText(label).width > maxW) {
          label = n.name;
          var lo = 0, hi = label.length;
          if (ctx.measureText(label).width > maxW) {
            while (lo < hi) { var mid = (lo + hi + 1) >> 1; if (ctx.measureText(label.slice(0, mid) + '…').width <= maxW) lo = mid; else hi = mid - 1; }
            label = lo > 0 ? label.slice(0, lo) + '…' : '';
          }
        }
        if (label) ctx.fillText(label, x + 3, y + ROW / 2);
      }
      ctx.globalAlpha = 1;
    }

    function hit(ev) {
      var rect = canvas.getBoundingClientRect();
      var x = ev.clientX - rect.left, y = ev.clientY - rect.top;
      var row = rows[Math.floor(y / ROW)];
      if (!row) return null;
      for (var i = 0; i < row.length; i++) if (x >= row[i].x && x < row[i].x + Math.max(row[i].w, 1)) return row[i].n;
      return null;
    }

    function tipHtml(n) {
      var h = '<div class="tip-name">' + esc(n.name) + '</div>';
      if (where(n)) h += '<div class="tip-file">' + esc(where(n)) + '</div>';
      h += '<div class="tip-area"><span class="sw sw-' + esc(n.area) + '"></span>' + esc(AREA_LABEL[n.area] || n.area) + '</div><table>';
      if (diff) {
        h += '<tr><td>base</td><td>' + fmtShare(n.base / 1e6) + ' total</td><td>' + fmtShare(n.baseSelf / 1e6) + ' self</td></tr>';
        h += '<tr><td>candidate</td><td>' + fmtShare(n.cand / 1e6) + ' total</td><td>' + fmtShare(n.candSelf / 1e6) + ' self</td></tr>';
        h += '<tr><td>change</td><td class="' + (n.delta > 0 ? 'worse' : n.delta < 0 ? 'better' : '') + '">' + (n.delta > 0 ? '+' : '') + (n.delta / 1e4).toFixed(2) + ' pp</td><td></td></tr>';
      } else {
        var ms = enc.sampleMs;
        h += '<tr><td>total</td><td>' + fmtShare(n.total / total) + '</td><td>' + (ms ? fmtMs(n.total * ms) : n.total + ' samples') + '</td></tr>';
        h += '<tr><td>self</td><td>' + fmtShare(n.self / total) + '</td><td>' + (ms ? fmtMs(n.self * ms) : n.self + ' samples') + '</td></tr>';
      }
      return h + '</table>';
    }

    canvas.addEventListener('mousemove', function (ev) {
      var n = hit(ev);
      if (!n) { tip.hidden = true; canvas.style.cursor = ''; return; }
      canvas.style.cursor = 'pointer';
      tip.innerHTML = tipHtml(n);
      tip.hidden = false;
      var box = container.getBoundingClientRect();
      var left = ev.clientX - box.left + 14, top = ev.clientY - box.top + 14;
      if (left + tip.offsetWidth > box.width) left = Math.max(0, ev.clientX - box.left - tip.offsetWidth - 14);
      tip.style.left = left + 'px'; tip.style.top = top + 'px';
    });
    canvas.addEventListener('mouseleave', function () { tip.hidden = true; });
    canvas.addEventListener('click', function (ev) {
      var n = hit(ev);
      if (!n) return;
      zoom = n === zoom && n.parent ? n.parent : n;
      render();
    });
    resetBtn.addEventListener('click', function () { zoom = root; render(); });
    container.addEventListener('keydown', function (ev) { if (ev.key === 'Escape') { zoom = root; render(); } });

    function search(q) {
      var re = null;
      searching = q.length > 0;
      if (searching) {
        try { re = new RegExp(q, 'i'); } catch (e) { re = new RegExp(q.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i'); }
      }
      var count = 0, share = 0, baseShare = 0, candShare = 0;
      var todo = [[root, false]];
      while (todo.length) {
        var item = todo.pop(), n = item[0], under = item[1];
        n.match = !!re && n.kind === 'function' && (re.test(n.name) || re.test(n.file));
        if (n.match) {
          count++;
          // A match under another match is already counted in the outer one's total.
          if (!under) { share += n.value; if (diff) { baseShare += n.base; candShare += n.cand; } }
        }
        for (var k = 0; k < n.children.length; k++) todo.push([n.children[k], under || n.match]);
      }
      container.setAttribute('data-matches', String(count));
      if (!searching) matchesEl.textContent = '';
      else if (count === 0) matchesEl.textContent = 'no match';
      else if (diff) matchesEl.textContent = count + ' frame' + (count === 1 ? '' : 's') + ' · base ' + fmtShare(baseShare / 1e6) + ' → candidate ' + fmtShare(candShare / 1e6);
      else matchesEl.textContent = count + ' frame' + (count === 1 ? '' : 's') + ' · ' + fmtShare(share / total) + ' of samples' + (enc.sampleMs ? ' (' + fmtMs(share * enc.sampleMs) + ')' : '');
      render();
    }
    input.addEventListener('input', function () { search(input.value.trim()); });
    var resizeTimer = 0;
    window.addEventListener('resize', function () { clearTimeout(resizeTimer); resizeTimer = setTimeout(render, 100); });
    container.setAttribute('data-matches', '0');
    render();
    return { search: function (q) { input.value = q; search(q); }, reset: function () { zoom = root; render(); } };
  }

  window.RedlineFlame = { mount: mount };
})();

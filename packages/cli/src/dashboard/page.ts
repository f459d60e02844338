/** The dashboard's HTML: no inline script or style (the CSP admits only the server's own files). */
export function dashboardPage(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Redline · live</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="uplot.css">
<link rel="stylesheet" href="report.css">
</head>
<body>
<header class="top">
  <div class="brand">Redline · live dashboard</div>
  <h1><span id="run-name">run</span> <span id="status" class="badge warn">RUNNING</span></h1>
  <div class="meta"><span id="kpi-elapsed">–</span><span>updates every second</span></div>
</header>
<main>
<section>
  <div class="kpis">
    <div class="kpi"><div class="label">requests</div><div class="value" id="kpi-requests">0</div></div>
    <div class="kpi"><div class="label">last second</div><div class="value" id="kpi-rps">–</div></div>
    <div class="kpi"><div class="label">p99 (last second)</div><div class="value" id="kpi-p99">–</div></div>
    <div class="kpi"><div class="label">errors</div><div class="value" id="kpi-errors">–</div></div>
    <div class="kpi"><div class="label">VUs</div><div class="value" id="kpi-vus">–</div></div>
  </div>
  <div class="alerts" id="live-notes"></div>
  <div class="chart" data-chart="throughput"></div>
  <div class="chart" data-chart="latency"></div>
  <div class="cols"><div class="chart" data-chart="vus"></div><div class="chart" data-chart="lag"></div></div>
</section>
<section id="final" hidden>
  <h2>Result</h2>
  <p class="hint">Thresholds and the doctor's findings, once the run has ended.</p>
  <ul id="final-thresholds"></ul>
  <ul id="final-findings"></ul>
</section>
</main>
<script src="uplot.js"></script>
<script src="charts.js"></script>
<script src="dashboard.js"></script>
</body>
</html>
`;
}

// A static-request scenario: no JavaScript runs per request (the fast path).
// Run it against the demo service:  redline run examples/scenarios/static-mix.ts --target "node packages/demo/dist/server.js --bottleneck healthy"
import { defineScenario } from '@redline/cli';

export default defineScenario({
  name: 'static-mix',
  // Started with --target, the target's address arrives here; otherwise point it at your service.
  baseUrl: process.env.REDLINE_TARGET_URL ?? 'http://127.0.0.1:8080',
  executor: 'constant-arrival-rate',
  rate: 300,
  duration: '15s',
  maxVUs: 100,
  requests: [
    { method: 'GET', url: '/products?page=1', name: 'list', weight: 8 },
    { method: 'GET', url: '/health', name: 'health', weight: 2 },
  ],
  thresholds: {
    'http.latency': ['p(95)<200', 'p(99.9)<1000'],
    'http.latency{name:list}': ['p(99)<300'],
    'http.errors': [{ threshold: 'rate<0.01', abortOnFail: true, delayAbortEval: '5s' }],
  },
});

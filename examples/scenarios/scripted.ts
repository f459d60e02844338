// A scripted scenario: each iteration is an async function with ctx.http, checks, data feeders,
// and two named scenarios with their own load models.
import { defineScenario } from '@redline/cli';

export default defineScenario({
  name: 'scripted',
  baseUrl: process.env.REDLINE_TARGET_URL ?? 'http://127.0.0.1:8080',
  timeout: '5s',
  data: { users: { file: './users.csv', order: 'sequential' } },
  thresholds: {
    'http.latency{scenario:browse}': ['p(99)<250'],
    checks: ['rate>0.99'],
  },
  scenarios: {
    browse: {
      executor: 'ramping-arrival-rate',
      startRate: 20,
      stages: [
        { duration: '5s', target: 100 },
        { duration: '10s', target: 100 },
      ],
      preAllocatedVUs: 10,
      maxVUs: 100,
      tags: { team: 'storefront' },
      exec: async ({ http, check }) => {
        const res = await http.get('/products?page=1', { name: 'GET /products' });
        check(res, {
          'status is 200': (r) => r.status === 200,
          'has a body': (r) => r.text().length > 0,
        });
      },
    },
    login: {
      executor: 'constant-vus',
      vus: 5,
      duration: '10s',
      startTime: '5s',
      exec: async ({ http, check, feed, sleep }) => {
        const user = feed('users');
        const res = await http.post('/products?login=1', { user: user.user }, { name: 'login' });
        check(res, { 'login ok': (r) => r.ok });
        await sleep('200ms');
      },
    },
  },
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serverSettingsHtml } from '../src/server-settings-html.ts';

test("the report's HTTP servers table: settings in seconds, 0 and unset said in words, strings escaped", () => {
  assert.equal(serverSettingsHtml(undefined), '');
  assert.equal(serverSettingsHtml([]), '');
  const html = serverSettingsHtml([
    { kind: 'http', thread: 'main', address: '127.0.0.1', port: 8080, listening: true, keepAliveTimeoutMs: 5000, headersTimeoutMs: 60_000, requestTimeoutMs: 0, maxRequestsPerSocket: 0, timeoutMs: 0 },
    { kind: 'http2-secure', thread: 'worker-<b>1</b>', address: '<img src=x>', port: null, listening: false, keepAliveTimeoutMs: null, headersTimeoutMs: null, requestTimeoutMs: null, maxRequestsPerSocket: null, timeoutMs: 1500 },
  ]);
  assert.match(html, /<td>http<\/td><td>127\.0\.0\.1:8080<\/td><td>main<\/td><td class="num">5 s<\/td><td class="num">60 s<\/td><td class="num">0 \(none\)<\/td><td class="num">unlimited<\/td><td class="num">0 \(none\)<\/td>/);
  assert.match(html, /&lt;img src=x&gt; <span class="note">\(not listening\)<\/span>/);
  assert.match(html, /worker-&lt;b&gt;1&lt;\/b&gt;/);
  assert.match(html, /<td class="num">1,500 ms<\/td><\/tr>/);
  assert.doesNotMatch(html, /<img|<b>/);
});

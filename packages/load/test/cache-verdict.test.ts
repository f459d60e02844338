import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CACHE_VERDICTS, cacheBitsOfHeaders, parseCacheStatus, parseCfCacheStatus, parseXCache, parseXVarnish, verdictOf } from '@redline/load';

const name = (v: number): string => CACHE_VERDICTS[v]!;
const bits = (headers: Record<string, string | string[]>, method = 'GET', status = 200): number => cacheBitsOfHeaders(headers, method === 'GET' || method === 'HEAD', status);

describe('cache verdicts from headers', () => {
  it('reads RFC 9211 Cache-Status: any hit wins, otherwise the member nearest the client', () => {
    assert.equal(name(parseCacheStatus('ExampleCDN; hit')), 'hit');
    assert.equal(name(parseCacheStatus('OriginCache; hit; ttl=30, CDN; fwd=uri-miss; stored')), 'hit');
    assert.equal(name(parseCacheStatus('CDN; fwd=uri-miss; stored; collapsed')), 'miss');
    assert.equal(name(parseCacheStatus('CDN; fwd=vary-miss')), 'miss');
    assert.equal(name(parseCacheStatus('CDN; hit; ttl=-12')), 'stale');
    assert.equal(name(parseCacheStatus('CDN; fwd=stale; fwd-status=304')), 'stale');
    assert.equal(name(parseCacheStatus('CDN; fwd=bypass')), 'bypass');
    assert.equal(name(parseCacheStatus('CDN; fwd=request')), 'bypass');
    assert.equal(name(parseCacheStatus('CDN; detail=whatever')), 'unknown');
  });

  it('reads CF-Cache-Status, X-Cache spellings and X-Varnish transaction ids', () => {
    assert.deepEqual(['HIT', 'MISS', 'EXPIRED', 'STALE', 'REVALIDATED', 'BYPASS', 'DYNAMIC', 'weird'].map((v) => name(parseCfCacheStatus(v))), ['hit', 'miss', 'miss', 'stale', 'stale', 'bypass', 'bypass', 'unknown']);
    assert.deepEqual(['HIT', 'Miss from cloudfront', 'Hit from cloudfront', 'RefreshHit from cloudfront', 'TCP_MISS', 'MISS, HIT', 'PASS', 'none'].map((v) => name(parseXCache(v))), ['hit', 'miss', 'hit', 'stale', 'miss', 'hit', 'bypass', 'unknown']);
    assert.equal(name(parseXVarnish('32770 3')), 'hit');
    assert.equal(name(parseXVarnish('32770')), 'miss');
  });

  it('prefers Cache-Status over vendor headers, and falls back to Age and Via', () => {
    assert.equal(name(verdictOf(bits({ 'cache-status': 'edge; fwd=miss', 'x-cache': 'HIT' }))), 'miss');
    assert.equal(name(verdictOf(bits({ 'cf-cache-status': 'HIT', 'x-varnish': '5' }))), 'hit');
    assert.equal(name(verdictOf(bits({ age: '17' }))), 'hit');
    assert.equal(name(verdictOf(bits({ age: '0', via: '1.1 varnish' }))), 'miss');
    assert.equal(name(verdictOf(bits({ age: '0' }))), 'unknown');
    assert.equal(bits({ 'content-type': 'text/plain', server: 'x' }), 0);
    // Header names are case-insensitive.
    assert.equal(name(verdictOf(bits({ 'X-Cache': 'HIT' }))), 'hit');
  });

  it('flags header problems with the method and status they depend on', () => {
    const problems = (b: number): string[] => ['uncacheable', 'varyStar', 'setCookieOnCacheable', 'noValidators'].filter((_, i) => (b >> (3 + i)) & 1);
    assert.deepEqual(problems(bits({ 'cache-control': 'no-store' })), ['uncacheable']);
    assert.deepEqual(problems(bits({ 'cache-control': 'private, max-age=600', etag: '"a"' })), ['uncacheable']);
    assert.deepEqual(problems(bits({ 'cache-control': 'max-age=0' })), ['uncacheable']);
    // A positive s-maxage keeps it cacheable for shared caches.
    assert.deepEqual(problems(bits({ 'cache-control': 'max-age=0, s-maxage=60', 'last-modified': 'Tue, 01 Dec 2026 00:00:00 GMT' })), []);
    // POSTs and errors are not cacheable-looking.
    assert.deepEqual(problems(bits({ 'cache-control': 'no-store' }, 'POST')), []);
    assert.deepEqual(problems(bits({ 'cache-control': 'no-store' }, 'GET', 500)), []);
    assert.deepEqual(problems(bits({ vary: 'Accept-Encoding, *', 'cache-control': 'public, max-age=5', etag: '"x"' })), ['varyStar']);
    assert.deepEqual(problems(bits({ 'cache-control': 'public, max-age=60', 'set-cookie': ['a=1', 'b=2'], etag: '"x"' })), ['setCookieOnCacheable']);
    assert.deepEqual(problems(bits({ 'set-cookie': 'a=1', 'x-cache': 'HIT' })), ['setCookieOnCacheable']);
    assert.deepEqual(problems(bits({ 'set-cookie': 'a=1', 'cache-control': 'no-store' }, 'POST')), []);
    assert.deepEqual(problems(bits({ 'cache-control': 's-maxage=300' })), ['noValidators']);
    assert.deepEqual(problems(bits({ expires: new Date(Date.now() + 3_600_000).toUTCString() })), ['noValidators']);
    assert.deepEqual(problems(bits({ expires: '0' })), []);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CookieJar } from '@redline/load';

const T0 = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;

describe('CookieJar (tough-cookie)', () => {
  it('ignores an invalid Max-Age, so Expires decides: Max-Age=abc with a past Expires is never sent', () => {
    const jar = new CookieJar();
    const url = new URL('http://shop.example.test/');
    jar.store(url, [`gone=1; Max-Age=abc; Expires=${new Date(T0 - HOUR).toUTCString()}`], T0);
    assert.equal(jar.header(url, T0), null);
  });

  it('Max-Age=abc with a future Expires expires when Expires says, not never', () => {
    const jar = new CookieJar();
    const url = new URL('http://shop.example.test/');
    jar.store(url, [`sid=1; Max-Age=abc; Expires=${new Date(T0 + HOUR).toUTCString()}`], T0);
    assert.equal(jar.header(url, T0 + HOUR - 1000), 'sid=1');
    assert.equal(jar.header(url, T0 + HOUR + 1000), null);
  });

  it('a valid Max-Age counts from receipt and wins over Expires; reading the cookie does not extend it', () => {
    const jar = new CookieJar();
    const url = new URL('http://shop.example.test/');
    jar.store(url, [`sid=1; Max-Age=60; Expires=${new Date(T0 + 10 * HOUR).toUTCString()}`], T0);
    assert.equal(jar.header(url, T0 + 30_000), 'sid=1');
    assert.equal(jar.header(url, T0 + 59_000), 'sid=1');
    assert.equal(jar.header(url, T0 + 61_000), null);
  });

  it('path /api matches /api and /api/x but not /apiary', () => {
    const jar = new CookieJar();
    jar.store(new URL('http://shop.example.test/api/login'), ['tok=1; Path=/api']);
    assert.equal(jar.header(new URL('http://shop.example.test/api')), 'tok=1');
    assert.equal(jar.header(new URL('http://shop.example.test/api/orders')), 'tok=1');
    assert.equal(jar.header(new URL('http://shop.example.test/apiary')), null);
  });

  it('a Secure cookie is sent over https only, loopback included', () => {
    const jar = new CookieJar();
    jar.store(new URL('https://shop.example.test/'), ['s=1; Secure', 'p=2']);
    assert.equal(jar.header(new URL('https://shop.example.test/')), 's=1; p=2');
    assert.equal(jar.header(new URL('http://shop.example.test/')), 'p=2');
    const local = new CookieJar();
    local.store(new URL('https://127.0.0.1:8443/'), ['s=1; Secure']);
    assert.equal(local.header(new URL('https://127.0.0.1:8443/')), 's=1');
    assert.equal(local.header(new URL('http://127.0.0.1:8080/')), null);
  });

  it('refuses a Domain that does not domain-match the host, and a public suffix', () => {
    const jar = new CookieJar();
    const url = new URL('http://api.example.test/');
    jar.store(url, ['evil=1; Domain=attacker.test', 'tld=1; Domain=com', 'ok=1; Domain=example.test']);
    assert.equal(jar.header(url), 'ok=1');
    assert.equal(jar.header(new URL('http://attacker.test/')), null);
    assert.equal(jar.header(new URL('http://www.example.test/')), 'ok=1');
    const com = new CookieJar();
    com.store(new URL('http://www.example.com/'), ['tld=1; Domain=com']);
    assert.equal(com.header(new URL('http://other.com/')), null);
    assert.equal(com.header(new URL('http://www.example.com/')), null);
  });

  it('a host-only cookie is not sent to subdomains', () => {
    const jar = new CookieJar();
    jar.store(new URL('http://example.test/'), ['h=1']);
    assert.equal(jar.header(new URL('http://example.test/')), 'h=1');
    assert.equal(jar.header(new URL('http://www.example.test/')), null);
  });

  it('sends longer paths first, replaces a cookie by name, deletes with Max-Age=0, and clear() empties it', () => {
    const jar = new CookieJar();
    const url = new URL('http://shop.example.test/a/b');
    jar.store(url, ['x=root; Path=/', 'x=deep; Path=/a']);
    assert.equal(jar.header(url), 'x=deep; x=root');
    jar.store(url, ['x=root2; Path=/']);
    assert.deepEqual(jar.get(new URL('http://shop.example.test/')), { x: 'root2' });
    jar.store(url, ['x=; Path=/a; Max-Age=0']);
    assert.equal(jar.header(url), 'x=root2');
    jar.clear();
    assert.equal(jar.header(url), null);
  });

  it('rejects a size bound that is not a positive integer', () => {
    assert.throws(() => new CookieJar(0), { name: 'RangeError', message: 'maxCookies must be a positive integer, got 0' });
  });
});

// Every workspace package must install and run from its npm tarball: README and LICENSE beside it,
// `files` that ship dist/ without build info, `exports` with `types` first, and every package it
// imports at run time declared as a dependency (or a peer). Fast: reads files only; the pack smoke
// test checks the same from real tarballs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

interface PackageJson {
  name: string;
  version: string;
  private?: boolean;
  license?: string;
  type?: string;
  engines?: { node?: string };
  files?: string[];
  exports?: unknown;
  bin?: Record<string, string>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

const workspaces = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { workspaces: string[] }).workspaces;
const packages = workspaces.map((dir) => ({ dir: join(REPO, dir), pkg: JSON.parse(readFileSync(join(REPO, dir, 'package.json'), 'utf8')) as PackageJson }));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? sourceFiles(p) : /\.[cm]?ts$/.test(e) ? [p] : [];
  });
}

/** Conditions objects whose `types` is not the first key (TypeScript and bundlers take the first match). */
function typesNotFirst(exports: unknown, path = 'exports'): string[] {
  if (typeof exports !== 'object' || exports === null) return [];
  const keys = Object.keys(exports);
  const bad = keys.includes('types') && keys[0] !== 'types' ? [path] : [];
  return bad.concat(keys.flatMap((k) => typesNotFirst((exports as Record<string, unknown>)[k], `${path}[${k}]`)));
}

test('every workspace package is publishable: @redline/ name, MIT, ESM, engines, README.md and LICENSE', () => {
  assert.ok(packages.length >= 9);
  for (const { dir, pkg } of packages) {
    assert.match(pkg.name, /^@redline\/[a-z-]+$/, dir);
    assert.notEqual(pkg.private, true, `${pkg.name} is private`);
    assert.equal(pkg.license, 'MIT', pkg.name);
    assert.equal(pkg.type, 'module', pkg.name);
    assert.equal(pkg.engines?.node, '>=20.18', pkg.name);
    assert.ok(existsSync(join(dir, 'README.md')), `${pkg.name} has no README.md`);
    assert.match(readFileSync(join(dir, 'LICENSE'), 'utf8'), /^MIT License/, `${pkg.name} LICENSE`);
  }
});

test('files ship dist/ (without build info) and src/; exports put types first', () => {
  for (const { pkg } of packages) {
    const files = pkg.files ?? [];
    assert.ok(files.includes('dist') && files.includes('src'), `${pkg.name} files: ${JSON.stringify(pkg.files)}`);
    assert.ok(files.includes('!dist/.tsbuildinfo'), `${pkg.name} ships dist/.tsbuildinfo`);
    assert.deepEqual(typesNotFirst(pkg.exports), [], `${pkg.name}: types must come first`);
  }
  const byName = new Map(packages.map((p) => [p.pkg.name, p.pkg]));
  assert.ok(byName.get('@redline/report')?.files?.includes('assets'), '@redline/report ships assets/');
  assert.ok(byName.get('@redline/cli')?.files?.includes('docs'), '@redline/cli ships docs/');
  assert.equal(byName.get('@redline/cli')?.bin?.redline, './bin/redline.js');
});

test('every package a package imports is declared as its dependency or peer; internal versions match', () => {
  const versions = new Map(packages.map((p) => [p.pkg.name, p.pkg.version]));
  const importRe = /(?:^|\n)\s*(?:import|export)\s+(?:type\s+)?[^'";]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (const { dir, pkg } of packages) {
    const declared = { ...pkg.dependencies, ...pkg.peerDependencies };
    for (const file of sourceFiles(join(dir, 'src'))) {
      for (const m of readFileSync(file, 'utf8').matchAll(importRe)) {
        const spec = m[1] ?? m[2] ?? m[3] ?? '';
        if (spec.startsWith('.') || spec.startsWith('node:')) continue;
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
        if (name === pkg.name) continue;
        assert.ok(name in declared, `${pkg.name}: ${file.slice(REPO.length)} imports ${spec}, which is not in its dependencies or peerDependencies`);
      }
    }
    for (const [dep, range] of Object.entries(pkg.dependencies ?? {})) {
      if (versions.has(dep)) assert.equal(range, versions.get(dep), `${pkg.name} depends on ${dep}@${range}, the workspace has ${versions.get(dep)}`);
    }
  }
});

test('no package depends on undici or ioredis at run time (ioredis is an optional peer of @redline/cache)', () => {
  for (const { pkg } of packages) {
    assert.ok(!('undici' in (pkg.dependencies ?? {})), `${pkg.name} depends on undici`);
    assert.ok(!('ioredis' in (pkg.dependencies ?? {})), `${pkg.name} depends on ioredis`);
  }
  const cache = packages.find((p) => p.pkg.name === '@redline/cache')!.pkg;
  assert.ok(cache.peerDependencies?.ioredis);
  assert.equal(cache.peerDependenciesMeta?.ioredis?.optional, true);
});

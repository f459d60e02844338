#!/usr/bin/env node
// Node 20's test runner does not expand globs, so this finds the test files and hands them over.
// Usage: node scripts/run-tests.mjs [package-name-or-path-fragment ...]
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';

const filters = process.argv.slice(2);
const files = [];
function walk(dir) {
  for (const entry of readdirSync(dir)) {
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) walk(p);
    else if (p.endsWith('.test.ts')) files.push(p);
  }
}
for (const pkg of readdirSync('packages')) {
  const testDir = join('packages', pkg, 'test');
  try {
    if (statSync(testDir).isDirectory()) walk(testDir);
  } catch {
    // package without tests
  }
}
const selected = filters.length ? files.filter((f) => filters.some((x) => f.includes(x))) : files;
selected.sort();
if (selected.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...selected], { stdio: 'inherit' });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));

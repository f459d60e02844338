#!/usr/bin/env node
// Copies the reference pages (docs/*.md) into packages/cli/docs/ before `npm pack`, so the help's
// "Docs:" path exists in an install; `--clean` removes the copy after packing.
// Usage (from packages/cli, as its prepack/postpack scripts): node ../../scripts/ship-docs.mjs [--clean]
import { cpSync, readdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const from = fileURLToPath(new URL('../docs/', import.meta.url));
const to = fileURLToPath(new URL('../packages/cli/docs/', import.meta.url));
rmSync(to, { recursive: true, force: true });
if (!process.argv.includes('--clean')) {
  for (const name of readdirSync(from)) {
    if (name.endsWith('.md')) cpSync(from + name, to + name);
  }
}

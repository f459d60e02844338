#!/usr/bin/env node
// Writes schema/result.schema.json from the zod definitions in packages/core/src/result-schema.ts
// (through the build in packages/core/dist). `--check` exits 1 when the committed file is stale.
import { readFile, writeFile } from 'node:fs/promises';
import { resultJsonSchema } from '../packages/core/dist/result-schema.js';

const target = new URL('../schema/result.schema.json', import.meta.url);
const text = JSON.stringify(resultJsonSchema(), null, 2) + '\n';
if (process.argv.includes('--check')) {
  const committed = await readFile(target, 'utf8').catch(() => '');
  if (committed !== text) {
    console.error('schema/result.schema.json is stale: run `npm run schema`');
    process.exit(1);
  }
} else {
  await writeFile(target, text);
  console.log('wrote schema/result.schema.json');
}

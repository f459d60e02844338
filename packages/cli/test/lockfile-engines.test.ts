// `npm ci` must install without EBADENGINE warnings on the Node that runs the tests: every package in
// package-lock.json whose `engines.node` excludes it is named (e.g. light-my-request's cookie@2, which
// wants Node 22, pinned back to cookie@1 by the root `overrides`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

type Version = [number, number, number];

function parseVersion(text: string): Version | null {
  const m = /^v?(\d+|x|\*)(?:\.(\d+|x|\*))?(?:\.(\d+|x|\*))?$/.exec(text.trim());
  if (m === null) return null;
  const part = (s: string | undefined): number => (s === undefined || s === 'x' || s === '*' ? -1 : Number(s));
  return [part(m[1]), part(m[2]), part(m[3])];
}

function compare(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) if (a[i]! !== b[i]!) return a[i]! - b[i]!;
  return 0;
}

/** One comparator of a range (`>=18.18`, `^20.9.0`, `20`, `10.*`, `*`) against a version. */
function satisfiesOne(v: Version, comparator: string): boolean {
  const m = /^(>=|<=|>|<|\^|~|=)?\s*(.+)$/.exec(comparator.trim());
  if (m === null) throw new Error(`unparsed comparator "${comparator}"`);
  const op = m[1] ?? '';
  if (m[2] === '*') return true;
  const want = parseVersion(m[2]!);
  if (want === null) throw new Error(`unparsed version "${m[2]}"`);
  // Missing parts are wildcards: 20 is 20.x.x, >=18.18 is >=18.18.0.
  const floor: Version = [want[0], Math.max(0, want[1]), Math.max(0, want[2])];
  switch (op) {
    case '>=':
      return compare(v, floor) >= 0;
    case '>':
      return compare(v, floor) > 0;
    case '<':
      return compare(v, floor) < 0;
    case '<=':
      return compare(v, floor) <= 0;
    case '^':
      return compare(v, floor) >= 0 && v[0] === want[0];
    case '~':
      return compare(v, floor) >= 0 && v[0] === want[0] && v[1] === floor[1];
    default:
      return want.every((p, i) => p < 0 || p === v[i]);
  }
}

/** Whether `version` satisfies an npm range of `||` alternatives of space-separated comparators. */
function satisfies(version: string, range: string): boolean {
  const v = parseVersion(version);
  if (v === null) throw new Error(`unparsed version "${version}"`);
  return range.split('||').some((alt) => {
    const parts = alt.trim().replace(/(>=|<=|>|<|\^|~|=)\s+/g, '$1').split(/\s+/).filter((s) => s !== '');
    return parts.every((c) => satisfiesOne(v, c));
  });
}

test('the engines range check reads the forms package-lock.json uses', () => {
  assert.equal(satisfies('20.18.0', '>=22'), false);
  assert.equal(satisfies('22.1.0', '>=22'), true);
  assert.equal(satisfies('20.18.0', '>= 0.6'), true);
  assert.equal(satisfies('20.18.0', '^18.18.0 || ^20.9.0 || >=21.1.0'), true);
  assert.equal(satisfies('20.18.0', '^20.19.0 || ^22.13.0 || >=24'), false);
  assert.equal(satisfies('20.18.0', '20 || >=22'), true);
  assert.equal(satisfies('21.0.0', '20 || >=22'), false);
  assert.equal(satisfies('20.18.0', '>=9.3.0 || >=8.10.0 <9.0.0'), true);
  assert.equal(satisfies('8.12.0', '>=8.10.0 <9.0.0'), true);
  assert.equal(satisfies('20.18.0', '10.* || >= 12.*'), true);
  assert.equal(satisfies('20.18.0', '>= 10.x'), true);
  assert.equal(satisfies('20.18.0', '*'), true);
});

test('every package in package-lock.json accepts the Node running the tests (npm ci without EBADENGINE)', () => {
  const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string; engines?: { node?: string } | string[] }> };
  const refused: string[] = [];
  for (const [path, entry] of Object.entries(lock.packages)) {
    const node = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
    if (node === undefined || path === '') continue;
    if (!satisfies(process.versions.node, node)) refused.push(`${path.replace(/^.*node_modules\//, '')}@${entry.version ?? '?'} wants node ${node}`);
  }
  assert.deepEqual(refused, [], `on Node ${process.versions.node}`);
});

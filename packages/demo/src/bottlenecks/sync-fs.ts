import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bottleneck } from '../bottleneck.js';

/** Template files read per request, and the size of each. */
const TEMPLATES = 300;
const TEMPLATE_BYTES = 8 * 1024;

/**
 * The planted problem: every request reads its templates from disk with `readFileSync`, one
 * synchronous open/read/close per file on the event loop, instead of reading them once (or with
 * `fs.promises`). The files sit in the page cache, so this is syscalls and copying, not the disk.
 */
export function renderWithTemplates(dir: string, seed: number): number {
  let size = 0;
  for (let i = 0; i < TEMPLATES; i++) {
    // A Buffer (off the JS heap): the cost is the system calls, not garbage.
    size += readFileSync(join(dir, `t${i}.html`)).byteLength + (seed % 7);
  }
  return size;
}

/** Synchronous file-system calls on the event loop: every request runs {@link renderWithTemplates}. */
export function createSyncFs(): Bottleneck {
  const dir = mkdtempSync(join(tmpdir(), 'redline-demo-sync-fs-'));
  const body = '<p>{{x}}</p>\n'.repeat(Math.ceil(TEMPLATE_BYTES / 13)).slice(0, TEMPLATE_BYTES);
  for (let i = 0; i < TEMPLATES; i++) writeFileSync(join(dir, `t${i}.html`), body);
  let n = 0;
  return {
    handle() {
      return { bytes: renderWithTemplates(dir, n++) };
    },
    async close() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

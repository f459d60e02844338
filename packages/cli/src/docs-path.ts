import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Absolute path of a reference page (`cli.md`, `exit-codes.md`, …): the copy shipped in the
 * package's `docs/` when Redline is installed from npm, else the repository's `docs/` when it runs
 * from a clone. The help points at a file that exists either way.
 */
export function docsPath(page: string): string {
  // dist/ (and src/) sit one level below the package root, the package root two below the repository.
  const candidates = [new URL(`../docs/${page}`, import.meta.url), new URL(`../../../docs/${page}`, import.meta.url)];
  const found = candidates.find((u) => existsSync(u)) ?? candidates[0]!;
  return fileURLToPath(found);
}

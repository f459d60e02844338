import { readFile } from 'node:fs/promises';
import { isAbsolute, relative, sep } from 'node:path';
import { ErrorCodes, RedlineError, type HotFrame } from '@redline/core';
import type { CpuCallFrame } from './cpu-profile.js';
import { classifyArea } from './profile-model.js';
import { SourceMapResolver, scriptPathFromUrl } from './source-maps.js';

/** A node of a V8 sampling heap profile (`.heapprofile`): bytes allocated by this call path itself. */
export interface HeapProfileNode {
  callFrame: CpuCallFrame;
  selfSize: number;
  id: number;
  children: HeapProfileNode[];
}

/** A V8 sampling heap profile as written by `HeapProfiler.stopSampling` (`.heapprofile`). */
export interface HeapProfile {
  head: HeapProfileNode;
  samples?: { size: number; nodeId: number; ordinal: number }[];
}

/**
 * Reads a `.heapprofile` file. Throws REDLINE_ERR_BAD_DATA_FILE when it is missing, not JSON, or has
 * no `head` call tree.
 */
export async function loadHeapProfile(path: string): Promise<HeapProfile> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    const why = err instanceof SyntaxError ? 'is not valid JSON' : `could not be read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`;
    throw new RedlineError(ErrorCodes.BAD_DATA_FILE, `heap profile ${path} ${why}`, { cause: err });
  }
  const head = (data as { head?: Partial<HeapProfileNode> } | null)?.head;
  if (typeof head !== 'object' || head === null || typeof head.callFrame !== 'object' || !Array.isArray(head.children)) {
    throw new RedlineError(ErrorCodes.BAD_DATA_FILE, `heap profile ${path} is not a V8 sampling heap profile: "head" call tree missing`);
  }
  return data as HeapProfile;
}

/**
 * The functions that allocated the most sampled bytes, most first, as frames: `selfShare` is the
 * share of all sampled bytes allocated by the function itself, `totalShare` including its callees.
 * Frames resolve through source maps like the CPU profile's; `(root)` and V8 internals are left out.
 */
export function topAllocationFrames(profile: HeapProfile, opts: { limit?: number; sourceMaps?: boolean; appRoot?: string } = {}): HotFrame[] {
  const resolver = opts.sourceMaps === false ? null : new SourceMapResolver();
  const self = new Map<string, HotFrame>();
  const incl = new Map<string, number>();
  let totalBytes = 0;
  const keyFor = (cf: CpuCallFrame): { key: string; frame: HotFrame } => {
    let file = cf.url === '' ? '' : (scriptPathFromUrl(cf.url) ?? cf.url);
    let line = cf.lineNumber + 1;
    let column = cf.columnNumber + 1;
    let mappedFile: string | undefined;
    if (resolver !== null && cf.url !== '' && !cf.url.startsWith('node:') && cf.lineNumber >= 0) {
      const pos = resolver.resolve(cf.url, cf.lineNumber, Math.max(0, cf.columnNumber));
      if (pos !== null) {
        file = mappedFile = pos.file;
        line = pos.line + 1;
        column = pos.column + 1;
      }
    }
    const area = classifyArea(cf.url, mappedFile, opts.appRoot);
    if (opts.appRoot !== undefined && isAbsolute(file)) {
      const rel = relative(opts.appRoot, file);
      if (rel !== '' && !rel.startsWith('..') && !isAbsolute(rel)) file = rel.split(sep).join('/');
    }
    const functionName = cf.functionName === '' ? '(anonymous)' : cf.functionName;
    return { key: `${functionName}|${file}|${line}`, frame: { functionName, file, line, column, area, selfShare: 0, totalShare: 0 } };
  };
  // Iterative walk: allocation stacks can be deep. Each entry carries the keys already on its path.
  const todo: { node: HeapProfileNode; path: ReadonlySet<string> }[] = [{ node: profile.head, path: new Set() }];
  const order: { node: HeapProfileNode; key: string; path: ReadonlySet<string> }[] = [];
  while (todo.length > 0) {
    const { node, path } = todo.pop()!;
    const { key, frame } = keyFor(node.callFrame);
    const isRoot = node === profile.head;
    totalBytes += node.selfSize;
    if (!isRoot && frame.file !== '') {
      const acc = self.get(key) ?? frame;
      acc.selfShare += node.selfSize;
      self.set(key, acc);
    }
    order.push({ node, key, path });
    const childPath = isRoot ? path : new Set([...path, key]);
    for (const c of node.children) todo.push({ node: c, path: childPath });
  }
  // Inclusive bytes: each node's own bytes count once for every distinct function on its path.
  for (const { node, key, path } of order) {
    for (const k of new Set([...path, key])) incl.set(k, (incl.get(k) ?? 0) + node.selfSize);
  }
  if (totalBytes === 0) return [];
  const out = [...self.entries()].map(([key, f]) => ({ ...f, selfShare: f.selfShare / totalBytes, totalShare: (incl.get(key) ?? 0) / totalBytes }));
  out.sort((a, b) => b.selfShare - a.selfShare || b.totalShare - a.totalShare);
  return out.filter((f) => f.selfShare > 0).slice(0, opts.limit ?? 10);
}

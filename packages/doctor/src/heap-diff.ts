import { isAbsolute, relative, sep } from 'node:path';
import type { LeakSuspect, RetainerStep } from '@redline/core';
import { analyzeHeap, edgeName, edgeTarget, edgeType, nodeId, nodeName, nodeType, retainerChain, reachable, selfSize, type HeapGraph } from './heap-graph.js';
import type { HeapSnapshot } from './heap-snapshot.js';
import { classifyArea } from './profile-model.js';
import { SourceMapResolver, scriptPathFromUrl } from './source-maps.js';

/** Options of {@link diffHeapSnapshots}. */
export interface HeapDiffOptions {
  /** Show paths below this directory relative to it; code below it is the app. */
  appRoot?: string;
  /** Resolve closure positions through source maps (default true). */
  sourceMaps?: boolean;
  /** Fewest new bytes a holder must keep to be reported (default 256 KiB). */
  minAddedBytes?: number;
  /** Most suspects returned (default 3). */
  limit?: number;
}

const CODE_TYPES = new Set(['code', 'hidden', 'object shape', 'synthetic']);

/** The name objects are grouped by: the constructor for objects, the function for closures. */
export function classKey(s: HeapSnapshot, i: number): string {
  const type = nodeType(s, i);
  const name = nodeName(s, i);
  switch (type) {
    case 'object':
      return name === '' ? 'Object' : name;
    case 'closure':
      return `closure ${name === '' ? '(anonymous)' : name}`;
    case 'string':
    case 'concatenated string':
    case 'sliced string':
      return '(string)';
    case 'number':
      return '(heap number)';
    case 'array':
      return name === '' ? '(array)' : name.startsWith('(') ? name : `(${name})`;
    default:
      return `(${type}) ${name}`.trim();
  }
}

function classCounts(s: HeapSnapshot): Map<string, number> {
  const out = new Map<string, number>();
  for (let i = 1; i < s.nodeCount; i++) {
    const k = classKey(s, i);
    out.set(k, (out.get(k) ?? 0) + 1);
  }
  return out;
}

function indexById(s: HeapSnapshot): Map<number, number> {
  const out = new Map<number, number>();
  for (let i = 0; i < s.nodeCount; i++) out.set(nodeId(s, i), i);
  return out;
}

/**
 * Compares heap snapshots of one process taken in order (two or three). Objects are matched by V8
 * object id (ids are stable within a process), so "new" means created
 * after the first snapshot and still alive in the last. Each new object is attributed to its
 * *holder*: the nearest dominator that already existed in the first snapshot — the long-lived Map,
 * array or object the new objects pile up in. Holders are ranked by the new bytes they keep; each
 * comes with the classes it gained, its retained size in every snapshot (exact, from the dominator
 * tree), and a shortest retainer path to a GC root in the user's terms.
 */
export function diffHeapSnapshots(snapshots: readonly HeapSnapshot[], opts: HeapDiffOptions = {}): LeakSuspect[] {
  if (snapshots.length < 2) return [];
  const first = snapshots[0]!;
  const last = snapshots[snapshots.length - 1]!;
  const graphs = snapshots.map((s) => analyzeHeap(s));
  const g = graphs[graphs.length - 1]!;
  const idMaps = graphs.map((x) => indexById(x.snapshot));
  const oldIds = idMaps[0]!;
  const isNew = (i: number): boolean => !oldIds.has(nodeId(last, i));
  const holderOf = attributeNewObjects(g, isNew);
  const countsFirst = classCounts(first);
  const countsLast = classCounts(last);
  const byHolder = new Map<number, { count: number; bytes: number; classes: Map<string, { added: number; bytes: number }> }>();
  const owners = new Map<number, number>();
  for (let i = 1; i < last.nodeCount; i++) {
    const found = holderOf[i]!;
    if (found === NONE || !isNew(i)) continue;
    let h = owners.get(found);
    if (h === undefined) {
      h = ownerOf(g, found);
      owners.set(found, h);
    }
    const entry = byHolder.get(h) ?? { count: 0, bytes: 0, classes: new Map() };
    byHolder.set(h, entry);
    const size = selfSize(last, i);
    entry.count++;
    entry.bytes += size;
    const k = classKey(last, i);
    const c = entry.classes.get(k) ?? { added: 0, bytes: 0 };
    c.added++;
    c.bytes += size;
    entry.classes.set(k, c);
  }
  const minBytes = opts.minAddedBytes ?? 256 * 1024;
  const ranked = [...byHolder.entries()].filter(([h, e]) => e.bytes >= minBytes && !CODE_TYPES.has(nodeType(last, h)) && h !== 0).sort((a, b) => b[1].bytes - a[1].bytes);
  const namer = new PathNamer(g, opts);
  return ranked.slice(0, opts.limit ?? 3).map(([h, e]) => {
    const id = nodeId(last, h);
    const retainedSeries = graphs.map((x, k) => {
      const at = idMaps[k]!.get(id);
      return at === undefined ? 0 : x.retained[at]!;
    });
    const classes = [...e.classes.entries()]
      .sort((a, b) => b[1].bytes - a[1].bytes)
      .slice(0, 5)
      .map(([name, c]) => ({ name, countFirst: countsFirst.get(name) ?? 0, countLast: countsLast.get(name) ?? 0, added: c.added, addedBytes: c.bytes }));
    const path = namer.path(h);
    return {
      holder: classKey(last, h),
      holderId: id,
      retainedFirstBytes: retainedSeries[0]!,
      retainedLastBytes: retainedSeries[retainedSeries.length - 1]!,
      classes,
      addedCount: e.count,
      addedBytes: e.bytes,
      path,
      pathText: pathText(classKey(last, h), path),
      retainedSeries,
    };
  });
}

const NONE = 0xffffffff;

/**
 * A backing store (a Map's table, an array's elements, an object's properties: V8 `array`/`hidden`
 * nodes and `system /` internals) stands for the object that owns it: that is what the user wrote.
 */
function ownerOf(g: HeapGraph, holder: number): number {
  const s = g.snapshot;
  let h = holder;
  for (let k = 0; k < 8 && h !== 0; k++) {
    const type = nodeType(s, h);
    const internal = type === 'array' || type === 'hidden' || type === 'code' || nodeName(s, h).startsWith('system / ');
    if (!internal || g.idom[h] === 0) break;
    h = g.idom[h]!;
  }
  return h;
}

/** For every node of the last snapshot, its nearest dominator (or itself) that existed in the first snapshot. */
function attributeNewObjects(g: HeapGraph, isNew: (i: number) => boolean): Uint32Array {
  const s = g.snapshot;
  const holder = new Uint32Array(s.nodeCount).fill(NONE);
  const chain: number[] = [];
  for (let i = 0; i < s.nodeCount; i++) {
    if (holder[i] !== NONE || !reachable(g, i)) continue;
    let v = i;
    chain.length = 0;
    while (holder[v] === NONE && v !== 0 && isNew(v)) {
      chain.push(v);
      v = g.idom[v]!;
    }
    const h = holder[v] !== NONE ? holder[v]! : v;
    holder[v] = h;
    for (const c of chain) holder[c] = h;
  }
  return holder;
}

/** Names retainer paths: property and variable names, closures with their source positions. */
class PathNamer {
  private readonly resolver: SourceMapResolver | null;
  private contextOwner: Map<number, number> | null = null;

  constructor(
    private readonly g: HeapGraph,
    private readonly opts: HeapDiffOptions,
  ) {
    this.resolver = opts.sourceMaps === false ? null : new SourceMapResolver();
  }

  /** The holder's path to a root, at most 6 named steps. */
  path(holder: number): RetainerStep[] {
    const s = this.g.snapshot;
    const steps: RetainerStep[] = [];
    for (const { node, edge } of retainerChain(this.g, holder)) {
      if (steps.length >= 6) break;
      const type = edgeType(s, edge);
      const name = edgeName(s, edge);
      const ownerType = nodeType(s, node);
      if (node === 0 || ownerType === 'synthetic') break;
      if (type === 'property') steps.push({ label: `${this.ownerLabel(node)}.${name}` });
      else if (type === 'element') steps.push({ label: `${this.ownerLabel(node)}[${name}]` });
      else if (type === 'context') steps.push({ label: `variable ${name}`, ...this.contextSite(node) });
      else if (ownerType === 'closure') steps.push({ label: `closure ${nodeName(s, node) || '(anonymous)'}`, ...this.closureSite(node) });
      // internal and hidden edges (a Map's table, an array's elements, a context's parent) are plumbing.
    }
    return dedupe(steps);
  }

  private ownerLabel(i: number): string {
    const s = this.g.snapshot;
    const type = nodeType(s, i);
    if (type === 'closure') return `closure ${nodeName(s, i) || '(anonymous)'}`;
    const name = nodeName(s, i);
    if (type === 'object' && (name === '' || name === 'Object')) return 'Object';
    return name.startsWith('system / ') ? name.slice(9) : name || type;
  }

  /** Where a context (a function scope) comes from: the closure that holds it. */
  private contextSite(context: number): Omit<RetainerStep, 'label'> {
    const owner = this.owners().get(context);
    return owner === undefined ? {} : this.closureSite(owner, true);
  }

  private owners(): Map<number, number> {
    if (this.contextOwner !== null) return this.contextOwner;
    const s = this.g.snapshot;
    const out = new Map<number, number>();
    for (let i = 0; i < s.nodeCount; i++) {
      if (nodeType(s, i) !== 'closure') continue;
      for (let e = s.firstEdge[i]!; e < s.firstEdge[i + 1]!; e += s.edgeFieldCount) {
        if (edgeName(s, e) === 'context' && edgeType(s, e) === 'internal') {
          const c = edgeTarget(s, e);
          const held = out.get(c);
          if (held === undefined || earlierClosure(s, i, held)) out.set(c, i);
        }
      }
    }
    this.contextOwner = out;
    return out;
  }

  private closureSite(closure: number, withName = false): Omit<RetainerStep, 'label'> {
    const s = this.g.snapshot;
    const loc = s.locations.get(closure);
    const url = scriptUrl(s, closure);
    if (loc === undefined || url === null) return {};
    let file = scriptPathFromUrl(url) ?? url;
    let line = loc.line + 1;
    let column = loc.column + 1;
    let mapped = false;
    if (this.resolver !== null && !url.startsWith('node:')) {
      const pos = this.resolver.resolve(url, loc.line, loc.column);
      if (pos !== null) {
        file = pos.file;
        line = pos.line + 1;
        column = pos.column + 1;
        mapped = true;
      }
    }
    const area = classifyArea(url, mapped ? file : undefined, this.opts.appRoot);
    const pkg = packageOf(file);
    const root = this.opts.appRoot;
    if (root !== undefined && isAbsolute(file)) {
      const rel = relative(root, file);
      if (rel !== '' && !rel.startsWith('..') && !isAbsolute(rel)) file = rel.split(sep).join('/');
    }
    const site: Omit<RetainerStep, 'label'> = { file, line, column, area, ...(area === 'dependency' && pkg !== null ? { package: pkg } : {}) };
    if (withName) site.inFunction = nodeName(s, closure) || '(anonymous)';
    return site;
  }
}

/**
 * Whether closure `a` names a scope better than `b`: every closure made in one scope keeps it alive
 * alike, so the choice must not follow the snapshot's node order (heap addresses, which differ from run
 * to run: leak-map's holder read "closure close" once instead of "closure handle"). A closure with a
 * known position wins, then the one defined first in the source, then the lower node index.
 */
function earlierClosure(s: HeapSnapshot, a: number, b: number): boolean {
  const la = s.locations.get(a);
  const lb = s.locations.get(b);
  if (la === undefined || lb === undefined) return la !== undefined || (lb === undefined && a < b);
  if (la.scriptId !== lb.scriptId) return la.scriptId < lb.scriptId;
  return la.line !== lb.line ? la.line < lb.line : la.column !== lb.column ? la.column < lb.column : a < b;
}

/** The script URL of a closure: closure → shared function info → script, whose name is the URL. */
function scriptUrl(s: HeapSnapshot, closure: number): string | null {
  const child = (i: number, name: string): number | null => {
    for (let e = s.firstEdge[i]!; e < s.firstEdge[i + 1]!; e += s.edgeFieldCount) if (edgeName(s, e) === name) return edgeTarget(s, e);
    return null;
  };
  const shared = child(closure, 'shared');
  if (shared === null) return null;
  const script = child(shared, 'script_or_debug_info') ?? child(shared, 'script');
  if (script === null) return null;
  const name = nodeName(s, script);
  return /^(file:|node:|\/)/.test(name) ? name : null;
}

/** `pkg` or `@scope/pkg` from the last `node_modules` segment of a path. */
export function packageOf(file: string): string | null {
  const m = /[\\/]node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)[\\/](?!.*[\\/]node_modules[\\/])/.exec(file);
  return m === null ? null : m[1]!.replace(/\\/g, '/');
}

/** Drops repeats, and the closure that keeps a scope right after the variable that names it. */
function dedupe(steps: RetainerStep[]): RetainerStep[] {
  return steps.filter((s, i) => {
    const prev = steps[i - 1];
    if (prev === undefined) return true;
    if (s.label === prev.label) return false;
    return !(prev.inFunction !== undefined && s.label === `closure ${prev.inFunction}` && s.file === prev.file && s.line === prev.line);
  });
}

function site(step: RetainerStep): string {
  if (step.file === undefined) return '';
  const where = `${step.file}:${step.line}`;
  const pkg = step.package === undefined ? '' : `, package ${step.package}`;
  return step.inFunction !== undefined ? ` (kept by closure ${step.inFunction} at ${where}${pkg})` : ` (${where}${pkg})`;
}

/** `Map in SessionStore.sessions ← variable store (kept by closure handle at src/app.ts:12) ← …`. */
export function pathText(holder: string, path: readonly RetainerStep[]): string {
  const [head, ...rest] = path;
  if (head === undefined) return holder;
  const parts = [`${holder} in ${head.label}${site(head)}`, ...rest.map((p) => `${p.label}${site(p)}`)];
  return parts.join(' ← ');
}

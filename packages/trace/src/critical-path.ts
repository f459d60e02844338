/**
 * The critical path of one trace: the chain of spans that determined when the root finished.
 *
 * Walking back from the root's end, the child that finished last (before the cursor) is on the
 * path; the cursor moves to that child's start and the walk repeats inside the child, then
 * continues among its earlier siblings. Time on the path that no child covers is the span's own
 * ("self") time. Children are clipped to their parent's window, so a child that overflows its
 * parent (an async call the handler did not await) only counts until the parent ended. Of two
 * overlapping siblings, the later-finishing one owns the overlap and the other only its earlier part.
 * The segments tile the root's window exactly: their durations add up to the root's duration.
 */
import type { Span } from './span.js';

/** A stretch of the critical path owned by one span's own time. */
export interface PathSegment {
  span: Span;
  startMs: number;
  endMs: number;
}

/** A trace arranged as a tree. */
export interface TraceTree {
  root: Span;
  /** Children by parent span id, sorted by start time. */
  children: Map<string, Span[]>;
  /** Spans whose parent was not in the trace and that were adopted under the innermost span enclosing them. */
  adopted: number;
  /** Other spans that lay outside the root entirely (another request's spans, clock-skewed), not analysed. */
  detached: number;
}

function byStart(a: Span, b: Span): number {
  return a.startMs - b.startMs || b.endMs - a.endMs;
}

/**
 * Builds the tree of one trace. The root is the earliest server span without a parent in the trace
 * (with Redline's generator as the caller, the server span's parent is the generator's own span,
 * never exported), else the earliest parentless span. A span whose parent is missing (lost, dropped,
 * or from a service that is not instrumented) is adopted under the innermost span of the tree whose
 * window encloses its start. Returns null for an empty trace.
 */
export function buildTree(spans: readonly Span[], preferredRoot?: Span): TraceTree | null {
  if (spans.length === 0) return null;
  const ids = new Set<string>();
  for (const s of spans) ids.add(s.spanId);
  const orphans: Span[] = [];
  const children = new Map<string, Span[]>();
  for (const s of spans) {
    if (s.parentSpanId !== null && ids.has(s.parentSpanId) && s.parentSpanId !== s.spanId) {
      let list = children.get(s.parentSpanId);
      if (!list) children.set(s.parentSpanId, (list = []));
      list.push(s);
    } else orphans.push(s);
  }
  orphans.sort(byStart);
  const root = preferredRoot ?? orphans.find((s) => s.kind === 2) ?? orphans[0];
  if (root === undefined) return null;
  let adopted = 0;
  let detached = 0;
  for (const o of orphans) {
    if (o === root) continue;
    if (o.startMs < root.startMs || o.startMs >= root.endMs) {
      detached++;
      continue;
    }
    // Descend to the innermost span whose window holds the orphan's start.
    let host = root;
    for (;;) {
      const next = children.get(host.spanId)?.find((c) => c.startMs <= o.startMs && o.startMs < c.endMs && c !== o);
      if (next === undefined) break;
      host = next;
    }
    let list = children.get(host.spanId);
    if (!list) children.set(host.spanId, (list = []));
    list.push(o);
    adopted++;
  }
  for (const list of children.values()) list.sort(byStart);
  return { root, children, adopted, detached };
}

/**
 * The critical path of a tree as segments, latest first. Iterative (no recursion), O(n log n) in
 * the number of spans: deep or wide traces of 100,000 spans are fine.
 */
export function criticalPath(tree: TraceTree): PathSegment[] {
  const out: PathSegment[] = [];
  // Each frame walks one span's window [lo, hi] from `cursor` down to `lo`.
  interface Frame {
    span: Span;
    lo: number;
    cursor: number;
    kids: Span[];
    /** prefix argmax of end over kids (sorted by start): index of the latest-ending among kids[0..i]. */
    best: Int32Array;
    /** Kids with index < limit start before the cursor. */
    limit: number;
  }
  const frame = (span: Span, lo: number, hi: number): Frame => {
    const all = tree.children.get(span.spanId) ?? [];
    const kids = all.filter((c) => c.endMs > lo && c.startMs < hi && c.endMs > c.startMs);
    const best = new Int32Array(kids.length);
    for (let i = 0; i < kids.length; i++) {
      const prev = i === 0 ? -1 : best[i - 1]!;
      best[i] = prev >= 0 && kids[prev]!.endMs >= kids[i]!.endMs ? prev : i;
    }
    return { span, lo, cursor: hi, kids, best, limit: kids.length };
  };
  const stack: Frame[] = [frame(tree.root, tree.root.startMs, tree.root.endMs)];
  while (stack.length > 0) {
    const f = stack[stack.length - 1]!;
    if (f.cursor <= f.lo) {
      stack.pop();
      continue;
    }
    // Shrink the candidate prefix to the kids that start before the cursor.
    let lo = 0;
    let hi = f.limit;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (f.kids[mid]!.startMs < f.cursor) lo = mid + 1;
      else hi = mid;
    }
    f.limit = lo;
    if (f.limit === 0) {
      out.push({ span: f.span, startMs: f.lo, endMs: f.cursor });
      f.cursor = f.lo;
      continue;
    }
    const c = f.kids[f.best[f.limit - 1]!]!;
    const cEnd = Math.min(c.endMs, f.cursor);
    const cStart = Math.max(c.startMs, f.lo);
    if (cEnd < f.cursor) out.push({ span: f.span, startMs: cEnd, endMs: f.cursor });
    f.cursor = cStart;
    if (cEnd > cStart) stack.push(frame(c, cStart, cEnd));
  }
  return out;
}

import { isAbsolute, relative, sep } from 'node:path';
import { ErrorCodes, RedlineError, type CodeArea, type HotFrame } from '@redline/core';
import { validateCpuProfile, type CpuProfile, type CpuProfileNode } from './cpu-profile.js';
import { SourceMapResolver, scriptPathFromUrl } from './source-maps.js';

/**
 * What a frame is: a real function, or one of V8's synthetic entries that stand for no code
 * (`(root)`, `(idle)`, `(program)`, `(garbage collector)`).
 */
export type FrameKind = 'function' | 'root' | 'idle' | 'program' | 'gc';

/** A function of the profile after source mapping. Lines and columns are 1-based, as editors show them. */
export interface ResolvedFrame {
  /** Index into `ProfileModel.frames`. */
  index: number;
  functionName: string;
  /** Source-mapped path (relative to `appRoot` when inside it), a `node:` URL, or '' for synthetic/native frames. */
  file: string;
  line: number;
  column: number;
  area: CodeArea;
  kind: FrameKind;
  /** True when `file`/`line` come from a source map. */
  mapped: boolean;
  /** The script URL V8 reported and the 1-based position in it, before mapping. */
  generated: { url: string; line: number; column: number };
}

/** A time window on the epoch clock, in ms; `start` inclusive, `end` exclusive. */
export interface EpochWindow {
  startEpochMs: number;
  endEpochMs: number;
}

/** Which function a call-tree node stands for (source-mapped), shared by plain and diff trees. */
export interface FlameFrame {
  name: string;
  file: string;
  line: number;
  column: number;
  area: CodeArea;
  /** Synthetic frames (`idle`, `program`, `gc`, `root`) are kept so a viewer can mark or hide them. */
  kind: FrameKind;
}

/** A node of a merged call tree; children are ordered by `totalSamples`, largest first. */
export interface FlameNode extends FlameFrame {
  /** Samples with this node on top of the stack. */
  selfSamples: number;
  /** Samples with this node anywhere on the stack (self plus descendants). */
  totalSamples: number;
  children: FlameNode[];
}

/** One sample of the profile: its stack (frame indices, root first, `(root)` excluded) and timing. */
export interface ProfileSample {
  stack: readonly number[];
  /** ms since the profile started. */
  timeMs: number;
  /** Time this sample stands for, in µs (the gap to the next sample). */
  weightUs: number;
}

/** Options of {@link createProfileModel}. */
export interface ProfileModelOptions {
  /**
   * Epoch ms of `profile.startTime`; windows are given on this clock. Default: the probe's
   * `$redline.startEpochMs` in the profile, else 0 (windows then count ms since the profile started).
   */
  startEpochMs?: number;
  /** Resolve frames through the scripts' source maps. Default true. */
  sourceMaps?: boolean;
  /** Paths inside this directory are shown relative to it. */
  appRoot?: string;
}

const SYNTHETIC: Record<string, FrameKind> = {
  '(root)': 'root',
  '(idle)': 'idle',
  '(program)': 'program',
  '(garbage collector)': 'gc',
};

/**
 * Tells which code area a script URL belongs to: `node_modules` → dependency, `node:` → node,
 * no URL (native code and V8's synthetic frames) → v8, anything else → app. With `appRoot`, only the
 * part of a path below it counts, so an app that itself lives in `node_modules` (an installed
 * package, such as `@redline/demo` run by `redline demo`) is still the app.
 */
const REDLINE_IN_TARGET = /[\\/](?:@redline|packages)[\\/](?:pool|probe|flow|trace)[\\/](?:dist|src)[\\/]/;

export function classifyArea(url: string, mappedFile?: string, appRoot?: string): CodeArea {
  if (url === '') return 'v8';
  if (url.startsWith('node:')) return 'node';
  const nm = /[\\/]node_modules[\\/]/;
  const belowRoot = (path: string): string => {
    if (appRoot === undefined || !isAbsolute(path)) return path;
    const rel = relative(appRoot, path);
    return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? sep + rel : path;
  };
  const scriptPath = scriptPathFromUrl(url) ?? url;
  if (nm.test(belowRoot(scriptPath)) || (mappedFile !== undefined && nm.test(belowRoot(mappedFile)))) return 'dependency';
  // Redline's own in-target libraries (pool watcher, probe, flow) are never the user's code, also when
  // they run from a checkout of this repository rather than from node_modules.
  if (REDLINE_IN_TARGET.test(url)) return 'dependency';
  return 'app';
}

interface InternalNode {
  frame: number;
  parent: number;
  children: number[];
}

/**
 * A V8 CPU profile made ready for questions: frames resolved through source maps and sorted into
 * code areas, samples on a clock, and time-windowed hot-function and call-tree views.
 */
export class ProfileModel {
  /** The profile as V8 wrote it (kept for exporting `.cpuprofile`). */
  readonly profile: CpuProfile;
  /** Distinct functions after source mapping (merged by name, file, line and column). */
  readonly frames: readonly ResolvedFrame[];
  /** Epoch ms of the profile's start; 0 when unknown. */
  readonly startEpochMs: number;
  /** Wall time the profile covers, in ms. */
  readonly durationMs: number;
  /** Thread the profile came from (the probe's `$redline.thread`), `main` when not said. */
  readonly thread: string;

  readonly #nodes: InternalNode[];
  readonly #root: number;
  readonly #sampleNode: Int32Array;
  readonly #sampleTimeMs: Float64Array;
  /** Thread index of each sample in a profile merged from several threads; null for one thread. */
  readonly #sampleThread: Int32Array | null;
  /** Per node: the distinct frames on its path, used for total (inclusive) counts. */
  #pathFrames: (readonly number[])[] | null = null;
  #stacks: (readonly number[])[] | null = null;

  /** Use {@link createProfileModel}. */
  constructor(profile: CpuProfile, options: ProfileModelOptions = {}) {
    const { startEpochMs = profile?.$redline?.startEpochMs ?? 0, sourceMaps = true, appRoot } = options;
    if (typeof startEpochMs !== 'number' || !Number.isFinite(startEpochMs)) {
      throw new RedlineError(ErrorCodes.INVALID_ARGUMENT, `startEpochMs must be a finite number of ms, got ${String(startEpochMs)}`);
    }
    if (appRoot !== undefined && (typeof appRoot !== 'string' || !isAbsolute(appRoot))) {
      throw new RedlineError(ErrorCodes.INVALID_ARGUMENT, `appRoot must be an absolute directory path, got ${String(appRoot)}`);
    }
    validateCpuProfile(profile);
    this.profile = profile;
    this.startEpochMs = startEpochMs;
    this.durationMs = Math.max(0, (profile.endTime - profile.startTime) / 1000);
    this.thread = profile.$redline?.thread ?? 'main';

    const resolver = sourceMaps ? new SourceMapResolver() : null;
    const frames: ResolvedFrame[] = [];
    const frameByKey = new Map<string, number>();
    const indexById = new Map<number, number>();
    profile.nodes.forEach((n, i) => indexById.set(n.id, i));
    const nodes: InternalNode[] = profile.nodes.map((n) => ({
      frame: this.#frameFor(n, frames, frameByKey, resolver, appRoot),
      parent: -1,
      children: [],
    }));
    profile.nodes.forEach((n, i) => {
      for (const childId of n.children ?? []) {
        const c = indexById.get(childId);
        if (c === undefined) continue;
        nodes[i]!.children.push(c);
        nodes[c]!.parent = i;
      }
    });
    this.#nodes = nodes;
    this.frames = frames;
    const rootIdx = nodes.findIndex((n) => n.parent === -1);
    this.#root = rootIdx < 0 ? 0 : rootIdx;

    const count = profile.samples.length;
    this.#sampleNode = new Int32Array(count);
    this.#sampleTimeMs = new Float64Array(count);
    const threadOf = profile.$redline?.sampleThreads;
    this.#sampleThread = Array.isArray(threadOf) && threadOf.length === count ? Int32Array.from(threadOf) : null;
    let tUs = 0;
    for (let i = 0; i < count; i++) {
      tUs += profile.timeDeltas[i]!;
      this.#sampleNode[i] = indexById.get(profile.samples[i]!)!;
      this.#sampleTimeMs[i] = tUs / 1000;
    }
  }

  #frameFor(
    node: CpuProfileNode,
    frames: ResolvedFrame[],
    frameByKey: Map<string, number>,
    resolver: SourceMapResolver | null,
    appRoot: string | undefined,
  ): number {
    const cf = node.callFrame;
    const kind: FrameKind = (cf.url === '' ? SYNTHETIC[cf.functionName] : undefined) ?? 'function';
    const functionName = cf.functionName === '' ? '(anonymous)' : cf.functionName;
    const lineNumber = cf.lineNumber ?? -1;
    const columnNumber = cf.columnNumber ?? -1;
    let file = cf.url === '' ? '' : (scriptPathFromUrl(cf.url) ?? cf.url);
    let line = lineNumber + 1;
    let column = columnNumber + 1;
    let mapped = false;
    if (resolver !== null && cf.url !== '' && !cf.url.startsWith('node:') && lineNumber >= 0) {
      const pos = resolver.resolve(cf.url, lineNumber, Math.max(0, columnNumber));
      if (pos !== null) {
        file = pos.file;
        line = pos.line + 1;
        column = pos.column + 1;
        mapped = true;
      }
    }
    const area = classifyArea(cf.url, mapped ? file : undefined, appRoot);
    if (appRoot !== undefined && isAbsolute(file)) {
      const rel = relative(appRoot, file);
      if (rel !== '' && !rel.startsWith('..') && !isAbsolute(rel)) file = rel.split(sep).join('/');
    }
    const key = `${functionName}\u0000${file}\u0000${line}\u0000${column}`;
    const existing = frameByKey.get(key);
    if (existing !== undefined) return existing;
    const index = frames.length;
    frames.push({
      index,
      functionName,
      file,
      line,
      column,
      area,
      kind,
      mapped,
      generated: { url: cf.url, line: lineNumber + 1, column: columnNumber + 1 },
    });
    frameByKey.set(key, index);
    return index;
  }

  /** Number of samples whose time falls in `window` (all samples without one). */
  sampleCount(window?: EpochWindow): number {
    if (window === undefined) return this.#sampleNode.length;
    const [a, b] = this.#range(window);
    return b - a;
  }

  /** Index range [a, b) of samples inside the window; samples are in time order. */
  #range(window?: EpochWindow): [number, number] {
    const n = this.#sampleNode.length;
    if (window === undefined) return [0, n];
    const from = window.startEpochMs - this.startEpochMs;
    const to = window.endEpochMs - this.startEpochMs;
    let a = 0;
    while (a < n && this.#sampleTimeMs[a]! < from) a++;
    let b = a;
    while (b < n && this.#sampleTimeMs[b]! < to) b++;
    return [a, b];
  }

  #selfCounts(window?: EpochWindow): { counts: Float64Array; total: number } {
    const counts = new Float64Array(this.#nodes.length);
    const [a, b] = this.#range(window);
    for (let i = a; i < b; i++) counts[this.#sampleNode[i]!]!++;
    return { counts, total: b - a };
  }

  #ensurePaths(): { pathFrames: (readonly number[])[]; stacks: (readonly number[])[] } {
    if (this.#pathFrames !== null && this.#stacks !== null) return { pathFrames: this.#pathFrames, stacks: this.#stacks };
    const pathFrames: (readonly number[])[] = new Array(this.#nodes.length);
    const stacks: (readonly number[])[] = new Array(this.#nodes.length);
    // Iterative walk from the root: stacks can be thousands of frames deep in recursive code.
    const todo: number[] = [this.#root];
    pathFrames[this.#root] = [];
    stacks[this.#root] = [];
    while (todo.length > 0) {
      const i = todo.pop()!;
      const node = this.#nodes[i]!;
      for (const c of node.children) {
        const f = this.#nodes[c]!.frame;
        const parentPath = pathFrames[i]!;
        pathFrames[c] = parentPath.includes(f) ? parentPath : [...parentPath, f];
        stacks[c] = [...stacks[i]!, f];
        todo.push(c);
      }
    }
    // Nodes not reachable from the root (malformed profiles) count as their own stack.
    for (let i = 0; i < this.#nodes.length; i++) {
      if (pathFrames[i] === undefined) {
        pathFrames[i] = [this.#nodes[i]!.frame];
        stacks[i] = [this.#nodes[i]!.frame];
      }
    }
    this.#pathFrames = pathFrames;
    this.#stacks = stacks;
    return { pathFrames, stacks };
  }

  /**
   * The functions with the most self time in `window`, most first. Shares are of all samples in the
   * window (idle included), so 0.4 means 40 % of wall time. `(root)`, `(idle)` and `(program)` are left
   * out; `(garbage collector)` stays because it is work. Empty when the window holds no samples.
   */
  hotFrames(window?: EpochWindow, limit = 10): HotFrame[] {
    const { counts, total } = this.#selfCounts(window);
    if (total === 0) return [];
    const { pathFrames } = this.#ensurePaths();
    const self = new Float64Array(this.frames.length);
    const incl = new Float64Array(this.frames.length);
    for (let i = 0; i < counts.length; i++) {
      const c = counts[i]!;
      if (c === 0) continue;
      self[this.#nodes[i]!.frame]! += c;
      for (const f of pathFrames[i]!) incl[f]! += c;
    }
    const out: HotFrame[] = [];
    for (const frame of this.frames) {
      if (frame.kind === 'root' || frame.kind === 'idle' || frame.kind === 'program') continue;
      const s = self[frame.index]!;
      if (s === 0) continue;
      out.push(hotFrame(frame, s / total, incl[frame.index]! / total));
    }
    return topFrames(out, limit);
  }

  /**
   * The code that is responsible for the samples in `window`: each sample goes to the innermost frame
   * on its stack whose area is in `areas` (by default application code), so time spent in
   * `JSON.stringify` or `pbkdf2Sync` counts for the app function that called it. Returned frames carry
   * their attributed share in `selfShare` and their inclusive share in `totalShare`, most first.
   */
  attributedFrames(window?: EpochWindow, limit = 10, areas: readonly CodeArea[] = ['app']): (HotFrame & { frameIndex: number })[] {
    const { counts, total } = this.#selfCounts(window);
    if (total === 0) return [];
    const { pathFrames, stacks } = this.#ensurePaths();
    const attributed = new Float64Array(this.frames.length);
    const incl = new Float64Array(this.frames.length);
    const wanted = new Set(areas);
    for (let i = 0; i < counts.length; i++) {
      const c = counts[i]!;
      if (c === 0) continue;
      for (const f of pathFrames[i]!) incl[f]! += c;
      const stack = stacks[i]!;
      for (let d = stack.length - 1; d >= 0; d--) {
        const f = this.frames[stack[d]!]!;
        if (f.kind === 'function' && wanted.has(f.area)) {
          attributed[f.index]! += c;
          break;
        }
      }
    }
    const out: (HotFrame & { frameIndex: number })[] = [];
    for (const frame of this.frames) {
      const a = attributed[frame.index]!;
      if (a === 0) continue;
      out.push({ frameIndex: frame.index, ...hotFrame(frame, a / total, incl[frame.index]! / total) });
    }
    return topFrames(out, limit);
  }

  /**
   * Synchronous file-system calls in `window`: samples whose stack holds a `node:fs` function named
   * `…Sync` (the outermost one, the API the caller used, e.g. `readFileSync` rather than the internal
   * `tryReadSync`), grouped by that function and the nearest application frame below it. Shares are of
   * all samples in the window, most first. Empty when there are none.
   */
  syncFsCalls(window?: EpochWindow): { call: string; caller: ResolvedFrame | null; share: number }[] {
    const { counts, total } = this.#selfCounts(window);
    if (total === 0) return [];
    const { stacks } = this.#ensurePaths();
    const byKey = new Map<string, { call: string; caller: ResolvedFrame | null; samples: number }>();
    for (let i = 0; i < counts.length; i++) {
      const c = counts[i]!;
      if (c === 0) continue;
      const stack = stacks[i]!;
      const at = stack.findIndex((f) => isSyncFsFrame(this.frames[f]!));
      if (at < 0) continue;
      const fs = this.frames[stack[at]!]!;
      let caller: ResolvedFrame | null = null;
      for (let d = at - 1; d >= 0 && caller === null; d--) if (this.frames[stack[d]!]!.area === 'app') caller = this.frames[stack[d]!]!;
      const key = `${fs.functionName}\u0000${caller?.index ?? -1}`;
      const entry = byKey.get(key) ?? { call: fs.functionName, caller, samples: 0 };
      entry.samples += c;
      byKey.set(key, entry);
    }
    return [...byKey.values()].map((e) => ({ call: e.call, caller: e.caller, share: e.samples / total })).sort((a, b) => b.share - a.share);
  }

  /**
   * For each native frame (V8 or C++ code without a script, such as `run` under `pbkdf2Sync`) with self
   * time in `window`: the nearest JavaScript frame below it on the stack that most of its self samples
   * sit under. Users do not recognise `run`; they recognise the JS call it runs inside.
   */
  nativeCallers(window?: EpochWindow): Map<number, ResolvedFrame> {
    const { counts } = this.#selfCounts(window);
    const { stacks } = this.#ensurePaths();
    const byNative = new Map<number, Map<number, number>>();
    for (let i = 0; i < counts.length; i++) {
      const c = counts[i]!;
      if (c === 0) continue;
      const stack = stacks[i]!;
      const top = this.frames[stack[stack.length - 1] ?? -1];
      if (top === undefined || !isNative(top)) continue;
      for (let d = stack.length - 2; d >= 0; d--) {
        const f = this.frames[stack[d]!]!;
        if (f.kind !== 'function' || f.file === '') continue;
        const callers = byNative.get(top.index) ?? new Map<number, number>();
        callers.set(f.index, (callers.get(f.index) ?? 0) + c);
        byNative.set(top.index, callers);
        break;
      }
    }
    const out = new Map<number, ResolvedFrame>();
    for (const [native, callers] of byNative) {
      let best = -1;
      let bestCount = 0;
      for (const [f, c] of callers) if (c > bestCount) [best, bestCount] = [f, c];
      if (best >= 0) out.set(native, this.frames[best]!);
    }
    return out;
  }

  /**
   * Lengths in ms of the uninterrupted stretches of samples in `window` during which frame
   * `frameIndex` stayed on the stack: an estimate of how long one synchronous call of it runs without
   * giving the event loop back. Accuracy is one sampling interval.
   */
  syncSpansMs(frameIndex: number, window?: EpochWindow): number[] {
    const { pathFrames } = this.#ensurePaths();
    const [a, b] = this.#range(window);
    const spans: number[] = [];
    let runStart = -1;
    const n = this.#sampleNode.length;
    const close = (endIdx: number): void => {
      // A run of k samples stands for the time from its first sample to the sample after its last.
      const end = endIdx < n ? this.#sampleTimeMs[endIdx]! : this.durationMs;
      spans.push(Math.max(0, end - this.#sampleTimeMs[runStart]!));
      runStart = -1;
    };
    // In a merged profile only the samples of the thread running the frame tell whether it held that
    // thread; the other threads' samples interleave and must not cut its stretches short.
    let thread = -1;
    const threads = this.#sampleThread;
    for (let i = a; i < b; i++) {
      if (threads !== null && thread >= 0 && threads[i] !== thread) continue;
      const on = pathFrames[this.#sampleNode[i]!]!.includes(frameIndex);
      if (on && threads !== null && thread < 0) thread = threads[i]!;
      if (on && runStart < 0) runStart = i;
      else if (!on && runStart >= 0) close(i);
    }
    if (runStart >= 0) close(b);
    return spans;
  }

  /**
   * The call tree of the samples in `window`, merged by call path (same function under the same
   * parents → one node). The root is `(root)`; nodes with no samples in the window are left out.
   */
  flameTree(window?: EpochWindow): FlameNode {
    const { counts } = this.#selfCounts(window);
    const mk = (frameIdx: number): FlameNode => {
      const f = this.frames[frameIdx]!;
      return { name: f.functionName, file: f.file, line: f.line, column: f.column, area: f.area, kind: f.kind, selfSamples: 0, totalSamples: 0, children: [] };
    };
    const root = mk(this.#nodes[this.#root]!.frame);
    root.name = '(root)';
    root.kind = 'root';
    const childIndex = new Map<FlameNode, Map<number, FlameNode>>();
    const todo: [number, FlameNode][] = [[this.#root, root]];
    while (todo.length > 0) {
      const [i, flame] = todo.pop()!;
      flame.selfSamples += counts[i]!;
      for (const c of this.#nodes[i]!.children) {
        const frameIdx = this.#nodes[c]!.frame;
        let byFrame = childIndex.get(flame);
        if (byFrame === undefined) childIndex.set(flame, (byFrame = new Map()));
        let child = byFrame.get(frameIdx);
        if (child === undefined) {
          child = mk(frameIdx);
          byFrame.set(frameIdx, child);
          flame.children.push(child);
        }
        todo.push([c, child]);
      }
    }
    const finish = (n: FlameNode): number => {
      let total = n.selfSamples;
      for (const c of n.children) total += finish(c);
      n.totalSamples = total;
      n.children = n.children.filter((c) => c.totalSamples > 0).sort((a, b) => b.totalSamples - a.totalSamples);
      return total;
    };
    finish(root);
    return root;
  }

  /** The samples in `window` with their stacks (frame indices, outermost first), in time order. */
  samples(window?: EpochWindow): ProfileSample[] {
    const { stacks } = this.#ensurePaths();
    const [a, b] = this.#range(window);
    const out: ProfileSample[] = [];
    const n = this.#sampleNode.length;
    for (let i = a; i < b; i++) {
      const t = this.#sampleTimeMs[i]!;
      const next = i + 1 < n ? this.#sampleTimeMs[i + 1]! : this.durationMs;
      out.push({ stack: stacks[this.#sampleNode[i]!]!, timeMs: t, weightUs: Math.max(0, (next - t) * 1000) });
    }
    return out;
  }
}

/**
 * Builds a {@link ProfileModel} from a V8 CPU profile: resolves every frame (through source maps when
 * the script has a `sourceMappingURL`, inline or file), sorts it into app/dependency/node/v8, and
 * places samples on the epoch clock given by `startEpochMs`. Throws REDLINE_ERR_BAD_DATA_FILE for a
 * malformed profile and REDLINE_ERR_INVALID_ARGUMENT for bad options.
 */
export function createProfileModel(profile: CpuProfile, options: ProfileModelOptions = {}): ProfileModel {
  return new ProfileModel(profile, options);
}

/** A synchronous file-system API function (`readFileSync`, `statSync`, …) of Node's `fs` module. */
export function isSyncFsFrame(frame: { kind: FrameKind; file: string; functionName: string }): boolean {
  return frame.kind === 'function' && /^node:(?:internal\/)?fs(?:[/:]|$)/.test(frame.file) && /Sync$/.test(frame.functionName);
}

/** Native code: a real function V8 reports without a script (`run`, `writev`), not a synthetic entry. */
export function isNative(frame: { kind: FrameKind; file: string }): boolean {
  return frame.kind === 'function' && frame.file === '';
}

/** A resolved frame with its shares of the samples in a window. */
function hotFrame(frame: { functionName: string; file: string; line: number; column: number; area: CodeArea }, selfShare: number, totalShare: number): HotFrame {
  return { functionName: frame.functionName, file: frame.file, line: frame.line, column: frame.column, area: frame.area, selfShare, totalShare };
}

/** The `limit` frames with the largest self share (ties: larger total share first). */
function topFrames<T extends HotFrame>(frames: T[], limit: number): T[] {
  frames.sort((x, y) => y.selfShare - x.selfShare || y.totalShare - x.totalShare);
  return frames.slice(0, Math.max(0, limit));
}

import { fileURLToPath } from 'node:url';
import type { HotFrame } from '@redline/core';
import type { RuleContext, SecondsWindow } from '../timeline.js';
import { callerFrame } from './traced-names.js';

/** Thread-pool work being submitted: operation type, the Node function called and its calling code. */
export interface ThreadpoolSubmitter {
  op: string;
  /** The Node function called (e.g. `pbkdf2`). */
  api: string;
  /** The application function that called it, when one is on the stack. */
  caller: HotFrame | null;
  /** Profile samples (from the CPU profile) or sampled submissions (from the probe) behind it. */
  samples: number;
  /** Where it was seen: the probe's stack samples of thread-pool requests, or the CPU profile. */
  source: 'probe' | 'profile';
}

/** Whether a Node API name is the synchronous variant (`gzipSync`, `zlibBufferSync`, `readFileSync`), which runs on the calling thread. */
export function isSyncApi(name: string): boolean {
  // Node 20 names zlib's sync convenience methods `syncBufferWrapper` on the stack.
  return /Sync$/.test(name) || /^sync[A-Z]/.test(name);
}

/** `    at fn (location)` or `    at location`, where location is `url:line:column`. */
const FRAME = /^\s*at (?:(.*?) \()?((?:file:\/\/)?\/[^():]*?|node:[^():]+):(\d+):(\d+)\)?\s*$/;

interface StackFrame {
  functionName: string;
  /** Absolute path, or a `node:` id. */
  file: string;
  line: number;
  column: number;
}

function parseStack(stack: string): StackFrame[] {
  const out: StackFrame[] = [];
  for (const line of stack.split('\n')) {
    const m = FRAME.exec(line);
    if (m === null) continue;
    const url = m[2]!;
    let file = url;
    if (url.startsWith('file://')) {
      try {
        file = fileURLToPath(url);
      } catch {
        continue;
      }
    }
    const name = (m[1] ?? '').replace(/^async /, '').trim();
    out.push({ functionName: name === '' ? '(anonymous)' : name, file, line: Number(m[3]), column: Number(m[4]) });
  }
  return out;
}

/** The Node API called (the outermost `node:` frame before user code) and the code that called it. */
function splitStack(ctx: RuleContext, frames: readonly StackFrame[]): { api: string; caller: HotFrame | null } {
  let api = '';
  let i = 0;
  for (; i < frames.length && frames[i]!.file.startsWith('node:'); i++) api = frames[i]!.functionName;
  // The innermost named application function: a Promise executor or callback around the call is
  // anonymous, the function that made it usually is not. A dependency's frame when no app frame shows.
  let firstApp: HotFrame | null = null;
  let firstDep: HotFrame | null = null;
  let appSeen = 0;
  for (; i < frames.length; i++) {
    const f = frames[i]!;
    if (f.file.startsWith('node:')) continue;
    const frame = callerFrame(ctx, f);
    if (frame.area === 'dependency') {
      firstDep ??= frame;
      continue;
    }
    if (frame.area !== 'app') continue;
    if (frame.functionName !== '(anonymous)') return { api, caller: frame };
    firstApp ??= frame;
    if (++appSeen >= 4) break;
  }
  return { api, caller: firstApp ?? firstDep };
}

/**
 * The callers of thread-pool work the probe sampled (`target.threadpoolCallers`) in the window, merged
 * by operation, API and calling code, most sampled first. Empty for runs without them (`--attach`,
 * older runs, or a pool that never queued long enough for the probe to look).
 */
export function probedSubmitters(ctx: RuleContext, w: SecondsWindow): ThreadpoolSubmitter[] {
  const found = new Map<string, ThreadpoolSubmitter>();
  for (const c of ctx.result.target?.threadpoolCallers ?? []) {
    if (c.lastS < w.startS || c.firstS > w.endS + 1) continue;
    const frames = parseStack(c.stack);
    // A synchronous call (brotliCompressSync, readFileSync) creates its handle like the async one but
    // runs on the main thread: it is no thread-pool work.
    const userAt = frames.findIndex((f) => !f.file.startsWith('node:'));
    if (frames.slice(0, userAt < 0 ? frames.length : userAt).some((f) => isSyncApi(f.functionName))) continue;
    const { api, caller } = splitStack(ctx, frames);
    const key = `${c.op}|${api}|${caller?.functionName ?? ''}|${caller?.file ?? ''}|${caller?.line ?? 0}`;
    const entry = found.get(key) ?? { op: c.op, api: api === '' ? c.resource.toLowerCase() : api, caller, samples: 0, source: 'probe' as const };
    entry.samples += c.count;
    found.set(key, entry);
  }
  return [...found.values()].sort((a, b) => b.samples - a.samples || Number(b.caller !== null) - Number(a.caller !== null));
}

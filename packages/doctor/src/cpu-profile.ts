import { readFile } from 'node:fs/promises';
import { ErrorCodes, RedlineError } from '@redline/core';

/** Where a V8 profile node's function lives; positions are 0-based as V8 writes them. */
export interface CpuCallFrame {
  functionName: string;
  scriptId: string;
  /** `file:///...`, an absolute path, `node:internal/...`, or empty for native and synthetic frames. */
  url: string;
  /** 0-based line of the function's start in the generated script. */
  lineNumber: number;
  /** 0-based column of the function's start. */
  columnNumber: number;
}

/** One node of a V8 CPU profile's call tree (one node per distinct call path). */
export interface CpuProfileNode {
  id: number;
  callFrame: CpuCallFrame;
  hitCount?: number;
  children?: number[];
  positionTicks?: { line: number; ticks: number }[];
}

/**
 * A V8 CPU profile as written by the inspector `Profiler.stop` or `node --cpu-prof` (`.cpuprofile`).
 * `startTime`/`endTime` are monotonic microseconds; `timeDeltas[i]` is the µs between sample i−1 and i.
 */
export interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
  /** Added by @redline/probe: the epoch clock of the profile and the thread it came from. */
  $redline?: {
    startEpochMs?: number;
    endEpochMs?: number;
    thread?: string;
    pid?: number;
    /** In a profile merged from several threads (`mergeThreadProfiles`): the thread labels. */
    threads?: string[];
    /** In a merged profile: each sample's thread, an index into `threads`. */
    sampleThreads?: number[];
  };
}

function isNumberArray(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'number');
}

/**
 * Checks that `value` has the shape of a V8 CPU profile and returns it typed.
 * Throws REDLINE_ERR_BAD_DATA_FILE naming `source` and the first field that is wrong.
 */
export function validateCpuProfile(value: unknown, source = 'profile'): CpuProfile {
  const fail = (what: string): never => {
    throw new RedlineError(ErrorCodes.BAD_DATA_FILE, `${source} is not a V8 CPU profile: ${what}`);
  };
  if (typeof value !== 'object' || value === null) return fail('expected a JSON object');
  const p = value as Record<string, unknown>;
  if (!Array.isArray(p.nodes) || p.nodes.length === 0) return fail('"nodes" must be a non-empty array');
  if (typeof p.startTime !== 'number' || typeof p.endTime !== 'number') return fail('"startTime" and "endTime" must be numbers');
  if (!isNumberArray(p.samples)) return fail('"samples" must be an array of node ids');
  if (!isNumberArray(p.timeDeltas)) return fail('"timeDeltas" must be an array of numbers');
  if (p.samples.length !== p.timeDeltas.length) {
    return fail(`"samples" (${p.samples.length}) and "timeDeltas" (${p.timeDeltas.length}) differ in length`);
  }
  const ids = new Set<number>();
  for (const [i, n] of (p.nodes as unknown[]).entries()) {
    const node = n as Partial<CpuProfileNode> | null;
    if (typeof node !== 'object' || node === null || typeof node.id !== 'number') return fail(`nodes[${i}] has no numeric "id"`);
    const cf = node.callFrame as Partial<CpuCallFrame> | undefined;
    if (typeof cf !== 'object' || cf === null || typeof cf.functionName !== 'string' || typeof cf.url !== 'string') {
      return fail(`nodes[${i}].callFrame must have "functionName" and "url" strings`);
    }
    if (node.children !== undefined && !isNumberArray(node.children)) return fail(`nodes[${i}].children must be an array of ids`);
    ids.add(node.id);
  }
  for (const [i, s] of p.samples.entries()) {
    if (!ids.has(s)) return fail(`samples[${i}] refers to unknown node id ${s}`);
  }
  return value as CpuProfile;
}

/**
 * Reads a `.cpuprofile` file. Throws REDLINE_ERR_BAD_DATA_FILE when the file is missing,
 * not JSON, or not shaped like a V8 CPU profile.
 */
export async function loadCpuProfile(path: string): Promise<CpuProfile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new RedlineError(ErrorCodes.BAD_DATA_FILE, `CPU profile ${path} could not be read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new RedlineError(ErrorCodes.BAD_DATA_FILE, `CPU profile ${path} is not valid JSON`, { cause: err });
  }
  return validateCpuProfile(data, `CPU profile ${path}`);
}

import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { ErrorCodes, RedlineError } from '@redline/core';

/** Operation recorded in a key trace. */
export type TraceOp = 'get' | 'set' | 'del';

/** One recorded cache operation. `k` is a salted hash of the key, never the key itself. */
export interface TraceEvent {
  /** Milliseconds since the recorder started. */
  t: number;
  k: string;
  op: TraceOp;
  /** For `get`: whether the live cache had a fresh value. */
  hit?: boolean;
}

/** A trace: events plus the key-sampling rate they were recorded at. */
export interface KeyTrace {
  /** Fraction of keys recorded (0 < rate ≤ 1); simulated sizes are scaled by it. */
  sampleRate: number;
  events: TraceEvent[];
}

/** Records a sampled, hashed trace of cache operations (attach with `createCache({ trace })`). */
export interface KeyTraceRecorder {
  readonly sampleRate: number;
  /** Events not recorded because `maxEvents` was reached. */
  readonly dropped: number;
  /** Called by the cache for each operation on a fully namespaced key. */
  record(op: TraceOp, key: string, hit?: boolean): void;
  /** The trace recorded so far (a copy of the event list). */
  trace(): KeyTrace;
  /** The trace as NDJSON: a header line, then one event per line. */
  toNdjson(): string;
  /** Writes `toNdjson()` to `path`. */
  writeFile(path: string): Promise<void>;
}

/** Options of {@link createKeyTraceRecorder}. */
export interface KeyTraceRecorderOptions {
  /** Fraction of keys to record, 0 < rate ≤ 1. Default 0.01. */
  sampleRate?: number;
  /** Bound on recorded events; later ones are counted in `dropped`. Default 1,000,000. */
  maxEvents?: number;
  /** Secret mixed into key hashes; default random per recorder (hashes are then unlinkable across recorders). */
  salt?: string;
  /** Millisecond time source. Default `performance.now`. */
  now?: () => number;
}

/**
 * Creates a key-trace recorder. Sampling is by key (a key is either always or never recorded), so
 * the sampled trace keeps each key's full reuse pattern; replaying it against a cache scaled down
 * by the same rate estimates the full cache's hit ratio (the SHARDS method). Keys are stored as
 * salted SHA-256 prefixes, so traces can be shared without leaking keys.
 */
export function createKeyTraceRecorder(options: KeyTraceRecorderOptions = {}): KeyTraceRecorder {
  const sampleRate = options.sampleRate ?? 0.01;
  const maxEvents = options.maxEvents ?? 1_000_000;
  if (typeof sampleRate !== 'number' || !(sampleRate > 0 && sampleRate <= 1)) {
    throw new RedlineError(ErrorCodes.INVALID_ARGUMENT, `createKeyTraceRecorder: sampleRate must be in (0, 1], got ${String(sampleRate)}`);
  }
  if (!Number.isInteger(maxEvents) || maxEvents < 1) {
    throw new RedlineError(ErrorCodes.INVALID_ARGUMENT, `createKeyTraceRecorder: maxEvents must be an integer >= 1, got ${String(maxEvents)}`);
  }
  const salt = options.salt ?? randomBytes(16).toString('hex');
  const now = options.now ?? (() => performance.now());
  const startMs = now();
  const threshold = Math.floor(sampleRate * 0x1_0000_0000);
  const saltSeed = seedFrom(salt);
  const hashes = new Map<string, string>();
  const events: TraceEvent[] = [];
  let dropped = 0;

  const hashOf = (key: string): string => {
    let h = hashes.get(key);
    if (h === undefined) {
      h = createHash('sha256').update(salt).update('\0').update(key).digest('hex').slice(0, 16);
      // The memo is bounded like the event list so a long-running recorder keeps constant memory.
      if (hashes.size < 100_000) hashes.set(key, h);
    }
    return h;
  };

  return {
    sampleRate,
    get dropped() {
      return dropped;
    },
    record(op, key, hit) {
      if (sampleRate < 1 && seededHash(key, saltSeed) >= threshold) return;
      if (events.length >= maxEvents) {
        dropped++;
        return;
      }
      const t = Math.round((now() - startMs) * 1000) / 1000;
      events.push(hit === undefined ? { t, k: hashOf(key), op } : { t, k: hashOf(key), op, hit });
    },
    trace() {
      return { sampleRate, events: events.slice() };
    },
    toNdjson() {
      return formatTrace({ sampleRate, events });
    },
    async writeFile(path) {
      await writeFile(path, formatTrace({ sampleRate, events }));
    },
  };
}

/** Serialises a trace as NDJSON: `{"type":"header","version":1,"sampleRate":…}` then one event per line. */
export function formatTrace(trace: KeyTrace): string {
  const lines = [JSON.stringify({ type: 'header', version: 1, sampleRate: trace.sampleRate })];
  for (const e of trace.events) lines.push(JSON.stringify(e));
  return `${lines.join('\n')}\n`;
}

/**
 * Parses an NDJSON trace. The header line is optional (sample rate 1 without it). Event lines need
 * `k` (string) and `op` (`get`, `set` or `del`); `t` and `hit` are optional. Blank lines are skipped.
 * Throws REDLINE_ERR_BAD_DATA_FILE naming the source and line of the first bad line.
 */
export function parseTrace(text: string, source = 'trace'): KeyTrace {
  const events: TraceEvent[] = [];
  let sampleRate = 1;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const bad = (why: string): RedlineError => new RedlineError(ErrorCodes.BAD_DATA_FILE, `${source}:${i + 1}: ${why}`);
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      throw bad('not valid JSON');
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad('expected a JSON object');
    const o = raw as Record<string, unknown>;
    if (o.type === 'header') {
      if (typeof o.sampleRate !== 'number' || !(o.sampleRate > 0 && o.sampleRate <= 1)) throw bad('header sampleRate must be a number in (0, 1]');
      sampleRate = o.sampleRate;
      continue;
    }
    if (typeof o.k !== 'string' || o.k === '') throw bad('event needs a non-empty string "k" (the hashed key)');
    if (o.op !== 'get' && o.op !== 'set' && o.op !== 'del') throw bad(`event "op" must be "get", "set" or "del", got ${JSON.stringify(o.op)}`);
    const t = typeof o.t === 'number' ? o.t : events.length;
    events.push(typeof o.hit === 'boolean' ? { t, k: o.k, op: o.op, hit: o.hit } : { t, k: o.k, op: o.op });
  }
  return { sampleRate, events };
}

/** Reads and parses an NDJSON trace file (REDLINE_ERR_BAD_DATA_FILE when missing or malformed). */
export async function readTraceFile(path: string): Promise<KeyTrace> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new RedlineError(ErrorCodes.BAD_DATA_FILE, `cannot read trace file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
  return parseTrace(text, path);
}

function seedFrom(salt: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < salt.length; i++) h = Math.imul(h ^ salt.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function seededHash(key: string, seed: number): number {
  let h = seed;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

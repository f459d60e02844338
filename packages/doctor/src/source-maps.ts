import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { GREATEST_LOWER_BOUND, LEAST_UPPER_BOUND, TraceMap, originalPositionFor } from '@jridgewell/trace-mapping';

/** An original source position found through a source map; `line` and `column` are 0-based. */
export interface MappedPosition {
  /** Absolute path (or URL when the map's source is not a file) of the original source. */
  file: string;
  line: number;
  column: number;
  name: string | null;
}

/** Largest script we read to look for a `sourceMappingURL` comment; bigger bundles are skipped. */
const MAX_SCRIPT_BYTES = 64 * 1024 * 1024;

/** Turns a profile URL into a local file path, or null when it does not name a local file. */
export function scriptPathFromUrl(url: string): string | null {
  if (url.startsWith('file://')) {
    try {
      return fileURLToPath(url);
    } catch {
      return null;
    }
  }
  if (isAbsolute(url)) return url;
  return null;
}

function readSourceMappingUrl(code: string): string | null {
  // The last comment wins, as in browsers and Node's own --enable-source-maps.
  const re = /\/[*/][#@]\s*sourceMappingURL=([^\s*'"]+)\s*(?:\*\/)?/g;
  let found: string | null = null;
  for (let m = re.exec(code); m !== null; m = re.exec(code)) found = m[1] ?? null;
  return found;
}

function decodeDataUrl(url: string): string | null {
  const comma = url.indexOf(',');
  if (comma < 0) return null;
  const meta = url.slice(5, comma);
  const data = url.slice(comma + 1);
  return meta.endsWith(';base64') ? Buffer.from(data, 'base64').toString('utf8') : decodeURIComponent(data);
}

/**
 * Resolves generated positions to original ones through the source maps of the scripts named in a
 * profile. Maps are found from the script's `sourceMappingURL` comment (inline `data:` URL or a file
 * next to it) and cached per script; scripts that cannot be read or have no map resolve to null.
 */
export class SourceMapResolver {
  readonly #maps = new Map<string, TraceMap | null>();

  /** The parsed map for `scriptUrl`, or null when it has none or it cannot be read. */
  mapFor(scriptUrl: string): TraceMap | null {
    const cached = this.#maps.get(scriptUrl);
    if (cached !== undefined) return cached;
    let map: TraceMap | null = null;
    try {
      map = this.#load(scriptUrl);
    } catch {
      // A broken or unreadable map must not break the profile: frames stay unmapped.
      map = null;
    }
    this.#maps.set(scriptUrl, map);
    return map;
  }

  #load(scriptUrl: string): TraceMap | null {
    const path = scriptPathFromUrl(scriptUrl);
    if (path === null || !existsSync(path)) return null;
    const buf = readFileSync(path);
    if (buf.byteLength > MAX_SCRIPT_BYTES) return null;
    const ref = readSourceMappingUrl(buf.toString('utf8'));
    if (ref === null) return null;
    if (ref.startsWith('data:')) {
      const json = decodeDataUrl(ref);
      return json === null ? null : new TraceMap(json, pathToFileURL(path).href);
    }
    const mapPath = ref.startsWith('file://') ? fileURLToPath(ref) : resolve(dirname(path), ref);
    if (!existsSync(mapPath)) return null;
    return new TraceMap(readFileSync(mapPath, 'utf8'), pathToFileURL(mapPath).href);
  }

  /**
   * Maps a 0-based generated position in `scriptUrl` to the original source, or null when the
   * script has no map or the position falls outside it.
   */
  resolve(scriptUrl: string, line0: number, column0: number): MappedPosition | null {
    const map = this.mapFor(scriptUrl);
    if (map === null) return null;
    // V8 points at the function's start; a mapping segment may sit just before or just after it.
    let pos = originalPositionFor(map, { line: line0 + 1, column: column0, bias: GREATEST_LOWER_BOUND });
    if (pos.source === null) pos = originalPositionFor(map, { line: line0 + 1, column: column0, bias: LEAST_UPPER_BOUND });
    if (pos.source === null) return null;
    const file = scriptPathFromUrl(pos.source) ?? pos.source;
    return { file, line: pos.line - 1, column: pos.column, name: pos.name };
  }
}

import { SourceMapResolver } from './source-maps.js';

/** `    at fn (location)` or `    at location`, where location is `url:line:column`. */
const FRAME = /^(\s*at (?:.*? \()?)((?:file:\/\/)?\/[^():]*?|node:[^():]+):(\d+):(\d+)(\)?)\s*$/;

/**
 * Rewrites the frames of a V8 stack string through the scripts' source maps (TypeScript paths and
 * lines instead of compiled JavaScript). Frames without a map, and lines that are no frames, stay as
 * they are. Lines and columns in V8 stacks are 1-based.
 */
export function mapStackTrace(stack: string, resolver: SourceMapResolver = new SourceMapResolver()): string {
  return stack
    .split('\n')
    .map((line) => {
      const m = FRAME.exec(line);
      if (m === null) return line;
      const [, head, url, lineNo, colNo, tail] = m as unknown as [string, string, string, string, string, string];
      if (url.startsWith('node:')) return line;
      const pos = resolver.resolve(url, Number(lineNo) - 1, Number(colNo) - 1);
      return pos === null ? line : `${head}${pos.file}:${pos.line + 1}:${pos.column + 1}${tail}`;
    })
    .join('\n');
}

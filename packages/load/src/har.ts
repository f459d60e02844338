import { ErrorCodes, RedlineError } from '@redline/core';

/** Options of {@link harToScenario}. */
export interface HarConvertOptions {
  /** Sleep between requests as the recording's timestamps say (capped at `maxThinkTimeMs`). Default false. */
  thinkTime?: boolean;
  /** Longest think time kept, in ms (default 10 s). */
  maxThinkTimeMs?: number;
  /** Leave out static assets (images, fonts, stylesheets, scripts, media) by MIME type or extension. Default false. */
  skipStatic?: boolean;
  /** Scenario name (default: the first page's title, else "har"). */
  name?: string;
  /** Where the HAR came from, for error messages. */
  source?: string;
}

/** What a conversion produced, with counts for the user. */
export interface HarConversion {
  /** The scenario module (TypeScript source). */
  code: string;
  requests: number;
  skippedStatic: number;
  /** Entries left out because their scheme is not http(s) (`data:`, `blob:`, `ws:`, …). */
  skippedOther: number;
}

interface HarEntry {
  pageref?: string;
  startedDateTime: string;
  request: { method: string; url: string; headers?: Array<{ name: string; value: string }>; postData?: { mimeType?: string; text?: string; params?: Array<{ name: string; value?: string }> } };
  response?: { content?: { mimeType?: string } };
}

/**
 * Headers a recording carries that must not be replayed: HTTP/2 pseudo-headers, hop-by-hop and
 * framing headers the client sets itself, and `cookie` (the VU's cookie jar sends what the
 * recorded responses set).
 */
const DROPPED_HEADERS = new Set(['host', 'connection', 'keep-alive', 'content-length', 'transfer-encoding', 'te', 'upgrade', 'proxy-connection', 'cookie', 'accept-encoding']);
const STATIC_MIME = /^(image\/|font\/|text\/css|(text|application)\/(x-)?javascript|application\/font|video\/|audio\/)/i;
const STATIC_EXT = /\.(png|jpe?g|gif|webp|avif|svg|ico|bmp|css|js|mjs|map|woff2?|ttf|otf|eot|mp4|webm|mp3|wav)$/i;
/** Encodings the scripted client decodes; a recorded `br, gzip, zstd` is narrowed to these. */
const DECODED = new Set(['gzip', 'br', 'deflate']);

function bad(source: string, path: string, what: string): RedlineError {
  return new RedlineError(ErrorCodes.BAD_DATA_FILE, `${source}: ${path}: ${what}`, { details: { source, path } });
}

/** Parses HAR text, checking the parts the converter reads; errors name the JSON path. */
export function parseHar(text: string, source = 'HAR'): { entries: HarEntry[]; pages: Map<string, string> } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new RedlineError(ErrorCodes.BAD_DATA_FILE, `${source}: not a HAR file: ${(err as Error).message}`, { cause: err });
  }
  const log = (doc as { log?: unknown } | null)?.log;
  if (!log || typeof log !== 'object') throw bad(source, 'log', 'expected an object (a HAR file has {"log": {"entries": [...]}})');
  const entries = (log as { entries?: unknown }).entries;
  if (!Array.isArray(entries)) throw bad(source, 'log.entries', 'expected an array of requests');
  if (entries.length === 0) throw bad(source, 'log.entries', 'the recording holds no requests');
  entries.forEach((e: unknown, i) => {
    const at = `log.entries[${i}]`;
    const req = (e as { request?: unknown } | null)?.request as HarEntry['request'] | undefined;
    if (!req || typeof req !== 'object') throw bad(source, `${at}.request`, 'expected an object');
    if (typeof req.method !== 'string' || !/^[A-Za-z]+$/.test(req.method)) throw bad(source, `${at}.request.method`, `expected an HTTP method, got ${JSON.stringify(req.method)}`);
    if (typeof req.url !== 'string') throw bad(source, `${at}.request.url`, 'expected a URL string');
    try {
      new URL(req.url);
    } catch {
      throw bad(source, `${at}.request.url`, `not an absolute URL: ${JSON.stringify(req.url)}`);
    }
    if (req.headers !== undefined && (!Array.isArray(req.headers) || req.headers.some((h) => typeof h?.name !== 'string' || typeof h?.value !== 'string'))) {
      throw bad(source, `${at}.request.headers`, 'expected an array of {name, value} strings');
    }
    const started = (e as { startedDateTime?: unknown }).startedDateTime;
    if (typeof started !== 'string' || Number.isNaN(Date.parse(started))) throw bad(source, `${at}.startedDateTime`, `expected an ISO date, got ${JSON.stringify(started)}`);
  });
  const pages = new Map<string, string>();
  const rawPages = (log as { pages?: unknown }).pages;
  if (Array.isArray(rawPages)) for (const p of rawPages as Array<{ id?: unknown; title?: unknown }>) if (typeof p?.id === 'string') pages.set(p.id, typeof p.title === 'string' && p.title ? p.title : p.id);
  return { entries: entries as HarEntry[], pages };
}

function isStatic(e: HarEntry): boolean {
  const mime = e.response?.content?.mimeType ?? '';
  if (mime && STATIC_MIME.test(mime)) return true;
  return STATIC_EXT.test(new URL(e.request.url).pathname);
}

function replayHeaders(e: HarEntry): Record<string, string> {
  const out: Record<string, string> = {};
  for (const { name, value } of e.request.headers ?? []) {
    const lower = name.toLowerCase();
    if (lower.startsWith(':') || DROPPED_HEADERS.has(lower)) {
      if (lower === 'accept-encoding') {
        const kept = value.split(',').map((c) => c.trim()).filter((c) => DECODED.has(c.split(';')[0]!.trim().toLowerCase()));
        if (kept.length) out[lower] = kept.join(', ');
      }
      continue;
    }
    // A request cannot carry CR/LF in a header; such a recorded value is dropped rather than rejected at run time.
    if (/[\r\n\0]/.test(value)) continue;
    out[lower] = value;
  }
  return out;
}

function body(e: HarEntry): string | null {
  const pd = e.request.postData;
  if (!pd) return null;
  if (typeof pd.text === 'string') return pd.text;
  if (Array.isArray(pd.params)) return new URLSearchParams(pd.params.map((p): [string, string] => [p.name, p.value ?? ''])).toString();
  return null;
}

/** Converts a HAR recording into a scenario module: one VU, one iteration, requests in recorded order, a group per page. */
export function harToScenario(text: string, options: HarConvertOptions = {}): HarConversion {
  const source = options.source ?? 'HAR';
  const { entries, pages } = parseHar(text, source);
  const maxThink = options.maxThinkTimeMs ?? 10_000;
  const ordered = entries.map((e, i) => ({ e, i, t: Date.parse(e.startedDateTime) })).sort((a, b) => a.t - b.t || a.i - b.i);
  let skippedStatic = 0;
  let skippedOther = 0;
  const kept = ordered.filter(({ e }) => {
    if (!/^https?:$/.test(new URL(e.request.url).protocol)) {
      skippedOther++;
      return false;
    }
    if (options.skipStatic && isStatic(e)) {
      skippedStatic++;
      return false;
    }
    return true;
  });
  if (kept.length === 0) throw bad(source, 'log.entries', `no http(s) request is left to replay (${skippedStatic} static, ${skippedOther} other skipped)`);
  const firstTitle = kept[0]!.e.pageref !== undefined ? pages.get(kept[0]!.e.pageref) : undefined;
  const name = options.name ?? (firstTitle ? slug(firstTitle) : 'har');
  const lines: string[] = [];
  let page: string | undefined;
  let lastT: number | null = null;
  const indent = (): string => (page !== undefined ? '      ' : '    ');
  for (const { e, t } of kept) {
    const pageTitle = e.pageref !== undefined ? (pages.get(e.pageref) ?? e.pageref) : undefined;
    if (pageTitle !== page) {
      if (page !== undefined) lines.push('    });');
      page = pageTitle;
      if (page !== undefined) lines.push(`    await ctx.group(${JSON.stringify(page.replaceAll('::', ':'))}, async () => {`);
    }
    if (options.thinkTime && lastT !== null) {
      const gap = Math.min(maxThink, Math.max(0, t - lastT));
      if (gap >= 1) lines.push(`${indent()}await ctx.sleep(${Math.round(gap)});`);
    }
    lastT = t;
    const headers = replayHeaders(e);
    const b = body(e);
    const opts: string[] = [];
    if (Object.keys(headers).length) opts.push(`headers: ${JSON.stringify(headers)}`);
    if (b !== null) opts.push(`body: ${JSON.stringify(b)}`);
    lines.push(`${indent()}await ctx.http.request(${JSON.stringify(e.request.method.toUpperCase())}, ${JSON.stringify(e.request.url)}${opts.length ? `, { ${opts.join(', ')} }` : ''});`);
  }
  if (page !== undefined) lines.push('    });');
  const code = [
    `// Converted by \`redline convert har\` from ${source}: ${kept.length} request${kept.length === 1 ? '' : 's'} in recorded order${options.thinkTime ? ', with recorded think time' : ''}.`,
    '// Cookies are not replayed from the recording: each VU\'s cookie jar keeps what the responses set.',
    "import { defineScenario } from '@redline/cli';",
    '',
    'export default defineScenario({',
    `  name: ${JSON.stringify(name)},`,
    "  executor: 'per-vu-iterations',",
    '  vus: 1,',
    '  iterations: 1,',
    '  exec: async (ctx) => {',
    ...lines,
    '  },',
    '});',
    '',
  ].join('\n');
  return { code, requests: kept.length, skippedStatic, skippedOther };
}

function slug(title: string): string {
  const s = title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60);
  return s || 'har';
}

/** What an L2 entry carries besides the value. Times are clock milliseconds (epoch by default). */
export interface EnvelopeMeta {
  expiresAtMs: number;
  staleUntilMs: number;
  negative: boolean;
  tags: readonly string[] | undefined;
}

/** A decoded L2 entry: metadata plus the serialized value (empty for negative entries). */
export interface DecodedEnvelope extends EnvelopeMeta {
  payload: string;
}

const VERSION = 'r1';

/**
 * Encodes an entry as `r1|<expiresAt>|<staleUntil>|<negative>|<tags JSON>\n<payload>`: a short header
 * line so the value is never re-escaped inside another JSON document.
 */
export function encodeEnvelope(meta: EnvelopeMeta, payload: string): string {
  const tags = meta.tags === undefined || meta.tags.length === 0 ? '' : JSON.stringify(meta.tags);
  return `${VERSION}|${Math.round(meta.expiresAtMs)}|${Math.round(meta.staleUntilMs)}|${meta.negative ? 1 : 0}|${tags}\n${payload}`;
}

/** Decodes an L2 entry; returns undefined for anything that is not a well-formed envelope. */
export function decodeEnvelope(text: string): DecodedEnvelope | undefined {
  const nl = text.indexOf('\n');
  if (nl < 0 || !text.startsWith(`${VERSION}|`)) return undefined;
  const header = text.slice(VERSION.length + 1, nl).split('|');
  if (header.length < 4) return undefined;
  const expiresAtMs = Number(header[0]);
  const staleUntilMs = Number(header[1]);
  if (!Number.isFinite(expiresAtMs) || !Number.isFinite(staleUntilMs)) return undefined;
  const tagText = header.slice(3).join('|');
  let tags: string[] | undefined;
  if (tagText !== '') {
    try {
      const parsed: unknown = JSON.parse(tagText);
      if (!Array.isArray(parsed) || !parsed.every((t) => typeof t === 'string')) return undefined;
      tags = parsed as string[];
    } catch {
      return undefined;
    }
  }
  return { expiresAtMs, staleUntilMs, negative: header[2] === '1', tags, payload: text.slice(nl + 1) };
}

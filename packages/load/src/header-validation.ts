import { ErrorCodes, RedlineError } from '@redline/core';

/** RFC 9110 §5.6.2 token: what a field name may be made of. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Anything but HTAB, visible ASCII, SP and obs-text (RFC 9110 §5.5) is invalid in a field value. */
const INVALID_VALUE_CHAR = /[^\t\x20-\x7e\x80-\xff]/;

/** Why a request header cannot be sent as given, or null when it can. */
export function headerProblem(name: string, value: unknown): string | null {
  if (typeof name !== 'string' || !TOKEN.test(name)) {
    return `invalid header name ${JSON.stringify(name)}: expected a token (letters, digits and !#$%&'*+-.^_\`|~), no spaces, colons or line breaks`;
  }
  if (typeof value !== 'string') return `header "${name}" has a ${typeof value} value: expected a string`;
  const bad = INVALID_VALUE_CHAR.exec(value);
  if (bad) {
    const code = bad[0].codePointAt(0)!;
    const what = code === 13 || code === 10 ? 'a line break (CR/LF)' : code > 0xff ? `a character outside latin1 (U+${code.toString(16).toUpperCase().padStart(4, '0')})` : `a control character (0x${code.toString(16).padStart(2, '0')})`;
    return `header "${name}" has an invalid value: it contains ${what}`;
  }
  return null;
}

/**
 * Throws REDLINE_ERR_BAD_HEADER (exit code 2) for the first header that cannot be sent:
 * a name that is not a token, or a value with CR/LF, NUL or another control character.
 * @param where prefix of the message, e.g. the scenario file and field path.
 */
export function assertValidHeaders(headers: Readonly<Record<string, unknown>> | undefined, where: string): void {
  if (!headers) return;
  for (const name of Object.keys(headers)) {
    const problem = headerProblem(name, headers[name]);
    if (problem) throw new RedlineError(ErrorCodes.BAD_HEADER, `${where}: ${problem}`, { details: { header: name } });
  }
}

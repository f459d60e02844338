// Names and messages in a run directory are data from elsewhere (a scenario file, a server's error
// text, a crafted result.json): printed raw, an ESC sequence in them could rewrite the terminal's
// title, hide lines or fake a verdict. Everything from a result passes through here before printing.

// C0 controls, DEL, C1 controls, and the bidirectional overrides that reorder what is shown.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** `text` with every terminal control character replaced: line breaks and tabs by a space, the rest by `�`. */
export function stripControl(text: string): string {
  return text.replace(CONTROL, (c) => (c === '\n' || c === '\r' || c === '\t' ? ' ' : '\uFFFD'));
}

/** A deep copy of `value` with {@link stripControl} applied to every string and object key. */
export function terminalSafe<T>(value: T): T {
  if (typeof value === 'string') return stripControl(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => terminalSafe(v)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[stripControl(k)] = terminalSafe(v);
    return out as T;
  }
  return value;
}

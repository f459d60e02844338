import { ErrorCodes, RedlineError } from './errors.js';

const DURATION_UNITS_MS: Record<string, number> = {
  us: 0.001,
  µs: 0.001,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/**
 * The longest delay a Node.js timer honours: 2³¹ − 1 ms (about 24.8 days). `setTimeout` with a
 * larger delay fires after 1 ms instead, so every duration that ends up in a timer is checked
 * against it (see `checkTimerMs`).
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Throws REDLINE_ERR_BAD_DURATION when `ms` is longer than {@link MAX_TIMER_MS}, naming `what`.
 * Returns `ms` unchanged otherwise.
 */
export function checkTimerMs(ms: number, what = 'duration'): number {
  if (ms > MAX_TIMER_MS) {
    throw new RedlineError(
      ErrorCodes.BAD_DURATION,
      `${what} ${formatDuration(ms)} is too long: at most ${formatDuration(Math.floor(MAX_TIMER_MS / 1000) * 1000)} (2^31 - 1 ms, the longest timer Node.js can set)`,
    );
  }
  return ms;
}

/**
 * Parses a duration such as `30s`, `1m30s`, `500ms`, `2h` or a bare number of seconds (`45`)
 * into milliseconds. Throws REDLINE_ERR_BAD_DURATION for anything else.
 */
export function parseDuration(input: string | number, what = 'duration'): number {
  if (typeof input === 'number') {
    if (Number.isFinite(input) && input >= 0) return input * 1000;
    throw badDuration(String(input), what);
  }
  const text = input.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const part = /(\d+(?:\.\d+)?)(ms|us|µs|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  let match: RegExpExecArray | null;
  while ((match = part.exec(text)) !== null) {
    total += Number(match[1]) * (DURATION_UNITS_MS[match[2]!] ?? NaN);
    consumed = part.lastIndex;
  }
  if (text.length === 0 || consumed !== text.length || !Number.isFinite(total)) throw badDuration(text, what);
  return total;
}

function badDuration(text: string, what: string): RedlineError {
  return new RedlineError(
    ErrorCodes.BAD_DURATION,
    `invalid ${what} "${text}": expected a number with a unit, such as 500ms, 30s, 5m, 1h or 1m30s`,
  );
}

/** Formats milliseconds compactly: `1m30s`, `250ms`, `1.5s`. */
export function formatDuration(ms: number): string {
  if (ms < 1) return `${(ms * 1000).toFixed(0)}µs`;
  if (ms < 1000) return `${Number(ms.toFixed(ms < 10 ? 2 : 0))}ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(2))}s`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s ? `${s}s` : ''}` || '0s';
}

const RATE_UNITS_PER_SEC: Record<string, number> = { s: 1, sec: 1, m: 1 / 60, min: 1 / 60, h: 1 / 3600 };

/**
 * Parses a rate such as `2000`, `2k/s`, `1.5k`, `600/m` or `100rps` into events per second.
 * Throws REDLINE_ERR_BAD_RATE for anything else, including zero and negative rates.
 */
export function parseRate(input: string | number, what = 'rate'): number {
  if (typeof input === 'number') {
    if (Number.isFinite(input) && input > 0) return input;
    throw badRate(String(input), what);
  }
  // `10m` reads as "10 per minute" to some and "10 million" to others: neither guess is safe.
  const ambiguous = /^\s*(\d+(?:\.\d+)?)\s*[mM]\s*(?:rps)?\s*$/.exec(input);
  if (ambiguous) {
    throw new RedlineError(
      ErrorCodes.BAD_RATE,
      `invalid ${what} "${input.trim()}": "m" is ambiguous in a rate; write ${ambiguous[1]}/m for ${ambiguous[1]} per minute, or the number per second in full`,
    );
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kK]?)\s*(?:rps|\/\s*(s|sec|m|min|h))?\s*$/.exec(input);
  if (!m) throw badRate(input, what);
  const mult = m[2] === '' ? 1 : 1e3;
  const per = RATE_UNITS_PER_SEC[m[3] ?? 's'] ?? 1;
  const value = Number(m[1]) * mult * per;
  if (!(value > 0) || !Number.isFinite(value)) throw badRate(input, what);
  return value;
}

function badRate(text: string, what: string): RedlineError {
  return new RedlineError(
    ErrorCodes.BAD_RATE,
    `invalid ${what} "${text}": expected a positive number of events per second, such as 500, 2k/s or 600/m`,
  );
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  kb: 1024,
  k: 1024,
  mb: 1024 ** 2,
  m: 1024 ** 2,
  gb: 1024 ** 3,
  g: 1024 ** 3,
};

/** Parses a size such as `50mb`, `512kb`, `1gb` or a number of bytes. Binary units (1 kb = 1024 bytes). */
export function parseSize(input: string | number, what = 'size'): number {
  if (typeof input === 'number') {
    if (Number.isFinite(input) && input >= 0) return Math.floor(input);
    throw badSize(String(input), what);
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(input);
  const unit = SIZE_UNITS[(m?.[2] ?? '?').toLowerCase()];
  if (!m || unit === undefined) throw badSize(input, what);
  return Math.floor(Number(m[1]) * unit);
}

function badSize(text: string, what: string): RedlineError {
  return new RedlineError(ErrorCodes.BAD_SIZE, `invalid ${what} "${text}": expected bytes or a size such as 512kb, 50mb, 1gb`);
}

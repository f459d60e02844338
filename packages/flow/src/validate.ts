import { FlowErrorCodes } from './errors.js';

function fail(kind: 'range' | 'type', name: string, expected: string, got: unknown): never {
  const shown = typeof got === 'string' ? JSON.stringify(got) : String(got);
  const err = kind === 'range' ? new RangeError(`${name} must be ${expected}, got ${shown}`) : new TypeError(`${name} must be ${expected}, got ${shown}`);
  (err as Error & { code: string }).code = FlowErrorCodes.INVALID_OPTION;
  throw err;
}

/** An integer option in [min, max]; `undefined` gives `fallback`. */
export function intOption(name: string, value: unknown, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail('range', name, max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer in [${min}, ${max}]`, value);
  }
  return value;
}

/** A finite number option in [min, max] (bounds inclusive unless `exclusiveMin`). */
export function numberOption(name: string, value: unknown, fallback: number, min: number, max = Infinity, exclusiveMin = false): number {
  if (value === undefined) return fallback;
  const low = exclusiveMin ? (value as number) <= min : (value as number) < min;
  if (typeof value !== 'number' || !Number.isFinite(value) || low || value > max) {
    const range = max === Infinity ? `${exclusiveMin ? '>' : '≥'} ${min}` : `in ${exclusiveMin ? '(' : '['}${min}, ${max}]`;
    fail('range', name, `a finite number ${range}`, value);
  }
  return value;
}

/** A function option. */
export function fnOption<T>(name: string, value: unknown, fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'function') fail('type', name, 'a function', value);
  return value as T;
}

/** One of a set of strings. */
export function oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !allowed.includes(value as T)) fail('range', name, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, value);
  return value as T;
}

/** Throws a RangeError naming the option. */
export function rangeError(name: string, expected: string, got: unknown): never {
  fail('range', name, expected, got);
}

/** Throws a TypeError naming the option. */
export function typeError(name: string, expected: string, got: unknown): never {
  fail('type', name, expected, got);
}

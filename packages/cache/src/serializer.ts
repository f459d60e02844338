import { ErrorCodes, RedlineError } from '@redline/core';

/**
 * Turns values into strings for L2 (and for byte accounting) and back. `serialize` must throw for
 * values it cannot represent faithfully rather than produce a lossy string.
 */
export interface Serializer {
  serialize(value: unknown): string;
  deserialize(text: string): unknown;
}

function strictReplacer(this: unknown, key: string, value: unknown): unknown {
  switch (typeof value) {
    case 'bigint':
    case 'function':
    case 'symbol':
      throw new TypeError(`${typeof value} at ${describeKey(key)}`);
    case 'undefined':
      // An undefined object property round-trips as a missing property (reads the same); in an
      // array it would silently become null, and at the top level there is nothing to store.
      if (key === '' || Array.isArray(this)) throw new TypeError(`undefined at ${describeKey(key)}`);
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`non-finite number ${String(value)} at ${describeKey(key)}`);
      return value;
    case 'object':
      if (value instanceof Map || value instanceof Set || value instanceof WeakMap || value instanceof WeakSet || value instanceof RegExp || value instanceof Promise) {
        throw new TypeError(`${value.constructor.name} at ${describeKey(key)}`);
      }
      return value;
    default:
      return value;
  }
}

function describeKey(key: string): string {
  return key === '' ? 'the top level' : `property "${key}"`;
}

/**
 * The default serializer: JSON, but strict — `undefined` array items or top-level values, functions, symbols, BigInts,
 * non-finite numbers, Maps, Sets, RegExps and circular structures are rejected with
 * REDLINE_ERR_NOT_SERIALIZABLE instead of being silently dropped or mangled. Dates become ISO strings
 * (standard JSON behaviour).
 */
export const jsonSerializer: Serializer = {
  serialize(value) {
    try {
      return JSON.stringify(value, strictReplacer);
    } catch (err) {
      throw notSerializable(err);
    }
  },
  deserialize(text) {
    return JSON.parse(text) as unknown;
  },
};

/** Wraps a failure of `serialize` into the cache's coded error (idempotent). */
export function notSerializable(err: unknown, key?: string): RedlineError {
  let reason: string;
  let cause = err;
  if (err instanceof RedlineError) {
    // Re-word the serializer's own coded error so the message names the key.
    if (key === undefined || typeof err.details?.reason !== 'string') return err;
    reason = err.details.reason;
    cause = err.cause ?? err;
  } else {
    reason = err instanceof Error ? err.message : String(err);
  }
  return new RedlineError(
    ErrorCodes.NOT_SERIALIZABLE,
    `cache value${key === undefined ? '' : ` for key "${key}"`} cannot be serialised: ${reason}`,
    { cause, details: { reason, ...(key === undefined ? {} : { key }) } },
  );
}

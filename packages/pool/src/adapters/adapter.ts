import type { PoolDriver, PoolMeta } from '../channels.js';
import type { DriverGauges, PoolMonitor } from '../monitor.js';

/** How `watchPool` reads and hooks one pool library. Pools are duck-typed: no driver is imported. */
export interface PoolAdapter {
  readonly driver: PoolDriver;
  /** Whether it times the queries run on a held client (so stats carry `queriesPerHold`, `queryMsPerHold`). */
  readonly timesQueries?: boolean;
  /** Whether `pool` is this library's pool (or a wrapper this adapter unwraps). */
  matches(pool: unknown): boolean;
  /** The object whose methods and events are hooked (e.g. the core pool behind mysql2's promise pool). */
  unwrap(pool: unknown): object;
  meta(pool: object): PoolMeta;
  gauges(pool: object): DriverGauges;
  /** Hooks the pool so it reports to `monitor`; returns the function that undoes it. */
  attach(pool: object, monitor: PoolMonitor): () => void;
}

/** Loose view of an object's properties, for duck typing. */
export type Loose = Record<string, unknown>;

/** `value` as a loose record, or an empty one. */
export function loose(value: unknown): Loose {
  return typeof value === 'object' && value !== null ? (value as Loose) : typeof value === 'function' ? (value as unknown as Loose) : {};
}

/** A finite number, or undefined. */
export function num(value: unknown): number | undefined {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}

/** A non-empty string, or undefined. */
export function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Length of a list-like (array, denque, ring queue), 0 when unknown. */
export function lengthOf(value: unknown): number {
  return num(loose(value).length) ?? 0;
}

/**
 * Replaces `obj[key]` with `wrap(original)` as an own property and returns the undo function, which
 * restores the previous own property or removes ours so the prototype's method shows through again.
 */
export function patchMethod(obj: object, key: string, wrap: (original: (...args: unknown[]) => unknown) => (...args: unknown[]) => unknown): () => void {
  const target = obj as Loose;
  const hadOwn = Object.prototype.hasOwnProperty.call(obj, key);
  const previous = target[key] as (...args: unknown[]) => unknown;
  const wrapped = wrap(previous);
  target[key] = wrapped;
  return () => {
    if (target[key] !== wrapped) return; // someone wrapped it after us: leave their wrapper alone
    if (hadOwn) target[key] = previous;
    else delete target[key];
  };
}

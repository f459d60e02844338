import { ErrorCodes, RedlineError, type ResolvedStage } from '@redline/core';

/** Named load profiles, expanded from a base level (rate or VUs) and a total duration. */
export const PROFILE_NAMES = ['smoke', 'load', 'stress', 'spike', 'soak', 'breakpoint'] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

/** Stage shape: fraction of the total duration, and target as a multiple of the base level. */
type Shape = ReadonlyArray<readonly [durationShare: number, targetFactor: number]>;

/**
 * The documented stage lists (docs/cli.md#profiles). Every shape starts from 0 (or the smoke level)
 * and its duration shares add up to 1.
 */
const SHAPES: Record<ProfileName, Shape> = {
  // a tiny constant load to check the script and the target work at all
  smoke: [[1, 0.1]],
  // ramp up, hold at the base level, ramp down
  load: [[0.1, 1], [0.8, 1], [0.1, 0]],
  // climb past the base level in steps, to 2× base
  stress: [[0.1, 1], [0.2, 1], [0.1, 1.5], [0.2, 1.5], [0.1, 2], [0.2, 2], [0.1, 0]],
  // quiet, a sudden surge to 4× base, then back to quiet
  spike: [[0.1, 0.1], [0.3, 0.1], [0.05, 4], [0.15, 4], [0.05, 0.1], [0.35, 0.1]],
  // a long hold at base, for leaks and drift
  soak: [[0.05, 1], [0.9, 1], [0.05, 0]],
  // a steady climb to 10× base; pair with an abortOnFail threshold to stop at the break
  breakpoint: [[1, 10]],
};

/** Checks a profile name, throwing REDLINE_ERR_UNKNOWN_PROFILE with the list of valid names. */
export function assertProfileName(name: string): asserts name is ProfileName {
  if (!(PROFILE_NAMES as readonly string[]).includes(name)) {
    throw new RedlineError(ErrorCodes.UNKNOWN_PROFILE, `unknown profile "${name}": expected one of ${PROFILE_NAMES.join(', ')}`);
  }
}

/**
 * Expands a named profile into stages. Targets are rounded to whole VUs when `integer` (closed
 * model) and never drop below 1 for the smoke profile.
 */
export function expandProfile(name: string, base: number, durationMs: number, integer: boolean): { startTarget: number; stages: ResolvedStage[] } {
  assertProfileName(name);
  const shape = SHAPES[name];
  const round = (v: number): number => (integer ? Math.max(name === 'smoke' ? 1 : 0, Math.round(v)) : Math.max(name === 'smoke' ? Math.min(1, base) : 0, v));
  const stages = shape.map(([share, factor]) => ({ durationMs: Math.round(share * durationMs), target: round(base * factor) }));
  const startTarget = name === 'smoke' || name === 'spike' ? stages[0]!.target : 0;
  return { startTarget, stages };
}

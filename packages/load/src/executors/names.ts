/** Load models, with the names k6 users know. One file per model in this folder. */
export const EXECUTOR_NAMES = [
  'constant-vus',
  'ramping-vus',
  'per-vu-iterations',
  'shared-iterations',
  'constant-arrival-rate',
  'ramping-arrival-rate',
] as const;

/** A load-model name. */
export type ExecutorName = (typeof EXECUTOR_NAMES)[number];

/** Open models schedule iterations by time; closed models loop VUs back to back. */
export function isOpenModel(name: string): boolean {
  return name === 'constant-arrival-rate' || name === 'ramping-arrival-rate';
}

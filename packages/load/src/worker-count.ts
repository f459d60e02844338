import { availableParallelism } from 'node:os';

/**
 * The default number of engine worker threads: one core is left for the runner (and, on small
 * machines, the target), so cores − 1, at least 1. `cores` defaults to `os.availableParallelism()`.
 */
export function defaultWorkerCount(cores: number = availableParallelism()): number {
  return Math.max(1, Math.floor(cores) - 1);
}

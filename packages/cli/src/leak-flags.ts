import { ErrorCodes, RedlineError } from '@redline/core';
import type { LeakEvidenceOptions, LeakSnapshotMode } from './leak-evidence.js';

/** The leak-evidence flags `run` and `demo` share (node:util parseArgs options). */
export const LEAK_OPTIONS = {
  'leak-snapshots': { type: 'string' },
  'no-full-gc': { type: 'boolean' },
} as const;

/** Help lines for the leak-evidence flags. */
export const LEAK_HELP = `Leaks (--target; with --attach only when --leak-snapshots is given):
  --leak-snapshots M     heap snapshots under load to name what leaks: auto (default: runs of 20 s or
                         more whose heap after full GC grows early), on, off; refused when the heap
                         is over half the free memory
  --no-full-gc           do not force full GCs (the leak rule then needs V8's own major GCs)`;

const MODES: readonly LeakSnapshotMode[] = ['auto', 'on', 'off'];

/**
 * Reads the leak flags for a target that is launched (`launch`), attached to (`attach`: the inspector
 * takes the snapshots and forces the GCs) or absent. Throws REDLINE_ERR_USAGE for an unknown
 * `--leak-snapshots` mode, for either flag without a target, and for `--no-full-gc` with `--attach`
 * but no `--leak-snapshots` (an attached target gets leak evidence only when asked for).
 */
export function leakOptionsFrom(v: Record<string, unknown>, target: 'launch' | 'attach' | undefined): LeakEvidenceOptions {
  const mode = v['leak-snapshots'];
  if (mode !== undefined && !MODES.includes(String(mode) as LeakSnapshotMode)) {
    throw new RedlineError(ErrorCodes.USAGE, `--leak-snapshots must be one of ${MODES.join(', ')}, got "${String(mode)}"`);
  }
  if (target === undefined && (mode !== undefined || v['no-full-gc'] !== undefined)) {
    throw new RedlineError(ErrorCodes.USAGE, `--${mode !== undefined ? 'leak-snapshots' : 'no-full-gc'} needs --target or --attach (the probe or the inspector takes the snapshots)`);
  }
  if (target === 'attach' && mode === undefined && v['no-full-gc'] !== undefined) {
    throw new RedlineError(ErrorCodes.USAGE, '--no-full-gc with --attach needs --leak-snapshots (an attached target gets forced GCs and snapshots only when asked for)');
  }
  return { ...(mode !== undefined ? { snapshots: String(mode) as LeakSnapshotMode } : {}), ...(v['no-full-gc'] ? { fullGc: false } : {}) };
}

import { ErrorCodes, RedlineError } from '@redline/core';

/** `--name` or `--name=value`: a V8 or Node flag with its value in the same word. */
const FLAG = /^--[a-z0-9][a-z0-9_-]*(?:=[A-Za-z0-9_.,:/+@%-]+)?$/i;
/** Flags that would load code into the target or take a separate word as their value. */
const REFUSED = /^--(?:require|import|loader|experimental-loader|env-file|eval|print|inspect[a-z-]*|debug[a-z-]*)(?:=|$)/i;

/**
 * Splits and checks `--target-node-options`: whitespace-separated words, each a `--` V8/Node flag
 * with its value joined by `=` (`--max-semi-space-size=64 --max-old-space-size=4096`). They reach the
 * target through NODE_OPTIONS, before the probe's own preload. Refused with REDLINE_ERR_INVALID_ARGUMENT,
 * naming the word: anything not starting with `--` (`-r`, `foo`), shell characters or quotes, and
 * flags that load code or open a debugger (`--require`, `--import`, `--loader`, `--inspect`, ...).
 * Returns an empty list for an empty string.
 */
export function parseTargetNodeOptions(text: string): string[] {
  if (typeof text !== 'string') throw invalid(`--target-node-options must be a string of -- flags, got ${typeof text}`);
  const words = text.trim() === '' ? [] : text.trim().split(/\s+/);
  if (words.length > 32) throw invalid(`--target-node-options takes at most 32 flags, got ${words.length}`);
  for (const w of words) {
    if (!w.startsWith('--')) {
      throw invalid(`--target-node-options: "${w}" is not a -- flag; give only V8/Node flags with their value after "=", e.g. --max-semi-space-size=64`);
    }
    if (!FLAG.test(w)) {
      throw invalid(`--target-node-options: "${w}" is not a plain --flag or --flag=value (letters, digits and -_.,:/+@% only)`);
    }
    if (REFUSED.test(w)) {
      throw invalid(`--target-node-options: "${w.split('=')[0]!}" is refused: it loads code or opens a debugger; put it in the --target command instead`);
    }
  }
  return words;
}

function invalid(message: string): RedlineError {
  return new RedlineError(ErrorCodes.INVALID_ARGUMENT, message);
}

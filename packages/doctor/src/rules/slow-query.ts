import type { Finding } from '@redline/core';
import type { RuleContext } from '../timeline.js';
import { dominantOp, slowOpFinding } from './slow-op.js';

/** Slow query: one normalised statement takes at least SLOW_OP_MIN_TAIL_SHARE of a request name's tail on the critical path. */
export function slowQueryRule(ctx: RuleContext): Finding | null {
  const s = dominantOp(ctx, 'db');
  return s === null ? null : slowOpFinding(ctx, s, 'slow-query');
}

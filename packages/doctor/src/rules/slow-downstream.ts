import type { Finding } from '@redline/core';
import type { RuleContext } from '../timeline.js';
import { dominantOp, slowOpFinding } from './slow-op.js';

/** Slow downstream: one `METHOD host:port route` takes at least SLOW_OP_MIN_TAIL_SHARE of a request name's tail on the critical path. */
export function slowDownstreamRule(ctx: RuleContext): Finding | null {
  const s = dominantOp(ctx, 'downstream');
  return s === null ? null : slowOpFinding(ctx, s, 'slow-downstream');
}

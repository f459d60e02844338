import type { LimitAlgorithm, LimitBounds } from './types.js';

/** A static limit: `initial`, never adjusted (the baseline the adaptive algorithms are compared to). */
export class Fixed implements LimitAlgorithm {
  readonly name = 'fixed';
  readonly limit: number;

  constructor(bounds: LimitBounds) {
    this.limit = bounds.initial;
  }

  update(): number {
    return this.limit;
  }

  gauges(): Record<string, number> {
    return {};
  }
}

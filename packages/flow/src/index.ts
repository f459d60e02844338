export * from './errors.js';
export * from './clock.js';
export * from './stats.js';
export * from './limiter.js';
export type { LatencyWindow, LimitAlgorithm, LimitBounds } from './algorithms/types.js';
export { Gradient2, type Gradient2Options } from './algorithms/gradient2.js';
export { Vegas, log10Step, type VegasOptions } from './algorithms/vegas.js';
export { Aimd, type AimdOptions } from './algorithms/aimd.js';
export { Fixed } from './algorithms/fixed.js';

export * from './errors.js';
export * from './clock.js';
export * from './parse.js';
export * from './histogram.js';
export * from './stats.js';
export * from './result.js';
export * from './run-dir.js';
export * from './threshold-format.js';

export * from './cpu-profile.js';
export * from './source-maps.js';
export * from './profile-model.js';
export * from './flame-diff.js';
export * from './exporters.js';
export * from './thresholds.js';
export * from './timeline.js';
export * from './diagnose.js';
export { resourcePiles, type ResourcePile } from './rules/waiting-external.js';

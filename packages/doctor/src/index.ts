export * from './cpu-profile.js';
export * from './source-maps.js';
export * from './profile-model.js';
export * from './flame-diff.js';
export * from './exporters.js';

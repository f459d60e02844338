export * from './scenario-api.js';
export { main, MAIN_HELP } from './main.js';
export { processIo, type CliIo } from './io.js';
export { runSession, profileWindowMs, type SessionOptions, type SessionOutcome, type TargetSpec } from './session.js';
export { renderSummary, renderLiveLine } from './output/summary.js';
export { runExitCode } from './commands/run.js';
export { demoServerPath, DEMO_BOTTLENECKS } from './commands/demo.js';

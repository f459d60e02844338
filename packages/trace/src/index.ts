export * from './span.js';
export { spansFromOtlpProto } from './otlp-proto.js';
export * from './operation.js';
export * from './critical-path.js';
export * from './breakdown.js';
export * from './analyze.js';
export { startReceiver, TraceReceiver, type ReceiverOptions, type ReceiverStats, type KeptRecord } from './receiver.js';
export * from './run-tracing.js';

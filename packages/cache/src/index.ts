export { createCache, type Cache, type Factory, type FactoryContext, type InvalidationReport } from './cache.js';
export type { EdgeOptions, EdgeInvalidation } from './edge.js';
export type {
  CacheOptions,
  CircuitBreakerInput,
  DurationInput,
  GetOptions,
  GetOrSetOptions,
  L1Options,
  LockOptions,
  SetOptions,
  SizeInput,
} from './options.js';
export type { CacheStats, HistogramSummary } from './metrics.js';
export { LATENCY_BUCKETS_MS } from './metrics.js';
export type { CircuitState } from './circuit-breaker.js';
export type { EvictionReason } from './l1-store.js';
export type { EvictionPolicyName } from './eviction/entry.js';
export { cacheChannels } from './diagnostics.js';
export { jsonSerializer, type Serializer } from './serializer.js';
export { isL2Store, type L2Store, type LeaseLock } from './stores/store.js';
export { createMemoryStore, type MemoryStoreOptions } from './stores/memory-store.js';
export { createRedisStore, type RedisStore, type RedisStoreOptions } from './stores/redis-store.js';
export type { RedisConnection } from './stores/redis-connection.js';
export { createMemoryBusHub, isInvalidationBus, type BusHandlers, type BusMessage, type InvalidationBus, type MemoryBusHub } from './bus/bus.js';
export { createRedisBus, type RedisBusOptions } from './bus/redis-bus.js';
export { ManualTimerClock, systemTimerClock, type TimerClock, type TimerHandle } from './timers.js';
export {
  createKeyTraceRecorder,
  formatTrace,
  parseTrace,
  readTraceFile,
  type KeyTrace,
  type KeyTraceRecorder,
  type KeyTraceRecorderOptions,
  type TraceEvent,
  type TraceOp,
} from './trace.js';
export {
  generateZipfTrace,
  renderSimulationTable,
  simulateTrace,
  type PolicyResult,
  type SimulateOptions,
  type SimulationResult,
  type SimulationRow,
  type ZipfTraceOptions,
} from './simulate.js';

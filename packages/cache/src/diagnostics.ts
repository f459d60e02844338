import diagnosticsChannel from 'node:diagnostics_channel';

/**
 * `node:diagnostics_channel` channels the cache publishes to. Messages are published only when a
 * channel has subscribers, so they cost nothing otherwise. Every message carries `cache` (the
 * instance name) and, where relevant, `key` (fully namespaced).
 */
export const cacheChannels = {
  /** `{ cache, key, tier: 'l1' | 'l2' }` */
  hit: diagnosticsChannel.channel('redline:cache:hit'),
  /** `{ cache, key }` */
  miss: diagnosticsChannel.channel('redline:cache:miss'),
  /** `{ cache, key, reason: 'grace' | 'soft-timeout' | 'read' }` */
  stale: diagnosticsChannel.channel('redline:cache:stale'),
  /** `{ cache, key, durationMs, error? }` after each factory call */
  factory: diagnosticsChannel.channel('redline:cache:factory'),
  /** `{ cache, key, reason }` for each L1 removal */
  evict: diagnosticsChannel.channel('redline:cache:evict'),
  /** `{ cache, key }` */
  set: diagnosticsChannel.channel('redline:cache:set'),
  /** `{ cache, keys?, tags?, prefix? }` */
  delete: diagnosticsChannel.channel('redline:cache:delete'),
  /** `{ cache, operation, error }` for absorbed L2, bus and background errors */
  error: diagnosticsChannel.channel('redline:cache:error'),
  /** `{ cache, state }` on every circuit transition */
  circuit: diagnosticsChannel.channel('redline:cache:circuit'),
  /** `{ cache, message, lagMs }` for each bus message received from another instance */
  bus: diagnosticsChannel.channel('redline:cache:bus'),
} as const;

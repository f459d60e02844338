export { watchPool, PoolWatchError, type PoolWatch, type WatchPoolOptions } from './watch.js';
export {
  POOL_STATS_CHANNEL,
  POOL_LEAK_CHANNEL,
  type PoolDriver,
  type PoolMeta,
  type StatsMessage,
  type PoolStatsMessage,
  type PoolLeakMessage,
} from './channels.js';
export { systemClock, type Clock } from './monitor.js';
export { DurationHistogram } from './histogram.js';

/**
 * Named thresholds of the diagnosis rules. Each is documented in docs/doctor.md with the reason for
 * its value; change them there and here together.
 */
export const Thresholds = {
  /** Share of the run's active seconds a condition must hold in to count as sustained (0–1). */
  SUSTAINED_FRACTION: 0.5,
  /** Event-loop utilisation above which the main thread counts as busy (0–1). */
  ELU_BUSY: 0.9,
  /** Process CPU, in cores, above which the process counts as at one core. */
  CPU_SATURATED_CORES: 0.9,
  /**
   * Process CPU, in cores, that a main thread busy all the time (ELU ≥ ELU_BUSY) must at least get to
   * count as CPU saturated on a machine that gives it less than a core (other processes compete).
   */
  CPU_STARVED_MIN_CORES: 0.2,
  /** Per-second p99 event-loop delay above which the loop counts as blocked, in ms. */
  LOOP_DELAY_P99_MS: 50,
  /** Time-weighted median uninterrupted synchronous stretch of the responsible function above which it blocks the loop, in ms. */
  SYNC_SPAN_BLOCKING_MS: 5,
  /** Share of the profiled window's samples inside synchronous `fs` calls from which the event-loop finding names them (0–1). */
  SYNC_FS_MIN_SHARE: 0.05,
  /** Mean count of pending immediates under load from which the hot code counts as chunked (it yields with setImmediate). */
  CHUNKED_MIN_IMMEDIATES: 5,
  /** Share of failed requests that were timeouts from which errors count as a symptom of a slow target (0–1). */
  ERRORS_TIMEOUT_SHARE: 0.5,
  /** Share of wall time in GC pauses above which GC is a problem (0–1). */
  GC_SHARE_PRESSURE: 0.08,
  /** Share of wall time in GC pauses above which GC pressure is of high severity (0–1). */
  GC_SHARE_HIGH: 0.15,
  /** Minimum number of heap points (after-GC, or per-second heap used) to fit a leak trend. */
  LEAK_MIN_POINTS: 5,
  /** Heap growth slope above which a trend counts as a leak, in MB per minute. */
  LEAK_MIN_SLOPE_MB_PER_MIN: 2,
  /** Slope above which a leak is of high severity, in MB per minute. */
  LEAK_HIGH_SLOPE_MB_PER_MIN: 20,
  /** Minimum R² of the heap trend for a leak finding (0–1). */
  LEAK_MIN_R2: 0.6,
  /** Minimum total heap growth over the fitted span for a leak finding, in MB. */
  LEAK_MIN_GROWTH_MB: 4,
  /**
   * Growth of heap used (no major GC in the window) below which a leak is at most of medium
   * severity, in MB: the young generation alone holds up to 16 MB of garbage (two 8 MB semi-spaces
   * on 64-bit Node 20), and old space rises between major GCs in every allocating service.
   */
  LEAK_HEAP_USED_HIGH_GROWTH_MB: 16,
  /**
   * Spread of requests in flight (max − min over the heap points) above which the leak fit first takes
   * out the heap they hold: requests in flight hold memory, so a backlog that builds up is no leak.
   */
  LEAK_INFLIGHT_MIN_SPREAD: 3,
  /** Growth of heap after full GC, in MB, that auto mode needs before the first snapshot moment to take heap snapshots. */
  LEAK_SNAPSHOT_TRIGGER_MB: 1,
  /** Slope of heap after full GC, in MB per minute, that auto mode needs to take heap snapshots. */
  LEAK_SNAPSHOT_TRIGGER_MB_PER_MIN: 20,
  /** A heap snapshot needs about this many times the heap in free memory; with less, none is taken. */
  SNAPSHOT_MEMORY_FACTOR: 2,
  /** Fewest new bytes an object must hold across snapshots to be named as keeping a leak. */
  LEAK_SUSPECT_MIN_BYTES: 256 * 1024,
  /** ELU below which the main thread counts as mostly waiting (0–1). */
  WAIT_MAX_ELU: 0.5,
  /** Process CPU below which the process counts as mostly waiting, in cores. */
  WAIT_MAX_CPU_CORES: 0.5,
  /** Median per-second p50 latency above which waiting matters, in ms. */
  WAIT_MIN_LATENCY_MS: 20,
  /** Share of a request's latency not explained by CPU time above which it counts as waiting (0–1). */
  WAIT_MIN_WAIT_SHARE: 0.8,
  /** Growth of one active-resource type over its run minimum that counts as piling up (count). */
  WAIT_MIN_PILE: 5,
  /** Whole-run error rate above which errors are a finding of medium severity (0–1). */
  ERROR_RATE_MEDIUM: 0.01,
  /** Whole-run error rate above which errors are of high severity (0–1). */
  ERROR_RATE_HIGH: 0.05,
  /** Error rate in one second that marks that second as a spike (0–1). */
  ERROR_SPIKE_RATE: 0.05,
  /** Fewest traced requests of one name before the trace rules judge it. */
  TRACE_MIN_TRACES: 10,
  /** Median executions of one statement per request from which it counts as N+1. */
  N_PLUS_ONE_MIN_COUNT: 5,
  /** Share of a request's mean latency its N+1 executions must take to matter (0–1). */
  N_PLUS_ONE_MIN_SHARE: 0.2,
  /** Share of a request's mean latency from which N+1 is of high severity (0–1). */
  N_PLUS_ONE_HIGH_SHARE: 0.4,
  /** Share of the busy CPU inside a database driver from which N+1 queries explain a busy loop or CPU (0–1): most of it. */
  DRIVER_CPU_SHARE: 0.5,
  /** Share of the tail's mean latency one statement or downstream must take on the critical path (0–1). */
  SLOW_OP_MIN_TAIL_SHARE: 0.3,
  /** Share of the tail's mean latency from which a slow statement or downstream is of high severity (0–1). */
  SLOW_OP_HIGH_TAIL_SHARE: 0.5,
  /** Median duration of one execution below which a statement or downstream is not called slow, in ms. */
  SLOW_OP_MIN_P50_MS: 20,
  /** Share of the tail's mean latency spent before the handler for server queueing (0–1). */
  QUEUEING_MIN_TAIL_SHARE: 0.3,
  /** Share of the tail's mean latency before the handler from which queueing is of high severity (0–1). */
  QUEUEING_HIGH_TAIL_SHARE: 0.5,
  /** Mean ms before the handler, in the tail and at the median, below which queueing is not worth a finding. */
  QUEUEING_MIN_MS: 5,
  /** Mean acquire wait per acquisition in a second from which requests count as waiting for a pool client, in ms. */
  POOL_WAIT_MIN_MS: 5,
  /** Mean waiters in a second from which a pool counts as having a queue (count). */
  POOL_WAITING_MIN: 0.5,
  /** Share of the median latency spent waiting for a pool client below which the wait is not worth a finding (0–1). */
  POOL_WAIT_MIN_SHARE: 0.1,
  /** Share of the median latency spent waiting for a pool client from which pool-wait is of high severity (0–1). */
  POOL_WAIT_HIGH_SHARE: 0.25,
  /** Share of a hold with no query running from which the hold counts as spent on other work (0–1). */
  POOL_IDLE_HOLD_SHARE: 0.5,
  /** Mean libuv thread-pool queue delay in a second (beyond the event loop's own delay) that counts as saturated, in ms. */
  THREADPOOL_DELAY_MS: 10,
  /** Number of top frames attached to a finding. */
  FRAMES_PER_FINDING: 5,
} as const;

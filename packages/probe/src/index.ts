/**
 * `@redline/probe`: the in-target probe (see `@redline/probe/register` to preload it) and the wire
 * types. The runner side (starting and attaching to targets) lives in `@redline/probe/host`.
 */
export { startProbe, type StartProbeOptions, type ProbeInstance } from './agent.cjs';
export { aggregateSamples, eluWindowsFromProfile, profilesForAggregation, type AggregateOptions, type TimedCpuProfile } from './aggregate.js';
export {
  PROBE_SOCKET_ENV,
  PROBE_INTERVAL_ENV,
  type RawProbeSample,
  type RawLoopDelay,
  type ProfileResult,
  type ProbeMessage,
  type HostCommand,
} from './protocol.cjs';

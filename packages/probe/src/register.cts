/**
 * CommonJS preload entry: `node --require @redline/probe/register` (or an absolute path to
 * `dist/register.cjs`). Starts the probe when `REDLINE_PROBE_SOCKET` is set; does nothing otherwise.
 * The runner injects this one because `--require` preloads also run in worker threads on Node 20.
 */
import { startProbe } from './agent.cjs';

startProbe();

/**
 * ESM preload entry: `node --import @redline/probe/register` (or an absolute path to
 * `dist/register.js`). Starts the probe when `REDLINE_PROBE_SOCKET` is set; does nothing otherwise.
 * Note: on Node 20, `--import` preloads do not run inside worker threads; use the `--require`
 * entry (`dist/register.cjs`) to observe workers too.
 */
import { startProbe } from './agent.cjs';

startProbe();

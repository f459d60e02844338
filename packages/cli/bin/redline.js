#!/usr/bin/env node
import { main, processIo } from '../dist/index.js';

// Anything that slips past the commands is a bug: report it once, never as an unhandled rejection.
process.on('unhandledRejection', (reason) => {
  process.stderr.write(`redline: internal error: ${reason instanceof Error ? reason.stack : String(reason)}\n`);
  process.exitCode = 1;
});
const code = await main(processIo());
process.exitCode = code;
// Worker threads and sockets are closed by then; exit explicitly in case a target or timer lingers.
setTimeout(() => process.exit(code), 200).unref();

import { ErrorCodes, RedlineError, exitCodeFor, isRedlineError } from '@redline/core';
import { REDLINE_VERSION } from '@redline/load';
import { cacheCommand } from './commands/cache.js';
import { coordinateCommand } from './commands/coordinate.js';
import { k8sCommand } from './commands/k8s.js';
import { mergeCommand } from './commands/merge.js';
import { capacityCommand } from './commands/capacity.js';
import { compareCommand } from './commands/compare.js';
import { convertCommand } from './commands/convert.js';
import { overloadCommand } from './commands/overload.js';
import { tuneCommand } from './commands/tune.js';
import { demoCommand } from './commands/demo.js';
import { reportCommand } from './commands/report.js';
import { runCommand } from './commands/run.js';
import { docsPath } from './docs-path.js';
import { err, out, type CliIo } from './io.js';

export const MAIN_HELP = `redline ${REDLINE_VERSION} — how much load can this take, why does it stop there, and did we make it worse?

Usage: redline <command> [options]

Commands:
  demo        profile a demo service with a planted bottleneck and name it (no setup needed)
  run         load-test a URL or a scenario file; with --target, profile the service under that load
  report      write the HTML report of a run directory
  compare     compare runs with confidence intervals; --fail-on for CI gates
  capacity    find the maximum sustainable rate under an SLO; fit the Universal Scalability Law
  cache       simulate cache policies on a key trace
  overload    step load past the redline and back: goodput, latency, metastable failure
  tune        find the batch size × concurrency of a pipeline stage under an SLO
  convert     turn a browser recording (HAR) into a scenario file
  coordinate  merge a distributed run's instances live over Redis (see run --coordinator)
  merge       merge finished run directories of one distributed run into one, exactly
  k8s         write a Kubernetes Indexed Job + ConfigMap for a distributed run

Run "redline <command> --help" for a command's options.
Docs: ${docsPath('cli.md')}`;

const COMMANDS: Record<string, (io: CliIo, args: string[]) => Promise<number>> = {
  run: runCommand,
  demo: demoCommand,
  report: reportCommand,
  compare: compareCommand,
  capacity: capacityCommand,
  cache: cacheCommand,
  overload: overloadCommand,
  tune: tuneCommand,
  convert: convertCommand,
  coordinate: coordinateCommand,
  merge: mergeCommand,
  k8s: k8sCommand,
};

/**
 * The whole CLI as a function: returns the exit code. User mistakes print one line (stack only
 * with --verbose); unexpected errors print the stack.
 */
export async function main(io: CliIo): Promise<number> {
  const [name, ...rest] = io.argv;
  const verbose = io.argv.includes('--verbose');
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    out(io, MAIN_HELP);
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-v') {
    out(io, REDLINE_VERSION);
    return 0;
  }
  // Own properties only: `redline constructor` or `redline toString` is an unknown command, not Object.prototype.
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  try {
    if (!command) throw new RedlineError(ErrorCodes.USAGE, `unknown command "${name}": expected one of ${Object.keys(COMMANDS).join(', ')} (see redline --help)`);
    return await command(io, rest);
  } catch (e) {
    if (isRedlineError(e)) {
      // Command-scoped messages ("redline run: …") already carry the prefix.
      err(io, e.message.startsWith('redline ') ? e.message : `redline: ${e.message}`);
      if (verbose && e.stack) err(io, e.stack);
      return exitCodeFor(e);
    }
    err(io, `redline: unexpected error: ${(e as Error)?.message ?? String(e)}`);
    if (e instanceof Error && e.stack) err(io, verbose ? e.stack : '(run with --verbose for details)');
    return 1;
  }
}

import type { LiveStatus } from '@redline/load';
import type { CliIo } from './io.js';
import { renderLiveLine } from './output/summary.js';
import { runSession, type SessionOptions, type SessionOutcome } from './session.js';
import { redactCommandLine } from './command-line.js';

const PLAIN_EVERY_S = 5;

/**
 * Progress output: one status line rewritten in place on a TTY; a plain line every few seconds
 * otherwise (CI logs). Goes to stderr so `--json` stdout stays clean.
 */
export function liveReporter(io: CliIo): { onSecond(s: LiveStatus): void; clear(): void } {
  const tty = Boolean(io.stderr.isTTY);
  let shown = false;
  return {
    onSecond(s) {
      const line = renderLiveLine(s);
      if (tty) {
        io.stderr.write(`\r\u001b[2K${line}`);
        shown = true;
      } else if (s.point.t % PLAIN_EVERY_S === 0) io.stderr.write(`${line}\n`);
    },
    clear() {
      if (tty && shown) io.stderr.write('\r\u001b[2K');
      shown = false;
    },
  };
}

/** What Ctrl-C acts on; `phase: 'starting'` while the target is still starting (one press stops it). */
export interface StopControls {
  stop(): void;
  abort(): void;
  phase?: 'starting';
}

/**
 * Ctrl-C handling: the first stops gracefully (in-flight requests drain), the second stops at once.
 * Either way the partial result is written.
 */
export function interruptHandler(io: CliIo): { attach(c: StopControls): void; dispose(): void } {
  let controls: StopControls | null = null;
  let presses = 0;
  const handler = (): void => {
    presses++;
    if (presses === 1 && controls?.phase === 'starting') {
      io.stderr.write('\nstopping: the target is still starting; stopping it\n');
      controls.stop();
    } else if (presses === 1) {
      io.stderr.write('\nstopping: no new iterations, draining in-flight requests (Ctrl-C again to stop now)\n');
      controls?.stop();
    } else {
      io.stderr.write('\nstopping now\n');
      controls?.abort();
    }
  };
  const offInt = io.onSignal('SIGINT', handler);
  const offTerm = io.onSignal('SIGTERM', handler);
  return {
    attach(c) {
      controls = c;
      if (presses === 1) c.stop();
      if (presses > 1) c.abort();
    },
    dispose() {
      offInt();
      offTerm();
    },
  };
}

/**
 * Runs a session with the terminal around it: the live line, Ctrl-C handling and target events on
 * stderr. `run`, `demo` and the capacity knee share it.
 */
export async function runSessionInTerminal(
  io: CliIo,
  json: boolean,
  options: Omit<SessionOptions, 'onSecond' | 'onEvent' | 'controls' | 'cwd' | 'env'>,
): Promise<SessionOutcome> {
  const live = json ? null : liveReporter(io);
  const interrupts = interruptHandler(io);
  try {
    return await runSession({
      ...options,
      cwd: io.cwd,
      env: io.env,
      commandLine: redactCommandLine(io.argv),
      ...(live ? { onSecond: live.onSecond } : {}),
      ...(options.onResult
        ? {
            onResult: (result, runDir) => {
              live?.clear();
              options.onResult?.(result, runDir);
            },
          }
        : {}),
      onEvent: (m) => {
        live?.clear();
        io.stderr.write(`${m}\n`);
      },
      controls: (c) => interrupts.attach(c),
    });
  } finally {
    live?.clear();
    interrupts.dispose();
  }
}

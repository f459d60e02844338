/**
 * Process globals enter the CLI through this one object, so every command is a function that
 * tests call with fake streams and a fake environment.
 */
export interface CliIo {
  argv: string[];
  env: Record<string, string | undefined>;
  cwd: string;
  stdout: { write(chunk: string): unknown; isTTY?: boolean; columns?: number };
  stderr: { write(chunk: string): unknown; isTTY?: boolean };
  /** Registers a signal handler (SIGINT, SIGTERM); returns a function that removes it. */
  onSignal(signal: 'SIGINT' | 'SIGTERM', handler: () => void): () => void;
}

/** The real process as a CliIo. */
export function processIo(): CliIo {
  return {
    argv: process.argv.slice(2),
    env: process.env,
    cwd: process.cwd(),
    stdout: process.stdout,
    stderr: process.stderr,
    onSignal(signal, handler) {
      process.on(signal, handler);
      return () => process.off(signal, handler);
    },
  };
}

/** Small helpers for writing lines. */
export function out(io: CliIo, text = ''): void {
  io.stdout.write(text + '\n');
}
export function err(io: CliIo, text: string): void {
  io.stderr.write(text + '\n');
}

/** Colour only on a TTY and when NO_COLOR is not set. */
export function colours(io: CliIo): { red(s: string): string; green(s: string): string; yellow(s: string): string; dim(s: string): string; bold(s: string): string } {
  const on = Boolean(io.stdout.isTTY) && !io.env.NO_COLOR;
  const wrap = (a: number, b: number) => (s: string) => (on ? `\u001b[${a}m${s}\u001b[${b}m` : s);
  return { red: wrap(31, 39), green: wrap(32, 39), yellow: wrap(33, 39), dim: wrap(2, 22), bold: wrap(1, 22) };
}

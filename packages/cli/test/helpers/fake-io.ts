import type { CliIo } from '../../src/io.js';

/** A CliIo that records output and lets tests raise signals. */
export interface FakeIo extends CliIo {
  stdoutText(): string;
  stderrText(): string;
  raise(signal: 'SIGINT' | 'SIGTERM'): void;
}

export function fakeIo(argv: string[], cwd: string, env: Record<string, string | undefined> = {}): FakeIo {
  let stdout = '';
  let stderr = '';
  const handlers = new Map<string, Set<() => void>>();
  return {
    argv,
    env: { ...env },
    cwd,
    stdout: { write: (s: string) => (stdout += s), isTTY: false },
    stderr: { write: (s: string) => (stderr += s), isTTY: false },
    onSignal(signal, handler) {
      const set = handlers.get(signal) ?? new Set();
      set.add(handler);
      handlers.set(signal, set);
      return () => set.delete(handler);
    },
    stdoutText: () => stdout,
    stderrText: () => stderr,
    raise(signal) {
      for (const h of handlers.get(signal) ?? []) h();
    },
  };
}

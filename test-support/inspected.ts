// The --attach tests' target: a Node script started with the inspector on a free loopback port, which
// prints its app port as `port N`. One starter for the probe's and the CLI's attach tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

/** A running inspected process: its inspector and app ports on 127.0.0.1. */
export interface InspectedTarget {
  inspectPort: number;
  appPort: number;
  child: ChildProcess;
}

/** The inspected processes started so far; `killAll()` in the test file's `after()`. */
export class InspectedTargets {
  readonly #children: ChildProcess[] = [];

  /**
   * Starts `node --inspect=127.0.0.1:0 <script>` in `cwd` and resolves once both ports are printed
   * (the inspector's on stderr, the app's on stdout). Rejects after `timeoutMs` with the stderr so far.
   */
  async start(script: string, cwd: string, timeoutMs = 10_000): Promise<InspectedTarget> {
    const child = spawn(process.execPath, ['--inspect=127.0.0.1:0', script], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    this.#children.push(child);
    let stderr = '';
    let stdout = '';
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
    const t0 = Date.now();
    for (;;) {
      const inspect = /ws:\/\/127\.0\.0\.1:(\d+)\//.exec(stderr);
      const app = /port (\d+)/.exec(stdout);
      if (inspect && app) return { inspectPort: Number(inspect[1]), appPort: Number(app[1]), child };
      if (child.exitCode !== null) throw new Error(`inspected target ${script} exited (${child.exitCode}): ${stderr}`);
      if (Date.now() - t0 > timeoutMs) throw new Error(`inspected target ${script} did not start in ${timeoutMs} ms: ${stderr}`);
      await sleep(20);
    }
  }

  /** SIGKILLs every process started (those already gone are ignored). */
  killAll(): void {
    for (const c of this.#children) c.kill('SIGKILL');
  }
}

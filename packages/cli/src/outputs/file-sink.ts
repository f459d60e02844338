import { open, type FileHandle } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ErrorCodes, RedlineError } from '@redline/core';

/**
 * An append-only text file for an output: opened (truncated) before the run, so a bad path is a
 * usage error; writes are chained, so lines land in order whatever the file system does.
 */
export class FileSink {
  readonly path: string;
  #fh: FileHandle | null = null;
  #chain: Promise<void> = Promise.resolve();

  constructor(file: string, cwd: string) {
    this.path = resolve(cwd, file);
  }

  async open(flagLabel: string): Promise<void> {
    try {
      this.#fh = await open(this.path, 'w');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      throw new RedlineError(ErrorCodes.USAGE, `invalid --output ${flagLabel}: cannot create ${this.path} (${code})`, { cause: err });
    }
  }

  /** Appends text after every earlier write; the promise rejects if this write fails. */
  write(text: string): Promise<void> {
    const fh = this.#fh;
    if (!fh) return Promise.reject(new Error(`${this.path} is not open`));
    const p = this.#chain.then(async () => {
      await fh.write(text);
    });
    // A failed write must not block the next one.
    this.#chain = p.catch(() => undefined);
    return p;
  }

  async close(): Promise<void> {
    const fh = this.#fh;
    this.#fh = null;
    await this.#chain;
    await fh?.close();
  }
}

import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HelloMessage, HostCommand, ListenMessage, PoolInfoMessage, PoolLeakChannelMessage, ProbeMessage, RawProbeSample, RawServerSettings, StatsChannelMessage } from './protocol.cjs';

/** Longest line accepted from a probe (a CPU profile of a long run is one line), in bytes. */
const MAX_LINE_BYTES = 512 * 1024 * 1024;

/** One probe connection: one thread of one process of the target. */
export interface ProbeConnection {
  hello: HelloMessage | null;
  socket: Socket;
  closed: boolean;
  /** The thread's HTTP servers as it last reported them (`server-settings`), if it has any. */
  servers?: RawServerSettings[];
}

/** A host command without its id (distributes over the union). */
export type CommandBody = HostCommand extends infer C ? (C extends { id: number } ? Omit<C, 'id'> : never) : never;

/** Most stats-channel messages kept (one per watched pool or limiter per second: hours of a few pools). */
const MAX_STATS_MESSAGES = 200_000;
/** Most pool leak events kept. */
const MAX_LEAK_MESSAGES = 1000;

/** A forwarded in-target message, tagged with the process it came from. */
export type FromPid<T> = T & { pid: number };

/** Connections remembered before closed ones are forgotten. */
const MAX_CONNECTIONS = 256;

type Pending = { resolve(value: unknown): void; reject(err: Error): void; timer: NodeJS.Timeout };

/**
 * The runner's end of the probe channel: a Unix domain socket server in a private temp directory that
 * every probed thread connects to. Keeps a bounded list of samples (oldest dropped first).
 */
export class ProbeChannel {
  readonly socketPath: string;
  readonly connections: ProbeConnection[] = [];
  readonly listens: Array<ListenMessage & { pid: number; thread: string }> = [];
  private readonly dir: string;
  private readonly server: Server;
  private readonly rawSamples: RawProbeSample[] = [];
  private droppedSamples = 0;
  private readonly listeners = new Set<(sample: RawProbeSample) => void>();
  private readonly listenWaiters = new Set<(message: ListenMessage) => void>();
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Stats-channel messages (`redline:pool:stats`, `redline:flow:stats`) received, oldest first (bounded). */
  readonly stats: Array<FromPid<StatsChannelMessage>> = [];
  /** Pool leak events received (bounded). */
  readonly leaks: Array<FromPid<PoolLeakChannelMessage>> = [];
  /** What the probe learned about watched pools' servers. */
  readonly poolInfos: Array<FromPid<PoolInfoMessage>> = [];

  constructor(private readonly maxSamples: number) {
    this.dir = mkdtempSync(join(tmpdir(), 'redline-probe-'));
    this.socketPath = join(this.dir, 'probe.sock');
    this.server = createServer((socket) => this.accept(socket));
  }

  /** Starts listening on the socket path. */
  async open(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.socketPath, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    // The channel must not keep the runner alive on its own.
    this.server.unref();
  }

  /** Closes every connection and the server, and removes the socket directory. */
  close(): void {
    for (const c of this.connections) c.socket.destroy();
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new Error('probe channel closed'));
    }
    this.pending.clear();
    this.server.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Samples received so far (bounded; see `dropped`). */
  samples(): RawProbeSample[] {
    return this.rawSamples.slice();
  }

  /** Samples dropped on the runner side because the buffer was full. */
  get dropped(): number {
    return this.droppedSamples;
  }

  /** Subscribes to samples as they arrive; returns the unsubscribe function. */
  onSample(listener: (sample: RawProbeSample) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private readonly helloListeners = new Set<(connection: ProbeConnection) => void>();

  /** Calls `listener` for every connection that introduces itself from now on (a new process or worker thread). */
  onHello(listener: (connection: ProbeConnection) => void): () => void {
    this.helloListeners.add(listener);
    return () => this.helloListeners.delete(listener);
  }

  /** Calls `listener` with the first listen report (now if one already arrived). */
  onFirstListen(listener: (message: ListenMessage) => void): () => void {
    const first = this.listens[0];
    if (first) {
      listener(first);
      return () => undefined;
    }
    this.listenWaiters.add(listener);
    return () => this.listenWaiters.delete(listener);
  }

  /** Sends a command to one connection and waits for its reply. */
  request(connection: ProbeConnection, command: CommandBody, timeoutMs: number): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (connection.closed) {
        reject(new Error('probe connection is closed'));
        return;
      }
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`probe did not answer ${command.cmd} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      connection.socket.write(JSON.stringify({ ...command, id }) + '\n');
    });
  }

  private accept(socket: Socket): void {
    const connection: ProbeConnection = { hello: null, socket, closed: false };
    if (this.connections.length >= MAX_CONNECTIONS) {
      // Targets that spawn many short-lived processes or workers: forget the closed ones.
      const open = this.connections.filter((c) => !c.closed);
      this.connections.length = 0;
      this.connections.push(...open);
    }
    this.connections.push(connection);
    socket.setEncoding('utf8');
    let parts: string[] = [];
    let partsBytes = 0;
    socket.on('data', (chunk: string) => {
      let start = 0;
      let newline = chunk.indexOf('\n');
      while (newline !== -1) {
        parts.push(chunk.slice(start, newline));
        const line = parts.join('');
        parts = [];
        partsBytes = 0;
        this.handleLine(connection, line);
        start = newline + 1;
        newline = chunk.indexOf('\n', start);
      }
      if (start < chunk.length) {
        parts.push(chunk.slice(start));
        partsBytes += chunk.length - start;
        if (partsBytes > MAX_LINE_BYTES) socket.destroy();
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      connection.closed = true;
    });
  }

  private handleLine(connection: ProbeConnection, line: string): void {
    let message: ProbeMessage;
    try {
      message = JSON.parse(line) as ProbeMessage;
    } catch {
      return;
    }
    switch (message.type) {
      case 'hello':
        connection.hello = message;
        for (const l of this.helloListeners) l(connection);
        break;
      case 'listen': {
        const entry = { ...message, pid: connection.hello?.pid ?? 0, thread: connection.hello?.thread ?? 'main' };
        this.listens.push(entry);
        if (this.listens.length === 1) {
          for (const waiter of this.listenWaiters) waiter(entry);
          this.listenWaiters.clear();
        }
        break;
      }
      case 'sample':
        if (this.rawSamples.length >= this.maxSamples) {
          // Drop a tenth at once so a full buffer costs O(1) amortised per sample.
          const n = Math.max(1, Math.ceil(this.maxSamples / 10));
          this.rawSamples.splice(0, n);
          this.droppedSamples += n;
        }
        this.rawSamples.push(message.sample);
        for (const listener of this.listeners) listener(message.sample);
        break;
      case 'stats':
        if (this.stats.length >= MAX_STATS_MESSAGES) this.stats.splice(0, Math.ceil(MAX_STATS_MESSAGES / 10));
        this.stats.push({ ...message, pid: connection.hello?.pid ?? 0 });
        break;
      case 'pool-leak':
        if (this.leaks.length < MAX_LEAK_MESSAGES) this.leaks.push({ ...message, pid: connection.hello?.pid ?? 0 });
        break;
      case 'pool-info':
        if (this.poolInfos.length < MAX_LEAK_MESSAGES) this.poolInfos.push({ ...message, pid: connection.hello?.pid ?? 0 });
        break;
      case 'server-settings':
        if (Array.isArray(message.servers)) connection.servers = message.servers.slice(0, 64);
        break;
      case 'reply': {
        const p = this.pending.get(message.id);
        if (!p) return;
        this.pending.delete(message.id);
        clearTimeout(p.timer);
        if (message.ok) p.resolve(message.result);
        else p.reject(new Error(message.error ?? 'probe command failed'));
        break;
      }
    }
  }
}

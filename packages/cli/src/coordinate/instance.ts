import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { Redis } from 'ioredis';
import { ErrorCodes, RedlineError } from '@redline/core';
import { engineNow, equalSegments, type IntervalSnapshot, type LoadPlan, type LoadRun, type SegmentSpec } from '@redline/load';
import { KEY_TTL_S, WORKER_ID_STRIDE, runKeys, type DoneMessage, type InstanceInfo, type IntervalMessage } from './protocol.js';

/** Options of one instance of a coordinated run. */
export interface InstanceOptions {
  redis: Redis;
  runId: string;
  instances: number;
  /** Fixed index (Kubernetes completion index); default: the order of joining. */
  index?: number;
  /** Explicit segment; default: the index's equal share. */
  segment?: SegmentSpec;
  /** How long to wait for every instance to join. */
  meetTimeoutMs: number;
  /** Redis failing this long without a break counts as lost (default 10 s); shorter failures are retried. */
  lossAfterMs?: number;
  /** Lead time of the agreed start instant after the last instance joined. */
  startLeadMs?: number;
  onEvent?: (message: string) => void;
}

/** Config fields that legitimately differ between machines. */
const LOCAL_FIELDS = new Set(['source', 'commandLine', 'workers']);

/** The config as instances compare it. */
function comparableConfig(config: LoadPlan['config']): Record<string, unknown> {
  return Object.fromEntries(Object.entries(config).filter(([k]) => !LOCAL_FIELDS.has(k)));
}

/** The first path at which two JSON values differ, with both values, or null when equal. */
export function firstDifference(a: unknown, b: unknown, path = ''): string | null {
  if (a === b) return null;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) {
    return `${path || '(root)'}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`;
  }
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) {
    const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k);
    if (d) return d;
  }
  return null;
}

/** SHA-256 of the scenario file, or of the resolved config in quick mode. */
export async function scenarioHash(plan: LoadPlan): Promise<string> {
  const h = createHash('sha256');
  if (plan.config.source) h.update(await readFile(plan.config.source));
  else h.update(JSON.stringify(comparableConfig(plan.config)));
  return h.digest('hex');
}

/** Why two instances' scenarios differ, naming both files and the first differing field. */
function mismatch(me: InstanceInfo, other: InstanceInfo): string | null {
  if (other.instances !== me.instances) return `instance ${other.instance} (${other.host}) was started with --instances ${other.instances}, this one with --instances ${me.instances}`;
  if (other.scenarioHash === me.scenarioHash) return null;
  const field = firstDifference(comparableConfig(other.config as LoadPlan['config']), comparableConfig(me.config as LoadPlan['config']));
  return (
    `instance ${other.instance} (${other.host}) runs ${other.scenarioFile} (sha256 ${other.scenarioHash.slice(0, 12)}), this one ${me.scenarioFile} (sha256 ${me.scenarioHash.slice(0, 12)})` +
    (field ? `; first difference: ${field}` : '; the files differ (the resolved configs are the same)') +
    ': every instance must run the same scenario file'
  );
}

/**
 * One instance of a coordinated run: joins (refusing a different scenario), waits for the others,
 * agrees on the start instant, streams each second's snapshots, watches for a coordinator's abort,
 * and reports its end. Losing Redis mid-run never stops the load: the instance notes the loss,
 * finishes its share and writes its own run directory.
 */
export class RunInstance {
  readonly #o: InstanceOptions;
  readonly #keys: ReturnType<typeof runKeys>;
  #info: InstanceInfo | null = null;
  #lostAt: number | null = null;
  #lostWhy = '';
  #lastIndex = 0;
  #cpuPrev = process.cpuUsage();
  #cpuAt = engineNow();
  #watch: NodeJS.Timeout | null = null;
  #pending: Promise<unknown> = Promise.resolve();
  /** Messages not yet accepted by Redis, oldest first (bounded: a long outage counts as lost). */
  #queue: Array<{ msg: IntervalMessage | DoneMessage; index: number }> = [];
  #failingSince: number | null = null;

  constructor(o: InstanceOptions) {
    this.#o = o;
    this.#keys = runKeys(o.runId);
  }

  /** This instance's index (after `join`). */
  get index(): number {
    return this.#info?.instance ?? -1;
  }

  /** The segment this instance runs (after `join`). */
  get segment(): SegmentSpec {
    const i = this.#info!;
    return i.sequence ? { segment: i.segment, sequence: i.sequence } : { segment: i.segment };
  }

  /** The last second (1-based) published before Redis was lost, or null while connected. */
  get lostAfterSecond(): number | null {
    return this.#lostAt;
  }

  /**
   * Joins the run: takes an index, refuses a scenario that differs from an instance already joined
   * (REDLINE_ERR_INSTANCE_MISMATCH naming the difference), and registers.
   */
  async join(plan: LoadPlan, scenarioFile: string): Promise<InstanceInfo> {
    const { redis, instances } = this.#o;
    const k = this.#keys;
    const index = this.#o.index ?? (await redis.incr(k.seq)) - 1;
    await redis.expire(k.seq, KEY_TTL_S);
    if (index >= instances) throw new RedlineError(ErrorCodes.INSTANCE_MISMATCH, `run "${this.#o.runId}" already has its ${instances} instances (--instances ${instances}): this one would be instance ${index}; use a new --run-id for a new run`);
    const eq = equalSegments(instances);
    const seg = this.#o.segment ?? { segment: eq.segments[index]!, sequence: eq.sequence };
    const me: InstanceInfo = {
      instance: index,
      instances,
      scenarioHash: await scenarioHash(plan),
      scenarioFile,
      segment: seg.segment,
      sequence: seg.sequence ?? '',
      host: hostname(),
      pid: process.pid,
      thresholds: (plan.definition.thresholds ?? {}) as Record<string, unknown[]>,
      config: plan.config as unknown as Record<string, unknown>,
    };
    this.#info = me;
    const others = await this.#members();
    const dup = others.find((o) => o.instance === index);
    if (dup) throw new RedlineError(ErrorCodes.INSTANCE_MISMATCH, `instance index ${index} of run "${this.#o.runId}" already joined from ${dup.host} (pid ${dup.pid}): give each instance its own --instance-index`);
    for (const other of others) {
      const why = mismatch(me, other);
      if (why) {
        // The others are waiting for this instance: tell them why it will not come.
        await redis.hset(k.refused, String(index), why).catch(() => undefined);
        throw new RedlineError(ErrorCodes.INSTANCE_MISMATCH, `refused to join run "${this.#o.runId}": ${why}`);
      }
    }
    await redis.hset(k.meet, String(index), JSON.stringify(me));
    await redis.expire(k.meet, KEY_TTL_S);
    this.#o.onEvent?.(`joined run ${this.#o.runId} as instance ${index} of ${instances} (segment ${me.segment})`);
    return me;
  }

  async #members(): Promise<InstanceInfo[]> {
    const all = await this.#o.redis.hgetall(this.#keys.meet);
    return Object.values(all).map((v) => JSON.parse(v) as InstanceInfo);
  }

  /**
   * Waits until every instance has joined, then returns the agreed start instant (engine-clock
   * epoch ms): the first instance to see the meeting complete proposes `now + lead`, and every
   * instance reads the same value back. Refusals and timeouts end the run before any request.
   */
  async awaitStart(): Promise<number> {
    const { redis, instances, meetTimeoutMs } = this.#o;
    const k = this.#keys;
    const me = this.#info!;
    const deadline = Date.now() + meetTimeoutMs;
    for (;;) {
      const refused = await redis.hgetall(k.refused);
      const first = Object.entries(refused)[0];
      if (first) throw new RedlineError(ErrorCodes.INSTANCE_MISMATCH, `run "${this.#o.runId}" cannot start: instance ${first[0]} was refused: ${first[1]}`);
      const members = await this.#members();
      if (members.length >= instances) {
        for (const other of members) {
          const why = mismatch(me, other);
          if (why) throw new RedlineError(ErrorCodes.INSTANCE_MISMATCH, `run "${this.#o.runId}" cannot start: ${why}`);
        }
        break;
      }
      if (Date.now() > deadline) {
        const joined = members.map((m) => m.instance).sort((a, b) => a - b);
        throw new RedlineError(ErrorCodes.TIMEOUT, `run "${this.#o.runId}": only ${members.length} of ${instances} instances joined within ${Math.round(meetTimeoutMs / 1000)} s (joined: ${joined.join(', ') || 'none'})`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    await redis.set(k.start, String(Math.round(engineNow() + (this.#o.startLeadMs ?? 3000))), 'EX', KEY_TTL_S, 'NX');
    const at = Number(await redis.get(k.start));
    this.#o.onEvent?.(`all ${instances} instances joined; starting at ${new Date(at).toISOString()}`);
    return at;
  }

  /** Publishes one second's snapshots; after a Redis failure it only counts what was not sent. */
  publish(index: number, snapshots: readonly IntervalSnapshot[]): void {
    const me = this.#info!;
    const now = engineNow();
    const cpu = process.cpuUsage(this.#cpuPrev);
    const cpuCores = (cpu.user + cpu.system) / 1000 / Math.max(1, now - this.#cpuAt);
    this.#cpuPrev = process.cpuUsage();
    this.#cpuAt = now;
    if (this.#lostAt !== null) return;
    const msg: IntervalMessage = {
      type: 'interval',
      instance: me.instance,
      index,
      cpuCores,
      snapshots: snapshots.map((s) => ({ ...s, worker: me.instance * WORKER_ID_STRIDE + s.worker })),
    };
    this.#send(msg, index);
  }

  #send(msg: IntervalMessage | DoneMessage, index: number): void {
    this.#queue.push({ msg, index });
    this.#pending = this.#pending.then(() => this.#drain());
  }

  /** Sends queued messages in order; on a failure keeps them for the next try, until Redis counts as lost. */
  async #drain(): Promise<void> {
    const k = this.#keys;
    while (this.#queue.length && this.#lostAt === null) {
      const { msg, index } = this.#queue[0]!;
      try {
        await this.#o.redis.xadd(k.stream, 'MAXLEN', '~', '1000000', '*', 'm', JSON.stringify(msg));
      } catch (err) {
        this.#failingSince ??= Date.now();
        if (Date.now() - this.#failingSince >= (this.#o.lossAfterMs ?? 10_000) || this.#queue.length > 120) this.#lose(err);
        return;
      }
      this.#failingSince = null;
      this.#queue.shift();
      if (msg.type === 'interval') this.#lastIndex = Math.max(this.#lastIndex, index);
    }
  }

  #lose(err: unknown): void {
    if (this.#lostAt !== null) return;
    this.#queue = [];
    this.#lostAt = this.#lastIndex;
    this.#lostWhy = (err as Error)?.message ?? String(err);
    this.#o.onEvent?.(`lost the coordinator's Redis after second ${this.#lastIndex} (${this.#lostWhy}); finishing this instance's share and writing its own result`);
  }

  /** Stops the run (as `aborted`) when the coordinator says so; checked every 500 ms. */
  watchAbort(run: Pick<LoadRun, 'stop'>): void {
    this.#watch = setInterval(() => {
      if (this.#lostAt !== null) return;
      this.#o.redis
        .get(this.#keys.control)
        .then((v) => {
          if (v === 'abort') {
            this.#o.onEvent?.('the coordinator aborted the run (a threshold with abortOnFail failed across the instances)');
            run.stop('thresholds');
          }
        })
        .catch(() => undefined);
    }, 500);
    this.#watch.unref();
  }

  /** Reports the end of this instance's run and waits for everything queued to be sent. */
  async finish(end: { status: string; durationMs: number; runDir: string | null }): Promise<string | null> {
    if (this.#watch) clearInterval(this.#watch);
    const me = this.#info!;
    await this.#pending;
    if (this.#lostAt === null) {
      const last = Math.max(this.#lastIndex, ...this.#queue.map((q) => q.index));
      this.#send({ type: 'done', instance: me.instance, status: end.status, lastIndex: last, durationMs: end.durationMs, runDir: end.runDir ? resolve(end.runDir) : null }, 0);
      await this.#pending;
      // Whatever Redis refused so far gets retried until it is accepted or Redis counts as lost.
      while (this.#queue.length && this.#lostAt === null) {
        await new Promise((r) => setTimeout(r, 250));
        await this.#drain();
      }
    }
    return this.#lostAt === null ? null : `the coordinator's Redis was lost after second ${this.#lostAt} (${this.#lostWhy}): later seconds of this instance are only in its own result`;
  }
}

import type { DistributedSource, ResolvedRunConfig, RunResult, RunStatus, ThresholdResult } from '@redline/core';
import { RunAggregate, buildResult, evaluateThresholds, parseThresholds, type IntervalSnapshot, type Threshold, type ThresholdInput } from '@redline/load';
import type { DoneMessage, InstanceInfo, IntervalMessage, StreamMessage } from './protocol.js';

/** What the merge knows of one instance. */
interface InstanceState {
  info: InstanceInfo;
  lastIndex: number;
  requests: number;
  done: DoneMessage | null;
  lost: boolean;
  lastSeenMs: number;
}

/** One second being collected. */
interface PendingSecond {
  snaps: IntervalSnapshot[];
  from: Set<number>;
  cpuCores: number;
  firstAtMs: number;
}

/**
 * The coordinator's merge of a distributed run: every instance's per-second snapshots go into one
 * RunAggregate, the same one a single machine's runner builds from its worker threads, so totals,
 * histograms and thresholds are exactly what one instance running all the load would have seen.
 * A second is merged once every live instance has sent it, or `lagMs` after its first snapshot
 * arrived; a snapshot that comes after its second was merged goes into the next second, so totals
 * stay exact and memory stays bounded by the seconds in flight.
 */
export class DistributedMerge {
  readonly agg = new RunAggregate();
  readonly #instances = new Map<number, InstanceState>();
  readonly #pending = new Map<number, PendingSecond>();
  readonly #thresholds: Threshold[];
  readonly #lagMs: number;
  #next = 1;
  #lateSnapshots = 0;

  /** `firstExpectedMs`: when the first second's snapshots are due (start instant + 1 s); silence counts from then. */
  constructor(members: readonly InstanceInfo[], lagMs: number, firstExpectedMs = Date.now()) {
    for (const info of members) this.#instances.set(info.instance, { info, lastIndex: 0, requests: 0, done: null, lost: false, lastSeenMs: firstExpectedMs });
    this.#thresholds = parseThresholds(members[0]?.thresholds as Record<string, ThresholdInput[]> | undefined);
    this.#lagMs = lagMs;
  }

  /** Seconds merged so far. */
  get mergedSeconds(): number {
    return this.#next - 1;
  }

  /** Snapshots that arrived after their second had been merged (folded into a later second). */
  get lateSnapshots(): number {
    return this.#lateSnapshots;
  }

  /** Takes one stream message. */
  add(msg: StreamMessage, nowMs = Date.now()): void {
    const st = this.#instances.get(msg.instance);
    if (!st) return;
    st.lastSeenMs = nowMs;
    if (msg.type === 'done') {
      st.done = msg;
      return;
    }
    this.#addInterval(st, msg, nowMs);
  }

  #addInterval(st: InstanceState, msg: IntervalMessage, nowMs: number): void {
    st.lastIndex = Math.max(st.lastIndex, msg.index);
    for (const s of msg.snapshots) st.requests += s.slices.all?.requests ?? 0;
    let index = msg.index;
    if (index < this.#next) {
      index = this.#next;
      this.#lateSnapshots += msg.snapshots.length;
    }
    let p = this.#pending.get(index);
    if (!p) this.#pending.set(index, (p = { snaps: [], from: new Set(), cpuCores: 0, firstAtMs: nowMs }));
    p.snaps.push(...msg.snapshots);
    p.from.add(msg.instance);
    p.cpuCores += msg.cpuCores;
  }

  /** True when instance `st` will send nothing for second `index`. */
  #quietAt(st: InstanceState, index: number): boolean {
    return st.lost || (st.done !== null && st.done.lastIndex < index);
  }

  /**
   * Merges every second that is complete (or waited `lagMs`), in order. `force` merges whatever
   * is left (the end of the run). Returns how many seconds were merged.
   */
  flush(nowMs = Date.now(), force = false): number {
    let merged = 0;
    for (;;) {
      const p = this.#pending.get(this.#next);
      const later = [...this.#pending.keys()].some((k) => k > this.#next);
      if (!p && !later) break;
      const complete = [...this.#instances.values()].every((st) => (p?.from.has(st.info.instance) ?? false) || this.#quietAt(st, this.#next));
      const waitedFrom = p?.firstAtMs ?? Math.min(...[...this.#pending.values()].map((x) => x.firstAtMs));
      if (!complete && !force && nowMs - waitedFrom < this.#lagMs) break;
      if (p) this.agg.addSecond(this.#next, p.snaps, p.cpuCores, this.#next * 1000);
      this.#pending.delete(this.#next);
      this.#next++;
      merged++;
    }
    return merged;
  }

  /** Instances that have sent nothing for `lagMs` and have not finished: marked lost (returned once). */
  markSilent(nowMs = Date.now()): InstanceState[] {
    const out: InstanceState[] = [];
    for (const st of this.#instances.values()) {
      if (st.done || st.lost || nowMs - st.lastSeenMs < this.#lagMs) continue;
      st.lost = true;
      out.push(st);
    }
    return out;
  }

  /** Instances behind the furthest one by at least `seconds` (still reporting). */
  lagging(seconds: number): InstanceState[] {
    const front = Math.max(0, ...[...this.#instances.values()].map((s) => s.lastIndex));
    return [...this.#instances.values()].filter((s) => !s.done && !s.lost && front - s.lastIndex >= seconds);
  }

  /** True when every instance has finished or been given up on. */
  get finished(): boolean {
    return [...this.#instances.values()].every((s) => s.done !== null || s.lost);
  }

  /** Marks every unfinished instance lost (the coordinator lost Redis). */
  loseAll(): void {
    for (const st of this.#instances.values()) if (!st.done) st.lost = true;
  }

  /** True when an armed abortOnFail threshold fails over everything merged so far. */
  shouldAbort(elapsedMs: number): boolean {
    const armed = this.#thresholds.filter((t) => t.abortOnFail && elapsedMs >= t.delayAbortEvalMs);
    return armed.length > 0 && evaluateThresholds(armed, this.agg).some((r) => !r.ok);
  }

  /** Every threshold over the whole merged run. */
  thresholdResults(): ThresholdResult[] {
    return evaluateThresholds(this.#thresholds, this.agg);
  }

  /** Per-instance provenance and the lines that say what is missing. */
  sources(lostRedisAfter: number | null): { sources: DistributedSource[]; missing: string[] } {
    const sources: DistributedSource[] = [];
    const missing: string[] = [];
    const end = Math.max(this.mergedSeconds, ...[...this.#instances.values()].map((s) => s.done?.lastIndex ?? 0));
    for (const st of [...this.#instances.values()].sort((a, b) => a.info.instance - b.info.instance)) {
      const state: DistributedSource['state'] = st.done ? 'complete' : st.lastIndex === 0 ? 'missing' : 'lost';
      sources.push({ instance: st.info.instance, segment: st.info.segment, host: st.info.host, state, lastSecond: st.lastIndex, requests: st.requests, runDir: st.done?.runDir ?? null });
      if (state === 'complete') continue;
      const who = `instance ${st.info.instance} (segment ${st.info.segment}, ${st.info.host} pid ${st.info.pid})`;
      const why = lostRedisAfter !== null ? 'the coordinator lost Redis' : 'it stopped reporting (died or lagged too far)';
      missing.push(
        state === 'missing'
          ? `${who}: nothing arrived (${why}); its whole share (${st.info.segment} of the load) is missing`
          : `${who}: ${why} after second ${st.lastIndex}${end > st.lastIndex ? ` of ${end}` : ''}; its share (${st.info.segment} of the load) of the later seconds is missing${st.done === null ? '' : ''}`,
      );
    }
    return { sources, missing };
  }

  /** The merged result, built as a single machine's runner builds its own. */
  result(o: { config: ResolvedRunConfig; status: RunStatus; startedAt: Date; runId: string; lostRedisAfter: number | null; warnings?: string[] }): RunResult {
    this.flush(Date.now(), true);
    const durations = [...this.#instances.values()].map((s) => s.done?.durationMs ?? s.lastIndex * 1000);
    const durationMs = Math.max(0, ...durations);
    const interrupted = [...this.#instances.values()].some((s) => s.done?.status === 'interrupted');
    const aborted = [...this.#instances.values()].some((s) => s.done?.status === 'aborted');
    const status: RunStatus = o.status !== 'completed' ? o.status : aborted ? 'aborted' : interrupted ? 'interrupted' : 'completed';
    const { sources, missing } = this.sources(o.lostRedisAfter);
    const warnings = [...(o.warnings ?? []), ...missing.map((m) => `distributed run incomplete: ${m}`)];
    if (this.#lateSnapshots) warnings.push(`${this.#lateSnapshots} snapshots arrived after their second was merged and were counted in a later second`);
    const result = buildResult({ config: o.config }, { agg: this.agg, status, startedAt: o.startedAt, durationMs, thresholds: this.thresholdResults(), workers: o.config.workers, warnings });
    result.distributed = { mode: 'coordinated', runId: o.runId, instances: this.#instances.size, sources, missing };
    return result;
  }
}

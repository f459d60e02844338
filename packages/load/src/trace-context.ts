/**
 * W3C trace context for every request the generator sends, and the tail-based choice of which
 * traces to keep, made in the engine when a request completes, by the generator's own
 * (coordinated-omission-corrected) latency.
 *
 * Trace ids are `<run tag, 8 hex><worker, 4 hex><sequence, 20 hex>`: unique without coordination,
 * and a receiver recognises this run's traces by the tag. The fast path splices the header into a
 * per-VU copy of the serialised request once and then rewrites only the sequence digits in place.
 */
import { LatencyHistogram } from '@redline/core';
import type { Exchange } from './transports/transport.js';
import { createTraceSampler, type TraceSampler } from './trace-sampler.js';

/** Tracing settings, structured-clonable (they travel to worker threads). */
export interface TraceSettings {
  /** 8 lower-case hex digits that start every trace id of this run. */
  runTag: string;
  /** Share of requests sent with the sampled flag (0–1); the rest carry `-00` and are not recorded by the target. Ignored when {@link samplePerSecond} is set. */
  sampleRatio: number;
  /** A budget instead of a ratio: about this many sampled requests per second for the whole run, in one burst per second (trace-sampler.ts). */
  samplePerSecond?: number;
  /** At most this many tail traces kept per request name, per worker and second. */
  tailPerSecond: number;
  /** About this many baseline traces (between p25 and p75) kept per request name, per worker and second. */
  baselinePerSecond: number;
}

/** A kept request, as the runner hands it to the trace receiver. Times are epoch ms (engine clock). */
export interface TraceRecord {
  traceId: string;
  name: string;
  latencyMs: number;
  sentAtMs: number;
  endAtMs: number;
  delayMs: number;
  status: number;
  /** Why it was kept. */
  reason: 'tail' | 'baseline';
}

const HEX = Buffer.from('0123456789abcdef', 'latin1');
const SEQ_DIGITS = 20;
/** Records before the thresholds mean anything; until then only baseline samples are kept. */
const WARMUP = 100;
const REFRESH_EVERY = 128;
/** Sampled records before the baseline's band means anything; until then any sampled one may be kept. */
const SAMPLED_WARMUP = 20;
/**
 * The baseline band is refreshed this often (sampled records). Under a budget only ~50 requests a
 * second are sampled: refreshing every 128 left the band of the first 20 (cold, slower) requests in
 * place for seconds, and a fast steady service kept almost no baseline (17 of ~80 wanted in 8 s).
 */
const BAND_REFRESH_EVERY = 8;

/** `traceparent: 00-<32 hex>-<16 hex>-01` followed by CRLF. */
const HEADER_PREFIX = 'traceparent: 00-';

/** A request payload with a traceparent header whose digits can be rewritten in place. */
export interface StampablePayload {
  buf: Buffer;
  /** Offset of the 32 trace-id digits. */
  traceAt: number;
  /** Offset of the 16 parent-id digits. */
  parentAt: number;
  /** Offset of the 2 flag digits. */
  flagsAt: number;
}

class NameState {
  readonly hist = new LatencyHistogram();
  count = 0;
  p99 = Infinity;
  /**
   * The baseline's band, p25–p75 of the *sampled* requests: a traced request costs the target more
   * than an untraced one (and a sampling budget sends them in bursts), so with a budget the sampled
   * requests can all sit above the run's p75 and a band over every request would keep none.
   */
  readonly sampledHist = new LatencyHistogram();
  sampledCount = 0;
  p25 = 0;
  p75 = Infinity;
  tailThisSecond = 0;
  baseThisSecond = 0;
  /** Sampled requests completed in the last and in this second. */
  lastSecondCount = 0;
  thisSecondCount = 0;
}

/** One engine's trace stamping and keeping. */
export class TraceStamper {
  readonly #settings: TraceSettings;
  readonly #prefix: string;
  #seq = 0;
  readonly #names = new Map<string, NameState>();
  #kept: TraceRecord[] = [];
  readonly #sampler: TraceSampler;

  /** `workerCount` engines share the run's sampling budget. */
  constructor(settings: TraceSettings, workerIndex: number, workerCount = 1) {
    if (!/^[0-9a-f]{8}$/.test(settings.runTag)) throw new TypeError(`trace runTag must be 8 lower-case hex digits, got "${settings.runTag}"`);
    this.#settings = settings;
    this.#prefix = settings.runTag + (workerIndex & 0xffff).toString(16).padStart(4, '0');
    this.#sampler = createTraceSampler(settings.samplePerSecond !== undefined ? { perSecond: settings.samplePerSecond } : { ratio: settings.sampleRatio }, settings.runTag, workerCount);
  }

  /** Copies a serialised request and adds a traceparent header (zeros until {@link stamp}). */
  stampable(payload: Buffer): StampablePayload {
    const end = payload.indexOf('\r\n\r\n', 0, 'latin1');
    if (end < 0) throw new TypeError('request payload has no header end');
    const at = end + 2;
    const header = Buffer.from(`${HEADER_PREFIX}${this.#prefix}${'0'.repeat(SEQ_DIGITS)}-${'0'.repeat(16)}-01\r\n`, 'latin1');
    const buf = Buffer.concat([payload.subarray(0, at), header, payload.subarray(at)]);
    const traceAt = at + HEADER_PREFIX.length;
    return { buf, traceAt, parentAt: traceAt + 33, flagsAt: traceAt + 33 + 17 };
  }

  /** Writes a fresh trace id into the payload in place; returns its sequence number. */
  stamp(p: StampablePayload): number {
    const seq = ++this.#seq;
    const buf = p.buf;
    let v = seq;
    // Only the low digits change; the run tag and worker digits were written by stampable().
    for (let i = 0; i < 14; i++) {
      const d = HEX[v % 16]!;
      buf[p.traceAt + 31 - i] = d;
      buf[p.parentAt + 15 - i] = d;
      v = Math.floor(v / 16);
    }
    buf[p.parentAt] = 0x31; // never an all-zero parent id
    const sampled = this.#sampler.sampled(Date.now());
    buf[p.flagsAt + 1] = sampled ? 0x31 : 0x30;
    return sampled ? seq : -seq;
  }

  /** A fresh `traceparent` value for scripted requests, with its sequence number (negative when unsampled). */
  header(): { value: string; seq: number } {
    const seq = ++this.#seq;
    const sampled = this.#sampler.sampled(Date.now());
    const digits = seq.toString(16).padStart(14, '0');
    return { value: `00-${this.traceId(seq)}-1${digits.padStart(15, '0')}-${sampled ? '01' : '00'}`, seq: sampled ? seq : -seq };
  }

  /** The trace id of a sequence number. */
  traceId(seq: number): string {
    return this.#prefix + Math.abs(seq).toString(16).padStart(SEQ_DIGITS, '0');
  }

  /**
   * Decides, as a request completes, whether its trace is kept: at or above this worker's running
   * p99 for the name (the tail; capped per second), or between p25 and p75 of the sampled requests
   * with a probability that keeps about `baselinePerSecond` (the baseline). The p99 is over every
   * request, sampled or not, so with a sampling budget the tail is still the run's tail. Unsampled requests (negative
   * `seq`) and network failures are not kept.
   */
  complete(name: string, seq: number, ex: Exchange, startedAt: number, delayMs: number): void {
    if (ex.error !== null && ex.error !== 'timeout') return;
    let st = this.#names.get(name);
    if (!st) this.#names.set(name, (st = new NameState()));
    const latencyMs = ex.endedAt - startedAt + delayMs;
    st.hist.recordUs(latencyMs * 1000);
    st.count++;
    if (st.count % REFRESH_EVERY === 0 || st.count === WARMUP) st.p99 = st.hist.percentileMs(99);
    if (seq <= 0) return;
    st.thisSecondCount++;
    st.sampledHist.recordUs(latencyMs * 1000);
    st.sampledCount++;
    if (st.sampledCount % BAND_REFRESH_EVERY === 0 || st.sampledCount === SAMPLED_WARMUP) {
      st.p25 = st.sampledHist.percentileMs(25);
      st.p75 = st.sampledHist.percentileMs(75);
    }
    let reason: TraceRecord['reason'] | null = null;
    const s = this.#settings;
    if (st.count > WARMUP && latencyMs >= st.p99 && st.tailThisSecond < s.tailPerSecond) {
      reason = 'tail';
      st.tailThisSecond++;
    } else if (st.baseThisSecond < s.baselinePerSecond && (st.sampledCount <= SAMPLED_WARMUP || (latencyMs >= st.p25 && latencyMs <= st.p75))) {
      // Sampled requests last second; about half of them fall between p25 and p75.
      const expected = Math.max(1, st.lastSecondCount * (st.sampledCount <= SAMPLED_WARMUP ? 1 : 0.5));
      if (Math.random() < s.baselinePerSecond / expected) {
        reason = 'baseline';
        st.baseThisSecond++;
      }
    }
    if (reason === null) return;
    this.#kept.push({ traceId: this.traceId(seq), name, latencyMs, sentAtMs: startedAt, endAtMs: ex.endedAt, delayMs, status: ex.status, reason });
  }

  /** The records kept since the last call; resets the per-second caps. */
  drain(): TraceRecord[] {
    const out = this.#kept;
    this.#kept = [];
    for (const st of this.#names.values()) {
      st.lastSecondCount = st.thisSecondCount;
      st.thisSecondCount = 0;
      st.tailThisSecond = 0;
      st.baseThisSecond = 0;
    }
    return out;
  }
}

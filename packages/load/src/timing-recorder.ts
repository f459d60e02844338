import { LatencyHistogram } from '@redline/core';
import type { Exchange } from './transports/transport.js';

/** The phases of a request, as k6 users know them; thresholds name them `http.timing.<phase>`. */
export const TIMING_PHASES = ['dns', 'connect', 'tls', 'waiting', 'receiving'] as const;
export type TimingPhase = (typeof TIMING_PHASES)[number];

/**
 * Per-interval histograms of the request phases: DNS, TCP connect and TLS handshake (0 when the
 * exchange reused a connection, as in k6), waiting (time to first byte after sending) and
 * receiving (first to last byte). Only exchanges that got a response byte are recorded.
 */
export class TimingRecorder {
  readonly #dns = new LatencyHistogram();
  readonly #connect = new LatencyHistogram();
  readonly #tls = new LatencyHistogram();
  readonly #waiting = new LatencyHistogram();
  readonly #receiving = new LatencyHistogram();
  #count = 0;
  /**
   * Exchanges on a reused connection (no setup phases): their 0 ms DNS, connect and TLS are
   * recorded in bulk at the snapshot, one histogram write each instead of three per exchange.
   */
  #reused = 0;
  /**
   * Exchanges whose last byte came with the first (a WebSocket reply, a response in one read): their
   * 0 ms receiving is recorded in bulk at the snapshot too, so such an exchange costs one histogram
   * write (waiting) instead of two.
   */
  #instant = 0;

  record(ex: Exchange): void {
    if (ex.firstByteAt === 0) return;
    const p = ex.phases;
    if (p) {
      this.#dns.recordUs(p.dnsMs * 1000);
      this.#connect.recordUs(p.tcpMs * 1000);
      this.#tls.recordUs(p.tlsMs * 1000);
    } else this.#reused++;
    this.#waiting.recordUs((ex.firstByteAt - ex.sentAt) * 1000);
    const receivingMs = ex.endedAt - ex.firstByteAt;
    if (receivingMs === 0) this.#instant++;
    else this.#receiving.recordUs(receivingMs * 1000);
    this.#count++;
  }

  /** Encoded histograms of the interval by phase (null when nothing was recorded); resets. */
  snapshot(): Record<TimingPhase, string> | null {
    if (this.#count === 0) return null;
    if (this.#reused > 0) {
      // recordUs(0) counts as 1 µs, the histogram's lowest value: the same as recording each.
      for (const h of [this.#dns, this.#connect, this.#tls]) h.recordUs(0, this.#reused);
      this.#reused = 0;
    }
    if (this.#instant > 0) {
      this.#receiving.recordUs(0, this.#instant);
      this.#instant = 0;
    }
    const out = { dns: this.#dns.encode(), connect: this.#connect.encode(), tls: this.#tls.encode(), waiting: this.#waiting.encode(), receiving: this.#receiving.encode() };
    for (const h of [this.#dns, this.#connect, this.#tls, this.#waiting, this.#receiving]) h.reset();
    this.#count = 0;
    return out;
  }
}

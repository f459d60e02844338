import type { IntervalSnapshot } from './recorder.js';
import type { WsCounters } from './script-ws.js';
import { grpcStatusName } from './transports/grpc-status.js';

/** Run totals of gRPC statuses and WebSocket events (what `summary.grpc` and `summary.ws` report). */
export interface ProtocolTotals {
  /** gRPC calls that got a status, by status name (`OK`, `NOT_FOUND`, ...). */
  grpc: Record<string, number>;
  ws: WsCounters;
}

function emptyWs(): WsCounters {
  return { connections: 0, failedHandshakes: 0, messagesSent: 0, messagesReceived: 0, unanswered: 0, closeCodes: {} };
}

function wsTouched(ws: WsCounters): boolean {
  return ws.connections + ws.failedHandshakes + ws.messagesSent + ws.messagesReceived + ws.unanswered > 0 || Object.keys(ws.closeCodes).length > 0;
}

/** One worker's gRPC and WebSocket counters of the current interval, drained into each snapshot. */
export class ProtocolCounters {
  /** Mutated in place by the VUs' WebSocket clients; reset (not replaced) after each snapshot. */
  readonly ws: WsCounters = emptyWs();
  #grpc: Record<string, number> = {};
  #grpcTouched = false;
  /** Fast-path calls by status code (named once per interval, not per call). */
  readonly #codes: number[] = [];

  /** Counts a scripted call's status by name. */
  countGrpc(status: string, n = 1): void {
    this.#grpc[status] = (this.#grpc[status] ?? 0) + n;
    this.#grpcTouched = true;
  }

  /** Counts a fast-path call's status code (ignored when negative: no status arrived). */
  countGrpcCode(code: number): void {
    if (!(code >= 0 && code < 256)) return;
    this.#codes[code] = (this.#codes[code] ?? 0) + 1;
    this.#grpcTouched = true;
  }

  /** Adds this interval's counters to `snapshot` (only what was touched) and starts a new interval. */
  drainInto(snapshot: IntervalSnapshot): void {
    if (this.#grpcTouched) {
      this.#codes.forEach((n, code) => {
        if (n) this.countGrpc(grpcStatusName(code), n);
      });
      this.#codes.length = 0;
      snapshot.grpc = this.#grpc;
      this.#grpc = {};
      this.#grpcTouched = false;
    }
    const ws = this.ws;
    if (wsTouched(ws)) {
      snapshot.ws = { ...ws, closeCodes: ws.closeCodes };
      ws.connections = 0;
      ws.failedHandshakes = 0;
      ws.messagesSent = 0;
      ws.messagesReceived = 0;
      ws.unanswered = 0;
      ws.closeCodes = {};
    }
  }
}

/** Sums snapshots' gRPC and WebSocket counters on the runner. */
export class ProtocolTotalsBuilder {
  readonly #grpc: Record<string, number> = {};
  readonly #ws = emptyWs();
  #sawGrpc = false;
  #sawWs = false;

  add(snap: Pick<IntervalSnapshot, 'grpc' | 'ws'>): void {
    if (snap.grpc) {
      this.#sawGrpc = true;
      for (const [k, v] of Object.entries(snap.grpc)) this.#grpc[k] = (this.#grpc[k] ?? 0) + v;
    }
    if (snap.ws) {
      this.#sawWs = true;
      const w = this.#ws;
      w.connections += snap.ws.connections;
      w.failedHandshakes += snap.ws.failedHandshakes;
      w.messagesSent += snap.ws.messagesSent;
      w.messagesReceived += snap.ws.messagesReceived;
      w.unanswered += snap.ws.unanswered;
      for (const [k, v] of Object.entries(snap.ws.closeCodes)) w.closeCodes[k] = (w.closeCodes[k] ?? 0) + v;
    }
  }

  /** `summary.grpc`: calls with a status and the count of each status; undefined when no call got one. */
  grpcSummary(): { calls: number; byStatus: Record<string, number> } | undefined {
    if (!this.#sawGrpc) return undefined;
    return { calls: Object.values(this.#grpc).reduce((a, b) => a + b, 0), byStatus: { ...this.#grpc } };
  }

  /** `summary.ws`; undefined in runs that opened no WebSocket. */
  wsSummary(): WsCounters | undefined {
    return this.#sawWs ? { ...this.#ws, closeCodes: { ...this.#ws.closeCodes } } : undefined;
  }
}

/**
 * Receiver memory under a long run: the runner's OTLP receiver fed like a traced run at `--rate`
 * requests/s (default 2,000; 4 spans each, batches every 200 ms over loopback HTTP, as the target's
 * batch processor sends them: protobuf by default like the preload's exporter, `--json` for
 * OTLP/JSON) with the generator's verdicts (about 25 kept per second: tail and baseline), for
 * `--seconds` (default 120). RSS and heap are sampled every 10 s after a 20 s warm-up (`--sample-every`
 * to change); the slope extrapolates to one hour. The process's own CPU share is printed, so a long
 * run can be checked to be light: the protobuf batches are encoded once as a template whose trace-id
 * bytes are rewritten in place for every batch (span times stay the template's; the receiver keys
 * and expires by trace id and arrival), so the process's CPU is mostly the receiver's. Target (issue): RSS growth ≤ 100 MB over 1 h at 2,000 req/s.
 * Usage: node --expose-gc --import tsx bench/trace-receiver-memory.bench.ts [--seconds S] [--rate R] [--json]
 */
import { startReceiver, spansToOtlpJson, type KeptRecord, type Span } from '@redline/trace';
import { Agent, request } from 'node:http';
import { encodeOtlpProto } from './trace-otlp-encode.ts';

const args = process.argv.slice(2);
const num = (name: string, fallback: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const seconds = num('--seconds', 120);
const RATE = num('--rate', 2000);
const sampleEvery = num('--sample-every', 10);
const json = args.includes('--json');
const TAG = 'abcd0123';
const receiver = await startReceiver({ runTag: TAG });
let seq = 0;
const gc = (globalThis as { gc?: () => void }).gc;

function requestSpans(now: number): { spans: Span[]; record: KeptRecord } {
  const traceId = `${TAG}${(++seq).toString(16).padStart(24, '0')}`;
  const lat = 5 + Math.random() * 10 + (seq % 100 === 0 ? 80 : 0);
  const mk = (n: number, name: string, s: number, e: number, parent: string | null, kind: number, attributes: Span['attributes']): Span => ({
    traceId, spanId: `${n}${seq.toString(16).padStart(15, '0')}`, parentSpanId: parent, name, kind, startMs: now + s, endMs: now + e, attributes, service: 'svc', scope: 'bench', statusCode: 0,
  });
  const root = mk(1, 'GET', 0.2, lat - 0.2, '1000000000000001', 2, { 'http.request.method': 'GET', 'http.route': '/orders/:id' });
  const spans = [root, mk(2, 'pg-pool.connect', 0.3, 0.5, root.spanId, 1, {}), mk(3, 'pg.query:SELECT', 0.5, lat - 1, root.spanId, 3, { 'db.system': 'postgresql', 'db.statement': 'SELECT id, total FROM orders WHERE id = $1' }), mk(4, 'middleware', 0.25, 0.3, root.spanId, 1, {})];
  return { spans, record: { traceId, name: 'GET /orders/:id', latencyMs: lat, sentAtMs: now, endAtMs: now + lat, delayMs: 0, status: 200, reason: lat > 50 ? 'tail' : 'baseline' } };
}

/** One batch's protobuf body with the byte offsets of each request's trace-id sequence digits (4 spans each). */
function template(n: number): { body: Buffer; offsets: number[][] } {
  const spans: Span[] = [];
  const ids: string[] = [];
  for (let k = 0; k < n; k++) {
    const r = requestSpans(Date.now());
    spans.push(...r.spans);
    ids.push(r.record.traceId);
  }
  const body = encodeOtlpProto(spans);
  const offsets = ids.map((id) => {
    const b = Buffer.from(id, 'hex');
    const at: number[] = [];
    for (let i = body.indexOf(b); i !== -1; i = body.indexOf(b, i + 1)) at.push(i + 4);
    if (at.length !== 4) throw new Error(`template: trace ${id} found ${at.length} times`);
    return at;
  });
  return { body, offsets };
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 });
/** POSTs a batch; once more on a reset (a keep-alive socket the receiver closed while idle, as a real exporter retries). */
async function post(body: Buffer): Promise<void> {
  try {
    await postOnce(body);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET') throw err;
    await postOnce(body);
  }
}

function postOnce(body: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(receiver.url, { method: 'POST', agent, headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`receiver answered ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const tpl = json ? null : template(RATE / 5);
const samples: Array<{ t: number; rss: number; heap: number }> = [];
const t0 = Date.now();
const cpu0 = process.cpuUsage();
let nextBatch = t0;
while (Date.now() - t0 < seconds * 1000) {
  nextBatch += 200;
  const n = RATE / 5;
  const kept: KeptRecord[] = [];
  if (tpl !== null) {
    const now = Date.now();
    for (const at of tpl.offsets) {
      const id = ++seq;
      // The low 12 bytes of the trace id are the sequence number (high 6 stay zero: seq < 2^48).
      for (const o of at) tpl.body.writeUIntBE(id, o + 6, 6);
      const lat = 5 + Math.random() * 10 + (id % 100 === 0 ? 80 : 0);
      const reason = lat > 50 ? 'tail' : 'baseline';
      // Tail: every slow one; baseline: about 20 per second.
      if (reason === 'tail' || Math.random() < 20 / RATE) kept.push({ traceId: `${TAG}${id.toString(16).padStart(24, '0')}`, name: 'GET /orders/:id', latencyMs: lat, sentAtMs: now, endAtMs: now + lat, delayMs: 0, status: 200, reason });
    }
    await post(tpl.body);
  } else {
    const spans: Span[] = [];
    for (let k = 0; k < n; k++) {
      const r = requestSpans(Date.now());
      spans.push(...r.spans);
      if (r.record.reason === 'tail' || Math.random() < 20 / RATE) kept.push(r.record);
    }
    const res = await fetch(receiver.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(spansToOtlpJson(spans)) });
    if (!res.ok) throw new Error(`receiver answered ${res.status}`);
    await res.arrayBuffer();
  }
  receiver.addRecords(kept);
  const t = (Date.now() - t0) / 1000;
  if (t >= 20 && (samples.length === 0 || t - samples[samples.length - 1]!.t >= sampleEvery)) {
    gc?.();
    const m = process.memoryUsage();
    samples.push({ t, rss: m.rss / 2 ** 20, heap: m.heapUsed / 2 ** 20 });
    const c = process.cpuUsage(cpu0);
    const share = (c.user + c.system) / 1000 / (Date.now() - t0);
    console.log(`t=${t.toFixed(0)}s rss ${(m.rss / 2 ** 20).toFixed(1)} MB heap ${(m.heapUsed / 2 ** 20).toFixed(1)} MB (committed ${(m.heapTotal / 2 ** 20).toFixed(1)}, external ${(m.external / 2 ** 20).toFixed(1)}, array buffers ${(m.arrayBuffers / 2 ** 20).toFixed(1)}) kept ${receiver.stats().tracesKept} traces, ${receiver.stats().spansReceived} spans received, CPU ${(share * 100).toFixed(1)} % of a core`);
  }
  const wait = nextBatch - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
}
const st = receiver.stats();
const first = samples[0]!;
const last = samples[samples.length - 1]!;
// Least-squares slopes (RSS swings by tens of MB as the allocator returns pages; the fit sees through that).
const slope = (ys: number[]): number => {
  const xs = samples.map((x) => x.t);
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let num = 0;
  let den = 0;
  xs.forEach((x, k) => {
    num += (x - mx) * (ys[k]! - my);
    den += (x - mx) ** 2;
  });
  return den > 0 ? (num / den) * 3600 : 0;
};
const rssPerH = slope(samples.map((x) => x.rss));
const heapPerH = slope(samples.map((x) => x.heap));
const rssMin = Math.min(...samples.map((x) => x.rss));
const rssMax = Math.max(...samples.map((x) => x.rss));
const achieved = st.spansReceived / 4 / seconds;
const cpu = process.cpuUsage(cpu0);
console.log(`CPU of this process (generator + receiver): ${(((cpu.user + cpu.system) / 1000 / (Date.now() - t0)) * 100).toFixed(1)} % of a core`);
console.log(`${st.spansReceived} spans received (${achieved.toFixed(0)} req/s achieved), ${st.spansDropped} dropped, ${st.tracesKept} traces kept (${st.spansKept} spans)`);
console.log(`after warm-up, over ${(last.t - first.t).toFixed(0)} s: RSS ${rssMin.toFixed(0)}–${rssMax.toFixed(0)} MB (fit ${rssPerH >= 0 ? '+' : ''}${rssPerH.toFixed(0)} MB/h), RSS first → last ${first.rss.toFixed(0)} → ${last.rss.toFixed(0)} MB, heap ${first.heap.toFixed(1)} → ${last.heap.toFixed(1)} MB (fit ${heapPerH >= 0 ? '+' : ''}${heapPerH.toFixed(0)} MB/h); target ≤ 100 MB growth in 1 h`);
agent.destroy();
await receiver.close();

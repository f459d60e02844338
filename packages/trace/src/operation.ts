/**
 * What a span stands for, as one aggregation key: a normalised SQL statement, a pool wait, a
 * downstream `host:port route`, a DNS lookup, a TLS handshake, or the handler's own code.
 */
import { SpanKind, type AttrValue, type Span } from './span.js';

/** The families operations are grouped in; findings look for `db`, `pool`, `downstream`. */
export type OperationKind = 'db' | 'pool' | 'downstream' | 'dns' | 'tls' | 'connect' | 'handler' | 'internal' | 'before-handler' | 'after-handler' | 'send-delay' | 'untraced';

/** One aggregation key. */
export interface Operation {
  kind: OperationKind;
  /** Label shown to users, stable across traces (`SELECT … FROM orders WHERE id = $1`, `GET 127.0.0.1:9000 /rates`). */
  key: string;
}

/** The synthetic operations of the client's view around the server span. */
export const SEND_DELAY: Operation = { kind: 'send-delay', key: 'waited to be sent (generator backlog)' };
export const BEFORE_HANDLER: Operation = { kind: 'before-handler', key: 'before the handler (accept queue, event loop)' };
export const AFTER_HANDLER: Operation = { kind: 'after-handler', key: 'after the handler (response transfer)' };
export const UNTRACED: Operation = { kind: 'untraced', key: 'untraced (no server span)' };

function str(v: AttrValue | undefined): string | undefined {
  return typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined;
}

const MAX_KEY = 160;

/**
 * Normalises a SQL statement so the same query with different literals groups together: string and
 * number literals become `?` (placeholders like `$1` stay), `IN (…)` lists collapse, whitespace
 * collapses, and a SELECT's column list is elided: `SELECT … FROM orders WHERE id = $1`.
 */
export function normalizeSql(sql: string): string {
  const hit = sqlCache.get(sql);
  if (hit !== undefined) return hit;
  const out = normalizeSqlUncached(sql);
  // Bounded: an application with unbounded distinct statements just misses.
  if (sqlCache.size >= SQL_CACHE_MAX) sqlCache.clear();
  sqlCache.set(sql, out);
  return out;
}

const sqlCache = new Map<string, string>();
const SQL_CACHE_MAX = 10_000;

function normalizeSqlUncached(sql: string): string {
  let s = sql
    .replace(/--[^\n]*/g, ' ')
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/'(?:[^']|'')*'/g, '?')
    .replace(/(?<![\w$])-?\d+(?:\.\d+)?(?![\w])/g, '?')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/;$/, '');
  s = s.replace(/\bIN\s*\(\s*(?:[?]|\$\d+)(?:\s*,\s*(?:[?]|\$\d+))*\s*\)/gi, 'IN (…)');
  s = s.replace(/\bVALUES\s*(\([^()]*\))(?:\s*,\s*\([^()]*\))+/gi, 'VALUES $1, …');
  s = s.replace(/^(SELECT\s+(?:DISTINCT\s+)?)(?!\(|…)(.+?)(\s+FROM\s)/i, (_m, head: string, _cols: string, from: string) => `${head.replace(/\s+$/, '')} …${from}`);
  return s.length > MAX_KEY ? `${s.slice(0, MAX_KEY - 1)}…` : s;
}

function statementOf(a: Record<string, AttrValue>): string | undefined {
  return str(a['db.query.text']) ?? str(a['db.statement']);
}

function dbSystem(a: Record<string, AttrValue>): string | undefined {
  return str(a['db.system.name']) ?? str(a['db.system']);
}

function peer(a: Record<string, AttrValue>): string | undefined {
  const host = str(a['server.address']) ?? str(a['net.peer.name']) ?? str(a['net.peer.ip']);
  const port = str(a['server.port']) ?? str(a['net.peer.port']);
  if (host === undefined) return undefined;
  return port === undefined ? host : `${host}:${port}`;
}

/** `/users/123/orders/ab12…` → `/users/:id/orders/:id`, so ids do not split a downstream route. */
export function normalizeRoute(path: string): string {
  const p = path.split('?')[0] ?? path;
  return p
    .split('/')
    .map((seg) => (/^\d+$/.test(seg) || /^[0-9a-f]{8,}$/i.test(seg) || /^[0-9a-f-]{32,36}$/i.test(seg) ? ':id' : seg))
    .join('/');
}

function clientRoute(a: Record<string, AttrValue>): string | undefined {
  const full = str(a['url.full']) ?? str(a['http.url']);
  if (full !== undefined) {
    try {
      return normalizeRoute(new URL(full).pathname);
    } catch {
      // not a URL: fall through
    }
  }
  const target = str(a['url.path']) ?? str(a['http.target']);
  return target === undefined ? undefined : normalizeRoute(target);
}

function clientPeerFromUrl(a: Record<string, AttrValue>): string | undefined {
  const full = str(a['url.full']) ?? str(a['http.url']);
  if (full === undefined) return undefined;
  try {
    const u = new URL(full);
    return `${u.hostname}:${u.port || (u.protocol === 'https:' ? '443' : '80')}`;
  } catch {
    return undefined;
  }
}

/**
 * Classifies one span. Database spans are keyed by their normalised statement (or the span name
 * when no statement was recorded); pool waits by the pool; HTTP client spans by `METHOD host:port
 * route`; server and internal spans stand for the service's own code.
 */
export function operationOf(span: Span): Operation {
  let op = opCache.get(span);
  if (op === undefined) {
    op = classify(span);
    opCache.set(span, op);
  }
  return op;
}

/** Spans are immutable once decoded; each is classified once. */
const opCache = new WeakMap<Span, Operation>();

function classify(span: Span): Operation {
  const a = span.attributes;
  const n = span.name;
  if (n === 'pg-pool.connect' || n.endsWith('.pool.connect') || /pool\.(acquire|getConnection)$/i.test(n)) {
    const where = peer(a);
    return { kind: 'pool', key: `${n.split('.')[0]} connect${where ? ` (${where})` : ''}` };
  }
  if (n === 'dns.lookup' || n.startsWith('dns.') || str(a['dns.question.name']) !== undefined) {
    return { kind: 'dns', key: `DNS ${n.replace(/^dns\./, '')}` };
  }
  if (n === 'tls.connect' || n.startsWith('tls.')) return { kind: 'tls', key: `TLS handshake${peer(a) ? ` ${peer(a)}` : ''}` };
  if (n === 'tcp.connect' || n === 'pg.connect' || n === 'mysql.connect') return { kind: 'connect', key: `${n}${peer(a) ? ` ${peer(a)}` : ''}` };
  const system = dbSystem(a);
  if (system !== undefined) {
    const stmt = statementOf(a);
    return { kind: 'db', key: stmt !== undefined ? normalizeSql(stmt) : `${system} ${n}` };
  }
  const method = str(a['http.request.method']) ?? str(a['http.method']);
  if (span.kind === SpanKind.CLIENT && method !== undefined) {
    const where = clientPeerFromUrl(a) ?? peer(a) ?? 'unknown-host';
    return { kind: 'downstream', key: `${method} ${where} ${clientRoute(a) ?? '/'}` };
  }
  if (span.kind === SpanKind.SERVER) return { kind: 'handler', key: 'handler (own code)' };
  return { kind: 'internal', key: n || 'internal span' };
}

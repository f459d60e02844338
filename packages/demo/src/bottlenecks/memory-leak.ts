import type { IncomingMessage } from 'node:http';
import type { Bottleneck } from '../bottleneck.js';

interface AuditEntry {
  at: number;
  path: string;
  userAgent: string;
  trail: { step: number }[];
}

/** The planted problem: a module-level audit log that is appended to on every request and never trimmed. */
const auditLog: AuditEntry[] = [];

/** Records the request in {@link auditLog} (about 20 KB each) — and nothing ever removes it. */
export function recordAudit(req: IncomingMessage, path: string): number {
  auditLog.push({ at: Date.now(), path, userAgent: req.headers['user-agent'] ?? '', trail: Array.from({ length: 1000 }, (_, step) => ({ step })) });
  return auditLog.length;
}

/** Memory leak: every request runs {@link recordAudit}. */
export function createMemoryLeak(): Bottleneck {
  return {
    handle(req, url) {
      return { audited: recordAudit(req, url.pathname) };
    },
    async close() {
      auditLog.length = 0;
    },
  };
}

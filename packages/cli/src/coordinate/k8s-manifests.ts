import { basename } from 'node:path';
import { ErrorCodes, RedlineError } from '@redline/core';

/** Inputs of `redline k8s`. */
export interface K8sOptions {
  /** Scenario file name (its base name is the ConfigMap key) and content. */
  scenarioFile: string;
  scenario: string;
  instances: number;
  runId: string;
  /** Redis as the pods reach it, e.g. redis://redis.load.svc:6379. */
  coordinator: string;
  image: string;
  namespace?: string;
  /** More `redline run` arguments for every instance (e.g. --workers 2). */
  runArgs?: string[];
  /** CPU and memory requests and limits per pod. */
  cpu?: string;
  memory?: string;
}

/** A DNS-1123 label from the run id: lower case, digits and `-`, at most 63 characters. */
function dnsName(s: string): string {
  const n = s.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 50);
  if (!n) throw new RedlineError(ErrorCodes.USAGE, `invalid --run-id "${s}": it needs letters or digits to name the Kubernetes objects`);
  return n;
}

/**
 * The manifests of a distributed run: a ConfigMap with the scenario, and an Indexed Job of
 * `instances` pods whose completion index is the instance index (so instance i runs segment
 * i/N:(i+1)/N), all meeting at the Redis coordinator; instance 0 merges.
 */
export function k8sManifests(o: K8sOptions): Array<Record<string, unknown>> {
  const name = `redline-${dnsName(o.runId)}`;
  const key = basename(o.scenarioFile);
  if (!/^[-._a-zA-Z0-9]+$/.test(key)) throw new RedlineError(ErrorCodes.USAGE, `scenario file name "${key}" cannot be a ConfigMap key (letters, digits, "-", "_" and "." only)`);
  const labels = { 'app.kubernetes.io/name': 'redline', 'app.kubernetes.io/instance': name, 'redline.dev/run-id': dnsName(o.runId) };
  const meta = (n: string): Record<string, unknown> => ({ name: n, ...(o.namespace ? { namespace: o.namespace } : {}), labels });
  const resources = o.cpu || o.memory ? { requests: { ...(o.cpu ? { cpu: o.cpu } : {}), ...(o.memory ? { memory: o.memory } : {}) }, limits: { ...(o.cpu ? { cpu: o.cpu } : {}), ...(o.memory ? { memory: o.memory } : {}) } } : undefined;
  const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(`${name}-scenario`), data: { [key]: o.scenario } };
  const job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: meta(name),
    spec: {
      completionMode: 'Indexed',
      completions: o.instances,
      parallelism: o.instances,
      // A failed instance is reported by the coordinator; a retry would join a run that has started.
      backoffLimit: 0,
      ttlSecondsAfterFinished: 86_400,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          containers: [
            {
              name: 'redline',
              image: o.image,
              args: [
                'run',
                `/scenario/${key}`,
                '--coordinator',
                o.coordinator,
                '--instances',
                String(o.instances),
                '--run-id',
                o.runId,
                '--instance-index',
                '$(JOB_COMPLETION_INDEX)',
                '--out',
                '/results/instance-$(JOB_COMPLETION_INDEX)',
                '--merged-out',
                '/results/merged',
                ...(o.runArgs ?? []),
              ],
              env: [{ name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } } }],
              ...(resources ? { resources } : {}),
              volumeMounts: [
                { name: 'scenario', mountPath: '/scenario', readOnly: true },
                { name: 'results', mountPath: '/results' },
              ],
            },
          ],
          volumes: [
            { name: 'scenario', configMap: { name: `${name}-scenario` } },
            { name: 'results', emptyDir: {} },
          ],
        },
      },
    },
  };
  return [configMap, job];
}

/** A YAML scalar: plain when safe, else JSON-quoted (valid YAML); multi-line strings as literal blocks. */
function scalar(v: unknown, indent: string): string {
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  const s = String(v);
  if (s.includes('\n') && !/[\r\t]/.test(s) && !/^\s/.test(s) && !/ \n/.test(s)) return `|${s.endsWith('\n') ? '' : '-'}\n${s.replace(/\n$/, '').split('\n').map((l) => (l ? `${indent}${l}` : '')).join('\n')}`;
  return /^[A-Za-z0-9/_.][A-Za-z0-9/_.\-: ]*$/.test(s) && !/: |:$| $/.test(s) && !/^(true|false|null|yes|no|on|off|~|[-+]?[0-9.]+(e[-+]?[0-9]+)?)$/i.test(s) ? s : JSON.stringify(s);
}

function isScalar(v: unknown): boolean {
  return v === null || typeof v !== 'object';
}

function emit(v: unknown, indent: string): string {
  if (Array.isArray(v)) {
    if (v.length === 0) return ' []';
    return '\n' + v.map((item) => (isScalar(item) ? `${indent}- ${scalar(item, indent + '  ')}` : `${indent}- ${emit(item, indent + '  ').replace(/^\n\s*/, '')}`)).join('\n');
  }
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v);
    if (entries.length === 0) return ' {}';
    return '\n' + entries.map(([k, x]) => `${indent}${scalar(k, indent)}:${isScalar(x) ? ` ${scalar(x, indent + '  ')}` : emit(x, indent + '  ')}`).join('\n');
  }
  return ` ${scalar(v, indent)}`;
}

/** Serialises manifests as one multi-document YAML stream. */
export function toYaml(docs: ReadonlyArray<Record<string, unknown>>): string {
  return docs.map((d) => `---${emit(d, '')}\n`).join('');
}

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { loadAll } from 'js-yaml';
import { main } from '../src/main.ts';
import { fakeIo } from './helpers/fake-io.ts';

const fixture = async (name: string): Promise<Record<string, unknown>> => JSON.parse(await readFile(new URL(`./fixtures/k8s/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;

/** The parts of the manifests the tests read. */
interface Manifest {
  kind: string;
  metadata: { name: string; namespace?: string };
  data?: Record<string, string>;
  spec: {
    completionMode: string;
    completions: number;
    parallelism: number;
    template: { spec: { containers: Array<{ args: string[]; env: unknown; resources: unknown }>; volumes: Array<{ name: string; configMap?: { name: string } }> } };
  };
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'redline-k8s-'));
  await writeFile(join(dir, 'checkout.ts'), "export default {\n  name: 'checkout',\n  baseUrl: 'http://shop.internal:8080',\n  rate: 400,\n  duration: '5m',\n  requests: [{ url: '/cart: \"x\"' }],\n};\n");
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs `redline k8s …` in-process and parses its YAML. */
async function manifests(args: string[]): Promise<Manifest[]> {
  const io = fakeIo(['k8s', ...args], dir);
  assert.equal(await main(io), 0, io.stderrText());
  return loadAll(io.stdoutText()) as Manifest[];
}

describe('redline k8s', () => {
  it('writes a ConfigMap and an Indexed Job that validate against the Kubernetes API schema', async () => {
    const docs = await manifests(['checkout.ts', '--instances', '4', '--coordinator', 'redis://redis.load.svc:6379', '--run-id', 'Checkout_1', '--image', 'ghcr.io/acme/redline:1.0', '--namespace', 'load', '--cpu', '2', '--memory', '1Gi', '--', '--workers', '2']);
    assert.equal(docs.length, 2);
    const [cm, job] = docs as [Manifest, Manifest];
    const ajv = new Ajv({ allErrors: true, formats: { int32: true, int64: true } });
    const validCm = ajv.compile(await fixture('configmap-v1.subset.json'));
    const validJob = ajv.compile(await fixture('job-batch-v1.subset.json'));
    assert.ok(validCm(cm), JSON.stringify(validCm.errors));
    assert.ok(validJob(job), JSON.stringify(validJob.errors));
    // Names the API accepts (DNS-1123 labels).
    for (const d of docs) assert.match(d.metadata.name, /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
    assert.equal(job.metadata.namespace, 'load');
    // The ConfigMap carries the scenario byte for byte, and the pods mount it.
    assert.equal(cm.data?.['checkout.ts'], await readFile(join(dir, 'checkout.ts'), 'utf8'));
    const pod = job.spec.template.spec;
    assert.equal(pod.volumes.find((v) => v.name === 'scenario')?.configMap?.name, cm.metadata.name);
    // The completion index picks the instance, hence the segment.
    assert.equal(job.spec.completionMode, 'Indexed');
    assert.equal(job.spec.completions, 4);
    assert.equal(job.spec.parallelism, 4);
    const c = pod.containers[0]!;
    assert.deepEqual(c.env, [{ name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } } }]);
    const args = c.args;
    assert.deepEqual(args.slice(0, 10), ['run', '/scenario/checkout.ts', '--coordinator', 'redis://redis.load.svc:6379', '--instances', '4', '--run-id', 'Checkout_1', '--instance-index', '$(JOB_COMPLETION_INDEX)']);
    assert.deepEqual(args.slice(-2), ['--workers', '2']);
    assert.deepEqual(c.resources, { requests: { cpu: '2', memory: '1Gi' }, limits: { cpu: '2', memory: '1Gi' } });
  });

  it('the schema check can fail: a misspelt or mistyped field is refused', async () => {
    const [, job] = (await manifests(['checkout.ts', '--instances', '2', '--coordinator', 'redis://r:6379', '--run-id', 'r'])) as [Manifest, Manifest];
    const validJob = new Ajv({ formats: { int32: true, int64: true } }).compile(await fixture('job-batch-v1.subset.json'));
    assert.ok(validJob(job));
    assert.equal(validJob({ ...job, spec: { ...job.spec, completionsMode: 'Indexed' } }), false);
    assert.equal(validJob({ ...job, spec: { ...job.spec, completions: '2' } }), false);
    assert.equal(validJob({ ...job, spec: { ...job.spec, completionMode: 'indexed' } }), false);
  });

  it('refuses missing or bad flags with exit 2', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['checkout.ts', '--coordinator', 'redis://r:6379', '--run-id', 'r'], /give --instances N/],
      [['checkout.ts', '--instances', '2', '--run-id', 'r'], /give --coordinator redis:\/\/HOST:6379/],
      [['checkout.ts', '--instances', '2', '--coordinator', 'http://r', '--run-id', 'r'], /invalid --coordinator "http:\/\/r": expected a redis:\/\/ URL/],
      [['checkout.ts', '--instances', '2', '--coordinator', 'redis://r:6379', '--run-id', 'a b'], /give --run-id ID made of letters/],
      [['missing.ts', '--instances', '2', '--coordinator', 'redis://r:6379', '--run-id', 'r'], /cannot read scenario file missing\.ts/],
    ];
    for (const [args, message] of cases) {
      const io = fakeIo(['k8s', ...args], dir);
      assert.equal(await main(io), 2, args.join(' '));
      assert.match(io.stderrText(), message);
    }
  });
});

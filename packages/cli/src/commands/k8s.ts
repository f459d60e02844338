import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ErrorCodes, RedlineError } from '@redline/core';
import { intFlag, parseCommandArgs } from '../args.js';
import { err, out, type CliIo } from '../io.js';
import { k8sManifests, toYaml } from '../coordinate/k8s-manifests.js';

export const K8S_HELP = `Usage:
  redline k8s scenario.ts --instances N --coordinator redis://HOST:6379 --run-id ID [options] [-- RUN ARGS]

Writes Kubernetes manifests for a distributed run: a ConfigMap holding the scenario and an Indexed
Job of N pods; pod i (its completion index) runs instance i, i.e. segment i/N:(i+1)/N, and the
instances meet at the Redis coordinator; instance 0 writes the merged run directory.
Arguments after "--" are passed to every "redline run" (e.g. -- --workers 2).

Options:
  --image IMAGE      container image with the redline CLI (default redline:latest; see Dockerfile)
  --namespace NS     namespace of the objects
  --cpu C            CPU request and limit per pod (e.g. 2)
  --memory M         memory request and limit per pod (e.g. 1Gi)
  --out FILE         write the YAML to FILE instead of stdout

Then: kubectl apply -f FILE; kubectl logs -f job/redline-ID (see docs/distributed.md).`;

const OPTIONS = {
  instances: { type: 'string' },
  coordinator: { type: 'string' },
  'run-id': { type: 'string' },
  image: { type: 'string' },
  namespace: { type: 'string' },
  cpu: { type: 'string' },
  memory: { type: 'string' },
  out: { type: 'string', short: 'o' },
} as const;

/** `redline k8s`. */
export async function k8sCommand(io: CliIo, args: string[]): Promise<number> {
  const dash = args.indexOf('--');
  const own = dash < 0 ? args : args.slice(0, dash);
  const runArgs = dash < 0 ? [] : args.slice(dash + 1);
  const { values: v, positionals } = parseCommandArgs('k8s', own, OPTIONS);
  if (v.help) {
    out(io, K8S_HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new RedlineError(ErrorCodes.USAGE, 'redline k8s: give one scenario file (see redline k8s --help)');
  const instances = intFlag('instances', v.instances);
  if (instances === undefined) throw new RedlineError(ErrorCodes.USAGE, 'redline k8s: give --instances N');
  if (v.coordinator === undefined) throw new RedlineError(ErrorCodes.USAGE, 'redline k8s: give --coordinator redis://HOST:6379 (as the pods reach it)');
  if (!/^rediss?:\/\//.test(String(v.coordinator))) throw new RedlineError(ErrorCodes.USAGE, `invalid --coordinator "${String(v.coordinator)}": expected a redis:// URL`);
  if (v['run-id'] === undefined || !/^[A-Za-z0-9._-]{1,100}$/.test(String(v['run-id']))) throw new RedlineError(ErrorCodes.USAGE, 'redline k8s: give --run-id ID made of letters, digits, ".", "_" and "-"');
  const file = positionals[0]!;
  let scenario: string;
  try {
    scenario = await readFile(resolve(io.cwd, file), 'utf8');
  } catch {
    throw new RedlineError(ErrorCodes.SCENARIO_NOT_FOUND, `redline k8s: cannot read scenario file ${file}`);
  }
  const yaml = toYaml(
    k8sManifests({
      scenarioFile: file,
      scenario,
      instances,
      runId: String(v['run-id']),
      coordinator: String(v.coordinator),
      image: v.image !== undefined ? String(v.image) : 'redline:latest',
      ...(v.namespace !== undefined ? { namespace: String(v.namespace) } : {}),
      ...(v.cpu !== undefined ? { cpu: String(v.cpu) } : {}),
      ...(v.memory !== undefined ? { memory: String(v.memory) } : {}),
      runArgs,
    }),
  );
  if (v.out !== undefined) {
    await writeFile(resolve(io.cwd, String(v.out)), yaml);
    err(io, `redline: wrote ${String(v.out)}: kubectl apply -f ${String(v.out)}`);
  } else io.stdout.write(yaml);
  return 0;
}

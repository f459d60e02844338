import { assertValidHeaders } from './header-validation.js';
import type { ScenarioDefinition, ScenarioSpec } from './scenario.js';

/**
 * Checks every header a scenario sends as written (top-level `headers`, each static request's
 * `headers`) before anything runs, so a CR/LF in a value is exit 2 rather than a run that sends
 * nothing. Messages name the source and the field path.
 */
export function assertScenarioHeaders(def: ScenarioDefinition, source: string): void {
  assertValidHeaders(def.headers, `${source}: headers`);
  const check = (spec: ScenarioSpec, path: string): void => {
    spec.requests?.forEach((r, i) => assertValidHeaders(r.headers, `${source}: ${path}requests.${i}.headers`));
  };
  check(def, '');
  for (const [name, spec] of Object.entries(def.scenarios ?? {})) check(spec, `scenarios.${name}.`);
}

// What a scenario file needs, re-exported so users write `import { defineScenario } from '@redline/cli'`
// against the one package they install.
export { defineScenario } from '@redline/load';
export type {
  DataSource,
  Duration,
  HttpClient,
  HttpRequestOptions,
  HttpResponse,
  IterationContext,
  IterationFn,
  RequestSpec,
  ResponseTimings,
  ScenarioDefinition,
  ScenarioSpec,
  Stage,
  ThresholdInput,
} from '@redline/load';

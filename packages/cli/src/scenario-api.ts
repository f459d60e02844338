// What a scenario file needs, re-exported so users write `import { defineScenario } from '@redline/cli'`
// against the one package they install.
export { defineScenario, Counter, Gauge, Rate, Trend } from '@redline/load';
export type {
  DataSource,
  Duration,
  HttpClient,
  HttpRequestOptions,
  HttpResponse,
  IterationContext,
  IterationFn,
  LifecycleContext,
  RequestSpec,
  ResponseTimings,
  ScenarioDefinition,
  ScenarioSpec,
  SetupFn,
  Stage,
  TeardownFn,
  ThresholdInput,
} from '@redline/load';

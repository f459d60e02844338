import { parentPort, workerData } from 'node:worker_threads';
import { importScenarioModule, resolveScenarioExport } from './scenario-loader.js';
import type { IterationFn, ScenarioDefinition, ScenarioSpec } from './scenario.js';
import { WorkerEngine, type EngineInit, type EngineMessage } from './worker-engine.js';

/** Messages from the runner to a worker. */
export type RunnerMessage = { type: 'start'; startAt: number } | { type: 'stop' } | { type: 'abort' };

/** What the runner hands a worker thread. */
export interface WorkerData {
  init: EngineInit;
  /** Scenario module to import for scripted scenarios (null for static-only runs). */
  scenarioFile: string | null;
}

const port = parentPort;
if (!port) throw new Error('worker.ts must run in a worker thread');
const data = workerData as WorkerData;

async function main(): Promise<void> {
  const exec = new Map<string, IterationFn>();
  if (data.scenarioFile && data.init.config.scenarios.some((s) => s.mode === 'script')) {
    const exported = await importScenarioModule(data.scenarioFile);
    const def = resolveScenarioExport(exported, data.init.env ?? {}, data.scenarioFile) as ScenarioDefinition;
    const specs: Record<string, ScenarioSpec> = def.scenarios ?? { [data.init.config.scenarios[0]!.name]: def };
    for (const s of data.init.config.scenarios) {
      const fn = specs[s.name]?.exec;
      if (s.mode === 'script' && typeof fn === 'function') exec.set(s.name, fn);
    }
  }
  const engine = new WorkerEngine(data.init, exec, (msg: EngineMessage) => port!.postMessage(msg));
  port!.on('message', (msg: RunnerMessage) => {
    if (msg.type === 'start') {
      // The runner terminates this thread once it has the final snapshot.
      engine.run(msg.startAt).catch(
        (err: unknown) => port!.postMessage({ type: 'fatal', message: (err as Error)?.message ?? String(err) } satisfies EngineMessage),
      );
    } else if (msg.type === 'stop') engine.stop();
    else if (msg.type === 'abort') {
      engine.abort();
    }
  });
  port!.postMessage({ type: 'ready' });
}

main().catch((err: unknown) => {
  port.postMessage({ type: 'fatal', message: (err as Error)?.message ?? String(err) } satisfies EngineMessage);
});

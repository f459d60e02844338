import type { CpuProfile, CpuProfileNode } from './cpu-profile.js';

/**
 * Merges the CPU profiles of a process's threads into one profile on the main profile's clock: the
 * root gets one child per thread, a node named `thread <label>` (`thread main`, `thread worker-1`)
 * holding that thread's call tree, and the samples of all threads interleave in time order (each
 * thread's `$redline.startEpochMs` places it). `$redline.sampleThreads` gives each sample's thread
 * index into `$redline.threads`, so per-thread questions (how long one call holds its event loop)
 * stay per thread. Shares of the merged profile are of all threads' samples together.
 * Returns `main` unchanged when there are no other threads.
 */
export function mergeThreadProfiles(main: CpuProfile, threads: Record<string, CpuProfile>): CpuProfile {
  const labels = Object.keys(threads).sort();
  if (labels.length === 0) return main;
  const all: [string, CpuProfile][] = [['main', main], ...labels.map((l): [string, CpuProfile] => [l, threads[l]!])];
  const mainEpoch = main.$redline?.startEpochMs ?? 0;
  const nodes: CpuProfileNode[] = [{ id: 1, callFrame: { functionName: '(root)', scriptId: '0', url: '', lineNumber: -1, columnNumber: -1 }, children: [] }];
  let nextId = 2;
  const timed: { tUs: number; node: number; thread: number }[] = [];
  all.forEach(([label, p], threadIndex) => {
    const idMap = new Map<number, number>();
    for (const n of p.nodes) idMap.set(n.id, nextId++);
    const childIds = new Set(p.nodes.flatMap((n) => n.children ?? []));
    const roots = p.nodes.filter((n) => !childIds.has(n.id));
    for (const n of p.nodes) {
      const isRoot = roots.includes(n);
      nodes.push({
        id: idMap.get(n.id)!,
        // The thread's own root becomes its label, so the flame graph and the doctor say which thread ran what.
        callFrame: isRoot ? { functionName: `thread ${label}`, scriptId: '0', url: '', lineNumber: -1, columnNumber: -1 } : n.callFrame,
        children: (n.children ?? []).map((c) => idMap.get(c)!).filter((c) => c !== undefined),
      });
      if (isRoot) nodes[0]!.children!.push(idMap.get(n.id)!);
    }
    // Place the thread's samples on the main profile's monotonic clock through the epoch clock.
    const offsetUs = ((p.$redline?.startEpochMs ?? mainEpoch) - mainEpoch) * 1000 + main.startTime - p.startTime;
    let t = p.startTime;
    p.samples.forEach((id, i) => {
      t += p.timeDeltas[i] ?? 0;
      const node = idMap.get(id);
      if (node !== undefined) timed.push({ tUs: t + offsetUs, node, thread: threadIndex });
    });
  });
  // Samples from before the main profile started (a thread started profiling first) fall outside it.
  const inside = timed.filter((s) => s.tUs >= main.startTime).sort((a, b) => a.tUs - b.tUs);
  const samples: number[] = [];
  const timeDeltas: number[] = [];
  const sampleThreads: number[] = [];
  let prev = main.startTime;
  for (const s of inside) {
    samples.push(s.node);
    timeDeltas.push(s.tUs - prev);
    sampleThreads.push(s.thread);
    prev = s.tUs;
  }
  return {
    nodes,
    startTime: main.startTime,
    endTime: Math.max(main.endTime, prev),
    samples,
    timeDeltas,
    $redline: { ...main.$redline, threads: all.map(([l]) => l), sampleThreads },
  };
}

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic, type ProfileFiles } from '@redline/core';
import type { CpuProfile } from './cpu-profile.js';
import { ProfileModel, createProfileModel, type ResolvedFrame } from './profile-model.js';

/** URL of the speedscope file-format JSON schema, written as `$schema`. */
export const SPEEDSCOPE_SCHEMA_URL = 'https://www.speedscope.app/file-format-schema.json';

/** A speedscope frame (https://www.speedscope.app/file-format-schema.json). */
export interface SpeedscopeFrame {
  name: string;
  file?: string;
  line?: number;
  col?: number;
}

/** A speedscope "sampled" profile; `samples[i]` lists frame indices outermost first. */
export interface SpeedscopeSampledProfile {
  type: 'sampled';
  name: string;
  unit: 'microseconds';
  startValue: number;
  endValue: number;
  samples: number[][];
  weights: number[];
}

/** A speedscope file holding one sampled profile. */
export interface SpeedscopeFile {
  $schema: typeof SPEEDSCOPE_SCHEMA_URL;
  shared: { frames: SpeedscopeFrame[] };
  profiles: SpeedscopeSampledProfile[];
  name: string;
  activeProfileIndex: number;
  exporter: string;
}

function toModel(input: CpuProfile | ProfileModel): ProfileModel {
  return input instanceof ProfileModel ? input : createProfileModel(input);
}

/**
 * Converts a profile to speedscope's file format as one "sampled" profile with weights in µs.
 * Consecutive identical stacks are folded into one sample with their weights added, which keeps the
 * file small without changing what speedscope shows. `(root)` is dropped; `(idle)` stays.
 */
export function toSpeedscope(input: CpuProfile | ProfileModel, name = 'cpu'): SpeedscopeFile {
  const model = toModel(input);
  const frameMap = new Map<number, number>();
  const frames: SpeedscopeFrame[] = [];
  const mapFrame = (f: ResolvedFrame): number => {
    let i = frameMap.get(f.index);
    if (i === undefined) {
      i = frames.length;
      const sf: SpeedscopeFrame = { name: f.functionName };
      if (f.file !== '') {
        sf.file = f.file;
        sf.line = f.line;
        sf.col = f.column;
      }
      frames.push(sf);
      frameMap.set(f.index, i);
    }
    return i;
  };
  const samples: number[][] = [];
  const weights: number[] = [];
  let last: readonly number[] | null = null;
  const all = model.samples();
  // Weights run from the first sample on; the time before it (late first tick on a busy machine) is no stack's.
  const startValue = Math.round((all[0]?.timeMs ?? 0) * 1000);
  for (const s of all) {
    if (s.stack === last) {
      weights[weights.length - 1]! += s.weightUs;
      continue;
    }
    samples.push(s.stack.map((f) => mapFrame(model.frames[f]!)));
    weights.push(s.weightUs);
    last = s.stack;
  }
  return {
    $schema: SPEEDSCOPE_SCHEMA_URL,
    shared: { frames },
    profiles: [
      { type: 'sampled', name, unit: 'microseconds', startValue, endValue: Math.round(model.durationMs * 1000), samples, weights },
    ],
    name,
    activeProfileIndex: 0,
    exporter: '@redline/doctor',
  };
}

function collapsedName(f: ResolvedFrame): string {
  const label = f.file === '' ? f.functionName : `${f.functionName} (${f.file}:${f.line})`;
  // ';' separates frames and a trailing ' N' is the count: neither may appear inside a name.
  return label.replace(/;/g, ':').replace(/\s+/g, ' ');
}

/**
 * Brendan Gregg's folded-stacks format: one line per distinct stack, `outer;inner;leaf COUNT`,
 * frames named `fn (file:line)`, sorted by stack text. `(root)` is dropped.
 */
export function toCollapsed(model: ProfileModel): string {
  const counts = new Map<readonly number[], number>();
  for (const s of model.samples()) counts.set(s.stack, (counts.get(s.stack) ?? 0) + 1);
  const lines: string[] = [];
  for (const [stack, n] of counts) {
    if (stack.length === 0) continue;
    lines.push(`${stack.map((f) => collapsedName(model.frames[f]!)).join(';')} ${n}`);
  }
  lines.sort();
  return lines.length === 0 ? '' : lines.join('\n') + '\n';
}

/**
 * Writes `<baseName>.cpuprofile`, `<baseName>.speedscope.json` and `<baseName>.collapsed.txt` into
 * `dir` (created if needed, each file written atomically) and returns their names relative to `dir`.
 */
export async function writeProfileExports(model: ProfileModel, dir: string, baseName = 'cpu'): Promise<ProfileFiles> {
  await mkdir(dir, { recursive: true });
  const files: Required<Pick<ProfileFiles, 'cpuprofile' | 'speedscope' | 'collapsed'>> = {
    cpuprofile: `${baseName}.cpuprofile`,
    speedscope: `${baseName}.speedscope.json`,
    collapsed: `${baseName}.collapsed.txt`,
  };
  await writeFileAtomic(join(dir, files.cpuprofile), JSON.stringify(model.profile));
  await writeFileAtomic(join(dir, files.speedscope), JSON.stringify(toSpeedscope(model, baseName)));
  await writeFileAtomic(join(dir, files.collapsed), toCollapsed(model));
  return files;
}

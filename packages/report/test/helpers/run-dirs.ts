import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeJsonAtomic, type RunResult } from '@redline/core';
import type { FlameNode } from '@redline/doctor';
import { cpuProfileFromTree } from './synthetic-run.ts';

/** A temporary folder that hands out run directories. */
export function runDirFactory(prefix = 'redline-compare-'): (name: string, result: RunResult, flame?: FlameNode) => Promise<string> {
  const root = mkdtempSync(join(tmpdir(), prefix));
  return async (name, result, flame) => {
    const dir = join(root, name);
    mkdirSync(dir, { recursive: true });
    if (flame !== undefined && result.target !== null) {
      writeFileSync(join(dir, 'cpu.cpuprofile'), JSON.stringify(cpuProfileFromTree(flame)));
      result.target.profiles.cpuprofile = 'cpu.cpuprofile';
    }
    await writeJsonAtomic(join(dir, 'result.json'), result);
    return dir;
  };
}

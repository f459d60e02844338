import type { LiveStatus } from '@redline/load';

/** A note the dashboard shows for the current second. */
export interface LiveNote {
  level: 'warn' | 'bad';
  text: string;
}

/**
 * What can be said about one second while the run goes (the doctor's findings need the whole run
 * and come at the end): errors, dropped iterations, a late generator, a rate not held.
 */
export function liveNotes(s: LiveStatus): LiveNote[] {
  const p = s.point;
  const notes: LiveNote[] = [];
  if (p.errors > 0 && p.requests > 0) {
    const kinds = Object.entries(p.errorsByKind)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    const share = p.errors / p.requests;
    notes.push({ level: share >= 0.01 ? 'bad' : 'warn', text: `${p.errors} of ${p.requests} requests failed in the last second (${(share * 100).toFixed(1)} %${kinds ? `: ${kinds}` : ''})` });
  }
  if (p.iterationsDropped > 0) notes.push({ level: 'warn', text: `${p.iterationsDropped} iterations dropped in the last second: every VU up to maxVUs was busy` });
  if (p.scheduleLagMs.p99 > 20) notes.push({ level: 'warn', text: `the generator started iterations late (schedule lag p99 ${p.scheduleLagMs.p99.toFixed(1)} ms): it may be short of CPU` });
  if (p.intendedRate !== null && p.intendedRate > 0 && p.iterations < p.intendedRate * 0.9 && p.t > 1) {
    notes.push({ level: 'warn', text: `${p.iterations} iterations started against ${p.intendedRate} intended in the last second` });
  }
  return notes;
}

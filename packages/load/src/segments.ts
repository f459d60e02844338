import { ErrorCodes, RedlineError } from '@redline/core';

/**
 * Execution segments, as k6 defines them: a run's work (iterations of an open model, VUs of a
 * closed one, the iteration pool of `shared-iterations`) is split between instances by a segment
 * `(from, to]` of `[0, 1]`, within a sequence of segments that covers `[0, 1]`. Shares are striped:
 * global unit `i` belongs to exactly one segment, chosen by a fixed pattern that repeats every
 * `lcd` units (the least common denominator of the segment lengths), so N instances' shares add up
 * to the whole exactly and their units interleave instead of forming blocks (instance 1 takes
 * iterations 0, 2, 4 …, not the first half of the run).
 */

/** A non-negative rational number, reduced. */
interface Rational {
  num: number;
  den: number;
}

/** Denominators above this (e.g. `0.1234567`) would make the striping cycle too long to keep. */
const MAX_DENOMINATOR = 1_000_000;

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

function rat(num: number, den: number): Rational {
  const g = gcd(num, den) || 1;
  return { num: num / g, den: den / g };
}

function cmp(a: Rational, b: Rational): number {
  return a.num * b.den - b.num * a.den;
}

function sub(a: Rational, b: Rational): Rational {
  return rat(a.num * b.den - b.num * a.den, a.den * b.den);
}

function ratString(r: Rational): string {
  return r.den === 1 ? String(r.num) : `${r.num}/${r.den}`;
}

/** The error for a bad segment or sequence string; `at` is the 1-based character position. */
function badSegment(flag: string, input: string, at: number, why: string): RedlineError {
  return new RedlineError(ErrorCodes.BAD_SEGMENT, `invalid ${flag} "${input}" at position ${at}: ${why}`, { details: { input, position: at } });
}

/**
 * Parses one value: a fraction (`1/4`), a decimal (`0.25`) or a percentage (`25%`). Throws naming
 * the position `offset` (0-based start of `text` in `input`).
 */
function parseValue(text: string, flag: string, input: string, offset: number): Rational {
  const at = offset + 1;
  const t = text.trim();
  if (t === '') throw badSegment(flag, input, at, 'expected a fraction (1/4), decimal (0.25) or percentage (25%), got nothing');
  let m: RegExpMatchArray | null;
  let r: Rational;
  if ((m = /^(\d+)\/(\d+)$/.exec(t))) {
    const den = Number(m[2]);
    if (den === 0) throw badSegment(flag, input, at, `"${t}" divides by zero`);
    r = rat(Number(m[1]), den);
  } else if ((m = /^(\d+)(?:\.(\d+))?(%?)$/.exec(t))) {
    const frac = m[2] ?? '';
    const den = 10 ** frac.length * (m[3] ? 100 : 1);
    if (den > MAX_DENOMINATOR) throw badSegment(flag, input, at, `"${t}" has too many decimal places (a denominator above ${MAX_DENOMINATOR})`);
    r = rat(Number(m[1] + frac), den);
  } else {
    throw badSegment(flag, input, at, `"${t}" is not a fraction (1/4), decimal (0.25) or percentage (25%)`);
  }
  if (r.den > MAX_DENOMINATOR) throw badSegment(flag, input, at, `"${t}" has a denominator above ${MAX_DENOMINATOR}`);
  if (cmp(r, { num: 1, den: 1 }) > 0) throw badSegment(flag, input, at, `"${t}" is more than 1`);
  return r;
}

/** One segment `(from, to]` of the work. */
export interface ExecutionSegment {
  readonly from: Rational;
  readonly to: Rational;
}

/** Parses `--execution-segment`: `1/4:2/4`, `25%:50%`, `0.25:0.5`, or `1/4` (meaning `0:1/4`). */
export function parseExecutionSegment(input: string, flag = '--execution-segment'): ExecutionSegment {
  const colon = input.indexOf(':');
  const from = colon < 0 ? rat(0, 1) : parseValue(input.slice(0, colon), flag, input, 0);
  const toOffset = colon < 0 ? 0 : colon + 1;
  const to = parseValue(input.slice(toOffset), flag, input, toOffset);
  if (cmp(from, to) >= 0) throw badSegment(flag, input, toOffset + 1, `the segment's end ${ratString(to)} must be greater than its start ${ratString(from)}`);
  return { from, to };
}

/** Parses `--execution-segment-sequence`: `0,1/4,2/4,3/4,1` (at least two increasing points). */
export function parseExecutionSegmentSequence(input: string, flag = '--execution-segment-sequence'): ExecutionSegment[] {
  const points: Array<{ r: Rational; at: number }> = [];
  let offset = 0;
  for (const part of input.split(',')) {
    points.push({ r: parseValue(part, flag, input, offset), at: offset + 1 });
    offset += part.length + 1;
  }
  if (points.length < 2) throw badSegment(flag, input, 1, 'a sequence needs at least two points, e.g. 0,1/2,1');
  const segments: ExecutionSegment[] = [];
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1]!;
    const b = points[i]!;
    if (cmp(a.r, b.r) >= 0) throw badSegment(flag, input, b.at, `point ${i + 1} (${ratString(b.r)}) must be greater than the point before it (${ratString(a.r)})`);
    segments.push({ from: a.r, to: b.r });
  }
  return segments;
}

/** Segment and sequence as given on the command line; structured-clonable, so it travels to workers. */
export interface SegmentSpec {
  segment: string;
  sequence?: string;
}

/**
 * One instance's share of the work: which global units (iterations, VUs) it owns. The identity
 * share (no segment) owns everything.
 */
export interface ExecutionShare {
  /** True when this share is the whole run. */
  readonly full: boolean;
  /** The segment as `from:to`, e.g. `1/4:1/2`. */
  readonly label: string;
  /** This share of `total` units: the number of units in `[0, total)` it owns. Sums over a sequence's segments to `total` exactly. */
  scale(total: number): number;
  /** The global index of this share's `j`-th unit (0-based); increasing in `j`. */
  globalIndex(j: number): number;
}

/** The share that owns every unit. */
export const FULL_SHARE: ExecutionShare = { full: true, label: '0:1', scale: (n) => n, globalIndex: (j) => j };

/** The longest striping cycle kept in memory (units per repetition of the pattern). */
const MAX_CYCLE = 1_000_000;

/** Fills the gaps before, after and between segments so the sequence covers [0, 1]. */
function filledSequence(sequence: ExecutionSegment[]): ExecutionSegment[] {
  const out: ExecutionSegment[] = [];
  let at = rat(0, 1);
  for (const s of sequence) {
    if (cmp(s.from, at) > 0) out.push({ from: at, to: s.from });
    out.push(s);
    at = s.to;
  }
  if (cmp(at, rat(1, 1)) < 0) out.push({ from: at, to: rat(1, 1) });
  return out;
}

/**
 * Which positions of one striping cycle each segment owns. Follows k6's rule
 * (`NewExecutionSegmentSequenceWrapper`): segments ordered by length, largest first; position `i`
 * goes to the first segment whose next unit is due, i.e. whose `chosen × lcd / share` is at most
 * `i`, so each segment's units are spread as evenly as the cycle allows.
 */
function stripe(segments: readonly ExecutionSegment[]): { lcd: number; owned: number[][] } {
  const lengths = segments.map((s) => sub(s.to, s.from));
  let lcd = 1;
  for (const l of lengths) {
    lcd = (lcd / gcd(lcd, l.den)) * l.den;
    if (lcd > MAX_CYCLE) throw new RedlineError(ErrorCodes.BAD_SEGMENT, `the execution segments' common denominator exceeds ${MAX_CYCLE}; use simpler fractions`);
  }
  const shares = lengths.map((l) => l.num * (lcd / l.den));
  const order = shares.map((_, i) => i).sort((a, b) => shares[b]! - shares[a]! || a - b);
  const chosen = shares.map(() => 0);
  const owned: number[][] = shares.map(() => []);
  for (let i = 0; i < lcd; i++) {
    for (const k of order) {
      const num = chosen[k]! * lcd;
      const den = shares[k]!;
      const due = Math.floor(num / den);
      if (i > due || (i === due && num % den === 0)) {
        chosen[k]!++;
        owned[k]!.push(i);
        break;
      }
    }
  }
  return { lcd, owned };
}

/**
 * Builds the share of `spec.segment` within `spec.sequence` (default: the segment alone, the rest of
 * [0, 1] filled around it). Throws REDLINE_ERR_BAD_SEGMENT for bad strings (naming the position)
 * or a segment that is not one of the sequence's.
 */
export function executionShare(spec: SegmentSpec | undefined): ExecutionShare {
  if (!spec) return FULL_SHARE;
  const segment = parseExecutionSegment(spec.segment);
  const given = spec.sequence !== undefined ? parseExecutionSegmentSequence(spec.sequence) : [segment];
  const sequence = filledSequence(given);
  const index = sequence.findIndex((s) => cmp(s.from, segment.from) === 0 && cmp(s.to, segment.to) === 0);
  if (index < 0) {
    throw new RedlineError(
      ErrorCodes.BAD_SEGMENT,
      `invalid --execution-segment "${spec.segment}": ${ratString(segment.from)}:${ratString(segment.to)} is not one of the segments of --execution-segment-sequence "${spec.sequence ?? ''}"`,
    );
  }
  const label = `${ratString(segment.from)}:${ratString(segment.to)}`;
  if (sequence.length === 1) return { ...FULL_SHARE, label };
  const { lcd, owned: all } = stripe(sequence);
  const owned = all[index]!;
  const perCycle = owned.length;
  return {
    full: false,
    label,
    scale: (total) => {
      const rest = total % lcd;
      let n = Math.floor(total / lcd) * perCycle;
      for (const p of owned) {
        if (p >= rest) break;
        n++;
      }
      return n;
    },
    globalIndex: (j) => Math.floor(j / perCycle) * lcd + owned[j % perCycle]!,
  };
}

/**
 * The segments `0:1/n, 1/n:2/n, …` of `n` equal instances, as `--execution-segment` strings with
 * their sequence (what `redline k8s` and the coordinator hand to instance `i`).
 */
export function equalSegments(n: number): { sequence: string; segments: string[] } {
  if (!Number.isInteger(n) || n < 1) throw new RedlineError(ErrorCodes.USAGE, `invalid instance count ${n}: expected an integer ≥ 1`);
  const point = (i: number): string => (i === 0 ? '0' : i === n ? '1' : ratString(rat(i, n)));
  const points = Array.from({ length: n + 1 }, (_, i) => point(i));
  return { sequence: points.join(','), segments: Array.from({ length: n }, (_, i) => `${points[i]}:${points[i + 1]}`) };
}

/**
 * Refuses a `shared-iterations` scenario whose segment owns iterations of the pool but none of its
 * VUs: nobody would run them, and the instances' iterations would no longer add up to the whole.
 * (VU-based models are consistent with zero VUs: no VUs, no share of the work.)
 */
export function checkShareRunnable(scenarios: ReadonlyArray<{ name: string; executor: string; options: Record<string, unknown> }>, share: ExecutionShare): void {
  if (share.full) return;
  for (const s of scenarios) {
    if (s.executor !== 'shared-iterations') continue;
    const vus = Number(s.options.vus);
    const iterations = Number(s.options.iterations);
    const mine = share.scale(iterations);
    if (mine > 0 && share.scale(vus) === 0) {
      throw new RedlineError(
        ErrorCodes.BAD_SEGMENT,
        `scenario "${s.name}": execution segment ${share.label} owns ${mine} of the ${iterations} shared iterations but none of the ${vus} VUs, so nothing would run them; give the scenario at least as many VUs as there are instances`,
      );
    }
  }
}

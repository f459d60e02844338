/**
 * A small Levenberg–Marquardt solver for nonlinear least squares with box bounds.
 *
 * Written for models with a handful of parameters whose scales differ by many orders of magnitude
 * (the USL's κ is ~1e-4 while λ is ~1e2), so every step is solved in column-scaled space with a
 * Householder QR of the augmented system `[J; √μ·I] δ = [r; 0]` rather than by forming JᵀJ, which
 * would square the condition number.
 */

/** Options for {@link levenbergMarquardt}. */
export interface LmOptions {
  /** Lower bound per parameter (`-Infinity` for none). */
  lower?: readonly number[];
  /** Upper bound per parameter (`Infinity` for none). */
  upper?: readonly number[];
  /** Iteration cap; the result says `converged: false` when it is reached. Default 500. */
  maxIterations?: number;
  /** Stop when the relative decrease of the sum of squares falls below this. Default 1e-15. */
  fTolerance?: number;
  /** Stop when the scaled step is this small relative to the scaled parameters. Default 1e-13. */
  xTolerance?: number;
}

/** Outcome of {@link levenbergMarquardt}. */
export interface LmResult {
  params: number[];
  /** Sum of squared residuals at `params`. */
  sse: number;
  iterations: number;
  converged: boolean;
  /** Why the solver stopped, for people. */
  reason: string;
}

/**
 * Minimises Σ (y_i − f(x_i; p))² over `p`, starting from `initial`.
 * `model(p)` returns the predictions for all points; `jacobian(p)` returns rows ∂f_i/∂p_j.
 * Steps are projected onto the bounds. Never throws for a bad fit: non-finite values or the
 * iteration cap give `converged: false` with a reason.
 */
export function levenbergMarquardt(
  ys: readonly number[],
  model: (p: readonly number[]) => number[],
  jacobian: (p: readonly number[]) => number[][],
  initial: readonly number[],
  options: LmOptions = {},
): LmResult {
  const m = initial.length;
  const lower = options.lower ?? initial.map(() => -Infinity);
  const upper = options.upper ?? initial.map(() => Infinity);
  const maxIterations = options.maxIterations ?? 500;
  const fTol = options.fTolerance ?? 1e-15;
  const xTol = options.xTolerance ?? 1e-13;
  const clamp = (p: number[]): number[] => p.map((v, j) => Math.min(upper[j]!, Math.max(lower[j]!, v)));

  let p = clamp([...initial]);
  let sse = sumSquares(ys, model(p));
  if (!Number.isFinite(sse)) return { params: p, sse, iterations: 0, converged: false, reason: 'model is not finite at the starting point' };
  let mu = 1e-3;
  let iterations = 0;
  while (iterations < maxIterations) {
    iterations++;
    const pred = model(p);
    const r = ys.map((y, i) => y - pred[i]!);
    const jac = jacobian(p);
    // Column scaling makes the damping term treat every parameter alike (Marquardt's diag(JᵀJ)).
    const scale = new Array<number>(m).fill(0);
    for (const row of jac) for (let j = 0; j < m; j++) scale[j]! += row[j]! ** 2;
    for (let j = 0; j < m; j++) scale[j] = Math.sqrt(scale[j]!) || 1;
    const scaled = jac.map((row) => row.map((v, j) => v / scale[j]!));
    if (!scaled.every((row) => row.every(Number.isFinite))) {
      return { params: p, sse, iterations, converged: false, reason: 'Jacobian is not finite' };
    }
    let accepted = false;
    while (!accepted) {
      const deltaScaled = boundedStep(scaled, r, mu, p, lower, upper);
      const trial = clamp(p.map((v, j) => v + deltaScaled[j]! / scale[j]!));
      const trialSse = sumSquares(ys, model(trial));
      if (Number.isFinite(trialSse) && trialSse <= sse) {
        const stepNorm = Math.hypot(...trial.map((v, j) => (v - p[j]!) * scale[j]!));
        const paramNorm = Math.hypot(...p.map((v, j) => v * scale[j]!));
        const relDecrease = sse === 0 ? 0 : (sse - trialSse) / sse;
        p = trial;
        sse = trialSse;
        mu = Math.max(mu / 10, 1e-12);
        accepted = true;
        if (sse === 0) return { params: p, sse, iterations, converged: true, reason: 'exact fit' };
        if (relDecrease < fTol) return { params: p, sse, iterations, converged: true, reason: 'sum of squares no longer decreases' };
        if (stepNorm <= xTol * (paramNorm + xTol)) return { params: p, sse, iterations, converged: true, reason: 'step is negligible' };
      } else {
        mu *= 10;
        // A damping this large means no direction lowers the sum of squares: a (constrained) minimum.
        if (mu > 1e16) return { params: p, sse, iterations, converged: true, reason: 'no step lowers the sum of squares' };
      }
    }
  }
  return { params: p, sse, iterations, converged: false, reason: `no convergence after ${maxIterations} iterations` };
}

/** Sum of squared differences; NaN when any prediction is not finite. */
export function sumSquares(ys: readonly number[], pred: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < ys.length; i++) {
    const d = ys[i]! - pred[i]!;
    s += d * d;
  }
  return Number.isFinite(s) ? s : NaN;
}

/**
 * The damped step with parameters that sit on a bound and would be pushed through it held fixed.
 * Plain projection of the full step instead zig-zags along the bound for hundreds of iterations.
 */
function boundedStep(
  scaled: readonly (readonly number[])[],
  r: readonly number[],
  mu: number,
  p: readonly number[],
  lower: readonly number[],
  upper: readonly number[],
): number[] {
  const m = p.length;
  const fixed = new Array<boolean>(m).fill(false);
  for (let pass = 0; pass <= m; pass++) {
    const free = [...Array(m).keys()].filter((j) => !fixed[j]);
    const sub = solveDamped(scaled.map((row) => free.map((j) => row[j]!)), r, mu);
    const delta = new Array<number>(m).fill(0);
    free.forEach((j, k) => (delta[j] = sub[k]!));
    let changed = false;
    for (const j of free) {
      const outward = (p[j]! <= lower[j]! && delta[j]! < 0) || (p[j]! >= upper[j]! && delta[j]! > 0);
      if (outward) {
        fixed[j] = true;
        changed = true;
      }
    }
    if (!changed || free.length === 0) return delta;
  }
  return new Array<number>(m).fill(0);
}

/** Solves min ‖[A; √μ·I]δ − [b; 0]‖ by Householder QR. */
function solveDamped(a: readonly (readonly number[])[], b: readonly number[], mu: number): number[] {
  const m = a[0]?.length ?? 0;
  const rows = a.map((row) => [...row]);
  const rhs = [...b];
  const root = Math.sqrt(mu);
  for (let j = 0; j < m; j++) {
    const row = new Array<number>(m).fill(0);
    row[j] = root;
    rows.push(row);
    rhs.push(0);
  }
  return leastSquaresQr(rows, rhs);
}

/**
 * Least-squares solution of `A x ≈ b` (A is n×m with n ≥ m) by Householder QR.
 * Columns with a zero pivot get a zero coefficient rather than a division by zero.
 */
export function leastSquaresQr(aIn: readonly (readonly number[])[], bIn: readonly number[]): number[] {
  const n = aIn.length;
  const m = aIn[0]?.length ?? 0;
  const a = aIn.map((row) => [...row]);
  const b = [...bIn];
  for (let k = 0; k < m; k++) {
    let norm = 0;
    for (let i = k; i < n; i++) norm += a[i]![k]! ** 2;
    norm = Math.sqrt(norm);
    if (norm === 0) continue;
    const alpha = a[k]![k]! > 0 ? -norm : norm;
    const v = new Array<number>(n).fill(0);
    for (let i = k; i < n; i++) v[i] = a[i]![k]!;
    v[k] = v[k]! - alpha;
    let vNorm2 = 0;
    for (let i = k; i < n; i++) vNorm2 += v[i]! ** 2;
    if (vNorm2 === 0) continue;
    for (let j = k; j < m; j++) {
      let dot = 0;
      for (let i = k; i < n; i++) dot += v[i]! * a[i]![j]!;
      const f = (2 * dot) / vNorm2;
      for (let i = k; i < n; i++) a[i]![j] = a[i]![j]! - f * v[i]!;
    }
    let dot = 0;
    for (let i = k; i < n; i++) dot += v[i]! * b[i]!;
    const f = (2 * dot) / vNorm2;
    for (let i = k; i < n; i++) b[i] = b[i]! - f * v[i]!;
  }
  const x = new Array<number>(m).fill(0);
  for (let k = m - 1; k >= 0; k--) {
    let s = b[k]!;
    for (let j = k + 1; j < m; j++) s -= a[k]![j]! * x[j]!;
    const pivot = a[k]![k]!;
    x[k] = pivot === 0 ? 0 : s / pivot;
  }
  return x;
}

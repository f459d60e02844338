// A discrete-event simulation of the overload experiment on a virtual clock: an open-model client,
// a one-core service whose requests share the CPU (processor sharing, as the demo's sliced CPU work
// does), and the real @redline/flow limiter in front of it (driven through acquire/release, as the
// HTTP adapter drives it). The machine is a parameter: a dedicated core (share 1) or a core the
// process gets only part of the time, in scheduler quanta (as on a machine with a load average far
// above its core count). Running the same limiter on both tells the algorithm's misses from the
// machine's. Deterministic for a given seed; runs in well under a second of real time per scenario.
import { seededRandom } from '@redline/core';
import { createLimiter, type Clock, type LimiterOptions, type Permit } from '@redline/flow';

/** The CPU the service's process gets. */
export interface SimMachine {
  /** Mean share of a core the process gets while runnable, in (0, 1]. 1: a dedicated core. */
  share: number;
  /** Scheduler quantum, ms: the process runs or waits a whole quantum at a time. Default 4. */
  quantumMs?: number;
  /** Each second the share is drawn uniformly from share·[1 − jitter, 1 + jitter] (clamped to 1). Default 0. */
  jitter?: number;
  /**
   * CPU the process gets at once when it wakes from idle, ms (the scheduler's credit to a task that
   * slept: Linux CFS places a waking task up to half a scheduling period ahead). It refills 1:1 with
   * idle time up to this. Default 0.
   */
  wakeCreditMs?: number;
}

/** The service's costs, ms of CPU on a whole core. */
export interface SimService {
  /** CPU per admitted request. Default 4 (the demo's overload scenario). */
  workMs?: number;
  /** CPU to read and route every request (before admission). Default 0.05. */
  parseMs?: number;
  /** CPU to answer a refused request with 503. Default 0.05. */
  rejectMs?: number;
}

/** One held level of offered load. */
export interface SimStep {
  /** Arrivals per second (Poisson). */
  rate: number;
  durationMs: number;
}

/** Options of {@link simulateOverload}. */
export interface SimOptions {
  steps: SimStep[];
  /** The limiter's options (clock and stats are set by the simulation); null: no limiter. */
  limiter: LimiterOptions | null;
  /** Per-request deadline given to the limiter (queue time counts), ms. Default 250. */
  deadlineMs?: number;
  /** Hand the limiter the simulated run-queue wait as its `stallClock`. Default false. */
  stallClock?: boolean;
  sloMs: number;
  /** The client gives up after this, ms. Default 2000. */
  clientTimeoutMs?: number;
  /**
   * Requests the client has outstanding at most, as a multiple of the step's rate (the load
   * generator's maxVUs; `redline overload` uses max(50, 1 × rate)); arrivals past it are dropped
   * unsent. Default 1.
   */
  clientMaxInFlightPerRate?: number;
  machine: SimMachine;
  service?: SimService;
  seed?: number;
}

/** What one step measured. */
export interface SimStepResult {
  rate: number;
  /** 2xx responses within the SLO per second, mean over the step's seconds. */
  goodput: number;
  goodputPerSecond: number[];
  /** p99 of the 2xx responses, ms (0 when none). */
  admittedP99Ms: number;
  ok: number;
  refused: number;
  timeouts: number;
  /** Arrivals the client could not send (all its slots outstanding). */
  dropped: number;
  /** Mean limit over the step's arrivals (NaN without a limiter). */
  meanLimit: number;
}

/** Result of {@link simulateOverload}. */
export interface SimResult {
  steps: SimStepResult[];
}


interface Job {
  remaining: number;
  done(): void;
}

interface Request {
  arrivedAt: number;
  step: number;
  finished: boolean;
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Runs the steps back to back on one simulated service and returns per-step goodput and admitted
 * p99. Admission goes through a real `Limiter` on the virtual clock.
 */
export async function simulateOverload(o: SimOptions): Promise<SimResult> {
  const random = seededRandom(o.seed ?? 1);
  const quantum = o.machine.quantumMs ?? 4;
  const jitter = o.machine.jitter ?? 0;
  const workMs = o.service?.workMs ?? 4;
  const parseMs = o.service?.parseMs ?? 0.05;
  const rejectMs = o.service?.rejectMs ?? 0.05;
  const deadlineMs = o.deadlineMs ?? 250;
  const clientTimeoutMs = o.clientTimeoutMs ?? 2000;
  let t = 0;
  let stalled = 0;
  const clock: Clock = { now: () => t };
  const stallClock: Clock = { now: () => stalled };
  const limiter = o.limiter
    ? createLimiter({ ...o.limiter, clock, statsIntervalMs: 0, ...(o.stallClock && { stallClock }) })
    : null;
  const jobs: Job[] = [];
  const stepStart: number[] = [];
  let end = 0;
  for (const s of o.steps) {
    stepStart.push(end);
    end += s.durationMs;
  }
  const results = o.steps.map((s) => ({
    rate: s.rate,
    okLatencies: [] as number[],
    goodBySecond: new Array<number>(Math.ceil(s.durationMs / 1000)).fill(0),
    ok: 0,
    refused: 0,
    timeouts: 0,
    dropped: 0,
    limitSum: 0,
    arrivals: 0,
  }));
  const timeouts: { at: number; req: Request; onTimeout?: () => void }[] = [];
  const wakeCreditMs = o.machine.wakeCreditMs ?? 0;
  let credit = wakeCreditMs;
  let idleSince = 0;
  let idle = true;
  let quantumEnd = 0;
  let on = true;
  const run = (remaining: number, done: () => void): void => {
    if (idle) {
      idle = false;
      credit = Math.min(wakeCreditMs, credit + (t - idleSince));
      if (credit > 0 && !on) {
        on = true;
        quantumEnd = t + credit;
        credit = 0;
      }
    }
    jobs.push({ remaining, done });
  };
  const perRate = o.clientMaxInFlightPerRate ?? 1;
  let outstanding = 0;
  const respond = (req: Request, ok: boolean): void => {
    if (req.finished) return;
    req.finished = true;
    outstanding--;
    const r = results[req.step]!;
    if (!ok) {
      r.refused++;
      return;
    }
    const latency = t - req.arrivedAt;
    r.ok++;
    r.okLatencies.push(latency);
    if (latency <= o.sloMs) {
      const sec = Math.floor((req.arrivedAt - stepStart[req.step]!) / 1000);
      r.goodBySecond[sec] = (r.goodBySecond[sec] ?? 0) + 1;
    }
  };
  const arrive = (step: number): void => {
    const r = results[step]!;
    if (outstanding >= Math.max(50, perRate * o.steps[step]!.rate)) {
      r.dropped++;
      return;
    }
    outstanding++;
    const req: Request = { arrivedAt: t, step, finished: false };
    r.arrivals++;
    r.limitSum += limiter?.limit ?? Number.NaN;
    const entry: { at: number; req: Request; onTimeout?: () => void } = { at: t + clientTimeoutMs, req };
    timeouts.push(entry);
    run(parseMs, () => {
      if (!limiter) {
        run(workMs, () => respond(req, true));
        return;
      }
      limiter.acquire({ timeoutMs: deadlineMs }).then(
        (permit: Permit) => {
          let released = false;
          const release = (): void => {
            if (released) return;
            released = true;
            permit.release();
          };
          // The adapter releases the slot on the response's 'close': sent, or the client gone.
          entry.onTimeout = release;
          run(workMs, () => {
            respond(req, true);
            release();
          });
        },
        () => run(rejectMs, () => respond(req, false)),
      );
    });
  };

  let step = 0;
  let nextArrival = o.steps.length ? -Math.log(1 - random()) * (1000 / o.steps[0]!.rate) : Infinity;
  let share = o.machine.share;
  let nextShareAt = 1000;
  const drawShare = (): number => Math.min(1, o.machine.share * (1 - jitter + 2 * jitter * random()));
  share = drawShare();
  while (t < end) {
    if (quantumEnd <= t) {
      on = share >= 1 || random() < share;
      quantumEnd = t + quantum;
    }
    const n = jobs.length;
    let minRemaining = Infinity;
    for (const j of jobs) if (j.remaining < minRemaining) minRemaining = j.remaining;
    const completionAt = on && n > 0 ? t + minRemaining * n : Infinity;
    const timeoutAt = timeouts.length ? timeouts[0]!.at : Infinity;
    const next = Math.min(nextArrival, quantumEnd, completionAt, timeoutAt, nextShareAt, end);
    const dt = next - t;
    if (on && n > 0) for (const j of jobs) j.remaining -= dt / n;
    else if (!on && n > 0) stalled += dt;
    t = next;
    if (t >= nextShareAt) {
      share = drawShare();
      nextShareAt += 1000;
    }
    if (completionAt === next) {
      for (let i = jobs.length - 1; i >= 0; i--) {
        if (jobs[i]!.remaining <= 1e-9) {
          const [job] = jobs.splice(i, 1);
          job!.done();
        }
      }
      if (jobs.length === 0) {
        idle = true;
        idleSince = t;
      }
    }
    while (timeouts.length && timeouts[0]!.at <= t) {
      const e = timeouts.shift()!;
      if (!e.req.finished) {
        e.req.finished = true;
        outstanding--;
        results[e.req.step]!.timeouts++;
        e.onTimeout?.();
      }
    }
    if (nextArrival === next && t < end) {
      while (step < o.steps.length - 1 && t >= stepStart[step + 1]!) step++;
      arrive(step);
      const s = o.steps[step]!;
      nextArrival = t + -Math.log(1 - random()) * (1000 / s.rate);
      // Crossing into the next step: its rate applies from its start.
      if (step < o.steps.length - 1 && nextArrival >= stepStart[step + 1]!) {
        nextArrival = stepStart[step + 1]! + -Math.log(1 - random()) * (1000 / o.steps[step + 1]!.rate);
      }
    }
    // Let the limiter's promise callbacks run before the next event.
    await Promise.resolve();
    await Promise.resolve();
    if (limiter && limiter.queued > 0) await tick();
  }
  limiter?.close();
  return {
    steps: results.map((r) => ({
      rate: r.rate,
      goodput: r.goodBySecond.reduce((a, b) => a + b, 0) / Math.max(1, r.goodBySecond.length),
      goodputPerSecond: r.goodBySecond,
      admittedP99Ms: percentile(r.okLatencies, 99),
      ok: r.ok,
      refused: r.refused,
      timeouts: r.timeouts,
      dropped: r.dropped,
      meanLimit: r.arrivals ? r.limitSum / r.arrivals : Number.NaN,
    })),
  };
}

/** The redline's verdicts on a 0.5×, 1×, 2×, 3×, 4×, 0.5× run (as `redline overload` computes them). */
export interface SimVerdict {
  /** Goodput at 3× over the peak step goodput. */
  goodputShareAt3: number;
  /** Admitted p99 at 3× over the first step's. */
  p99RatioAt3: number;
  /** Seconds into the last step until goodput holds 90 % of the first step's; null if never. */
  recoverySeconds: number | null;
}

/** Verdicts of a run whose steps are [0.5, 1, 2, 3, 4, 0.5] × the max rate. */
export function verdict(r: SimResult): SimVerdict {
  const steps = r.steps;
  const peak = Math.max(...steps.map((s) => s.goodput));
  const at3 = steps[3]!;
  const baseline = steps[0]!.goodput;
  const last = steps.at(-1)!.goodputPerSecond;
  let recovery: number | null = null;
  for (let k = 0; k < last.length; k++) {
    const rest = last.slice(k);
    const mean = rest.reduce((a, b) => a + b, 0) / rest.length;
    if (last[k]! >= 0.9 * baseline && mean >= 0.9 * baseline) {
      recovery = k + 1;
      break;
    }
  }
  return { goodputShareAt3: at3.goodput / peak, p99RatioAt3: at3.admittedP99Ms / Math.max(1e-9, steps[0]!.admittedP99Ms), recoverySeconds: recovery };
}

/** Highest rate (per second, to 2 %) at which the service without a limiter keeps its p99 under `sloMs`. */
export async function simulatedMaxRate(machine: SimMachine, sloMs: number, service?: SimService, seed = 7): Promise<number> {
  const workMs = service?.workMs ?? 4;
  let hi = (1000 / workMs) * Math.min(1, machine.share);
  let lo = hi * 0.1;
  while (hi - lo > hi * 0.02) {
    const mid = (lo + hi) / 2;
    const r = await simulateOverload({ steps: [{ rate: mid, durationMs: 20_000 }], limiter: null, sloMs, machine, ...(service && { service }), seed });
    if (r.steps[0]!.admittedP99Ms < sloMs && r.steps[0]!.timeouts === 0) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** The experiment's levels: [0.5, 1, 2, 3, 4, 0.5] × maxRate, 5 s each and 10 s to recover. */
export function overloadSteps(maxRate: number, stepMs = 5000, recoveryMs = 10_000): SimStep[] {
  const multipliers = [0.5, 1, 2, 3, 4, 0.5];
  return multipliers.map((m, i) => ({ rate: maxRate * m, durationMs: i === multipliers.length - 1 ? recoveryMs : stepMs }));
}

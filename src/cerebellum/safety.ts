import { InputError, loadUrdf, parseUrdf, serialChain } from '../contract/index.js';
import { SerialChainKinematics } from './kinematics.js';
import type { ForwardKinematics, SafetyConfig, SafetyReport } from './types.js';

/**
 * The safety filter: the last stage before any command leaves, whatever produced it (live
 * tokens, replay, simulator, learned stage). `filter()` runs once per control tick and
 * allocates nothing.
 *
 * Each joint's command must lie in the intersection of intervals, one per rule. The rules,
 * in priority order:
 *
 *  (a) non-finite: a NaN/±Inf target component is replaced by the previous command (hold)
 *      and counted; NaN/Inf never pass. (A non-finite measured component is counted too,
 *      and rule (c) is skipped for that joint.)
 *  (b) position: [lower + margin, upper − margin].
 *  (c) step: [measured − maxStep, measured + maxStep] when a measured state is given.
 *  (d) velocity: [prev − vmax·dt, prev + vmax·dt].
 *  (e) acceleration: [prev + (v − amax·dt)·dt, prev + (v + amax·dt)·dt], v the previous
 *      command's velocity; then braking: the velocity v' toward a position limit at
 *      distance d (from prev) satisfies v'² ≤ 2·amax·(d − v'·dt), i.e. a displacement of at
 *      most 2d / (1 + √(1 + 2d/(amax·dt²))), so that after this tick the joint can still stop
 *      before the limit decelerating at amax, whatever the later tick periods; then the same
 *      braking toward the edges of the step window (measured ± maxStep), so that a command
 *      running ahead of a lagging or stale measured state slows down before it reaches the
 *      edge instead of hitting it (counted as step).
 *  (f) workspace: if the end effector of the resulting command is outside the box and
 *      farther from it than the previous command's, the joints hold instead: each takes
 *      the point of its (b)–(e) interval nearest to its previous command (the previous
 *      command itself when the joint is at rest, braking at amax otherwise). Counted once
 *      per tick. A command outside the box that moves back toward it passes.
 *
 * The intervals are intersected in that order. When a rule's interval does not meet the
 * intersection of the rules above it, the higher rules win: the interval shrinks to its
 * point nearest the lower rule's interval. So position limits always hold; the step from
 * the measured state holds whenever the measured state is within (maxStep − margin) of
 * the position range; and when the measured state jumps away from the previous command,
 * (c) beats (d) and (e): the command re-anchors near where the robot really is instead of
 * staying smooth far from it. After such a jump the joint's velocity state restarts from
 * zero (the jump is no velocity of the robot's). The velocity limit holds on every tick
 * whose measured state is within maxStep of the previous command (or absent); the
 * acceleration limit on every tick where, on that tick and the one before, it is within
 * maxStep − vmax·dt − amax·dt² (room for a smooth command) or absent. The property tests
 * in test/cerebellum/safety.test.ts check exactly these statements.
 *
 * The target is finally clamped into the interval. The report counts, per joint, the rule
 * whose bound the target was clamped to (braking before a position limit counts as
 * acceleration, before the step window's edge as step), plus the
 * non-finite components and the workspace holds; `clamped` says whether the output
 * differs from the target at all. A tick with an invalid dt (≤ 0 or non-finite) holds.
 *
 * `onViolation` does not change `filter()`: a command is always clamped. In `reject` mode
 * the controller refuses, before execution, every chunk that `checkChunk()` flags.
 */

const POSITION = 0;
const STEP = 1;
const VELOCITY = 2;
const ACCELERATION = 3;

// Slots of SafetyFilter.iv.
const LO = 0;
const HI = 1;
const A = 2;
const B = 3;

function emptyReport(): SafetyReport {
  return {
    clamped: false,
    position: 0,
    velocity: 0,
    acceleration: 0,
    step: 0,
    workspace: 0,
    nonFinite: 0,
  };
}

/** Sum of a report's violation counts. */
export function violationCount(report: SafetyReport): number {
  return (
    report.position +
    report.velocity +
    report.acceleration +
    report.step +
    report.workspace +
    report.nonFinite
  );
}

export class SafetyFilter {
  readonly joints: number;
  readonly mode: 'clamp' | 'reject';
  /** Position range with the margin applied, per joint. */
  readonly lower: Float64Array;
  readonly upper: Float64Array;
  private readonly maxVelocity: Float64Array;
  private readonly maxAcceleration: Float64Array;
  private readonly maxStep: number;
  private readonly fk: ForwardKinematics | undefined;
  private readonly boxMin: Float64Array;
  private readonly boxMax: Float64Array;

  private readonly prev: Float64Array;
  private readonly prevVelocity: Float64Array;
  private seeded = false;
  /** Each joint's final (b)–(e) interval of the last tick, for the workspace hold. */
  private readonly low: Float64Array;
  private readonly high: Float64Array;
  private readonly ee = new Float64Array(3);
  private readonly scratch: Float64Array;
  private readonly report = emptyReport();
  /** The interval being narrowed [LO, HI] and the next rule's interval [A, B]. */
  private readonly iv = new Float64Array(4);
  /** Which rule set the interval's LO and HI bounds. */
  private readonly rules = new Int8Array(2);
  /** Distances of end-effector positions from the workspace box. */
  private readonly distance = new Float64Array(2);

  /**
   * `fk` maps joint vectors (in `config.limits.names` order) to the end effector's position;
   * without it, one is built from `config.kinematics` when the config has a workspace.
   */
  constructor(config: SafetyConfig, fk?: ForwardKinematics) {
    const source = 'safety config';
    const { limits } = config;
    const n = limits.names.length;
    if (n === 0) throw new InputError(source, 'limits.names', 'names no joints');
    for (const key of ['lower', 'upper', 'maxVelocity', 'maxAcceleration'] as const) {
      if (limits[key].length !== n) {
        throw new InputError(
          source,
          `limits.${key}`,
          `has ${limits[key].length} entries, not ${n}`,
        );
      }
    }
    const margin = config.positionMargin;
    if (!(margin >= 0 && Number.isFinite(margin))) {
      throw new InputError(source, 'positionMargin', 'must be a finite number ≥ 0');
    }
    if (!(config.maxStepFromMeasured > 0)) {
      throw new InputError(source, 'maxStepFromMeasured', 'must be positive');
    }
    this.joints = n;
    this.mode = config.onViolation;
    this.maxStep = config.maxStepFromMeasured;
    this.lower = new Float64Array(n);
    this.upper = new Float64Array(n);
    this.maxVelocity = Float64Array.from(limits.maxVelocity);
    this.maxAcceleration = Float64Array.from(limits.maxAcceleration);
    for (let j = 0; j < n; j++) {
      const name = limits.names[j];
      const lo = (limits.lower[j] as number) + margin;
      const hi = (limits.upper[j] as number) - margin;
      if (!(lo <= hi)) {
        throw new InputError(
          source,
          `limits[${name}]`,
          `the position margin ${margin} leaves no range inside [${limits.lower[j]}, ${limits.upper[j]}]`,
        );
      }
      this.lower[j] = lo;
      this.upper[j] = hi;
      if (!((this.maxVelocity[j] as number) > 0)) {
        throw new InputError(source, `limits[${name}].maxVelocity`, 'must be positive');
      }
      if (!((this.maxAcceleration[j] as number) > 0)) {
        throw new InputError(source, `limits[${name}].maxAcceleration`, 'must be positive');
      }
    }
    this.boxMin = new Float64Array(3);
    this.boxMax = new Float64Array(3);
    if (config.workspace) {
      const { min, max } = config.workspace;
      for (let k = 0; k < 3; k++) {
        if (!((min[k] as number) < (max[k] as number))) {
          throw new InputError(source, `workspace.max[${k}]`, 'must be above workspace.min');
        }
      }
      this.boxMin.set(min);
      this.boxMax.set(max);
      let kinematics = fk;
      if (!kinematics && config.kinematics) {
        const { urdf, xml, base, tip } = config.kinematics;
        const robot = xml === undefined ? loadUrdf(urdf) : parseUrdf(xml, urdf);
        kinematics = new SerialChainKinematics(serialChain(robot, base, tip), {
          jointOrder: limits.names,
        });
      }
      if (!kinematics) {
        throw new InputError(
          source,
          'workspace',
          'needs forward kinematics: give `kinematics` ({urdf, base, tip}) or a ForwardKinematics',
        );
      }
      this.fk = kinematics;
    } else {
      this.fk = undefined;
    }
    this.prev = new Float64Array(n);
    this.prevVelocity = new Float64Array(n);
    this.low = new Float64Array(n);
    this.high = new Float64Array(n);
    this.scratch = new Float64Array(n);
  }

  /** The last command emitted (or seeded by `reset`); a live view, do not modify. */
  get lastCommand(): Float64Array {
    return this.prev;
  }

  /** The velocity state the next tick's acceleration limit starts from; a live view. */
  get lastVelocity(): Float64Array {
    return this.prevVelocity;
  }

  /** Whether `reset` (or a first measured state) has seeded the filter. */
  get isSeeded(): boolean {
    return this.seeded;
  }

  /**
   * Seeds the previous command (clamped into the position range) and velocity (default
   * rest), e.g. from the first measured state.
   */
  reset(position: ArrayLike<number>, velocity?: ArrayLike<number>): void {
    for (let j = 0; j < this.joints; j++) {
      const p = position[j];
      if (!Number.isFinite(p)) {
        throw new InputError('safety filter', `reset.position[${j}]`, `is not finite (${p})`);
      }
    }
    for (let j = 0; j < this.joints; j++) {
      const p = position[j] as number;
      this.prev[j] = clamp(p, this.lower[j] as number, this.upper[j] as number);
      this.prevVelocity[j] = velocity ? (velocity[j] as number) : 0;
      if (!this.velocityAllowed(j)) this.prevVelocity[j] = 0;
    }
    this.seeded = true;
  }

  /**
   * Filters one command: `target` → `out` (which may be `target` itself), with `dt` the
   * seconds since the previous command. `measured` is the robot's present position when
   * known. Without a `reset`, the first measured state seeds the filter. The report is
   * owned by the filter and valid until the next call.
   */
  filter(
    target: Float64Array,
    measured: Float64Array | undefined,
    dt: number,
    out: Float64Array,
  ): SafetyReport {
    const n = this.joints;
    if (!this.seeded) {
      if (!measured) throw new Error('SafetyFilter.filter: call reset() or pass a measured state');
      this.reset(measured);
    }
    const report = this.report;
    report.clamped = false;
    report.position = 0;
    report.velocity = 0;
    report.acceleration = 0;
    report.step = 0;
    report.workspace = 0;
    report.nonFinite = 0;
    const timed = dt > 0 && dt < Number.POSITIVE_INFINITY;
    const step = this.maxStep;
    // Doubles travel through typed arrays, never as arguments of calls that V8 might not
    // inline (those box them: an allocation per call).
    const iv = this.iv;
    for (let j = 0; j < n; j++) {
      const p = this.prev[j] as number;
      const v = this.prevVelocity[j] as number;
      const original = target[j] as number;
      let x = original;
      // (a) non-finite: hold.
      if (!Number.isFinite(x)) {
        x = p;
        report.nonFinite++;
      }
      // (b) position.
      const limitLo = this.lower[j] as number;
      const limitHi = this.upper[j] as number;
      iv[LO] = limitLo;
      iv[HI] = limitHi;
      this.rules[LO] = POSITION;
      this.rules[HI] = POSITION;
      // (c) step from the measured state.
      let m = Number.NaN;
      if (measured) {
        m = measured[j] as number;
        if (Number.isFinite(m)) {
          iv[A] = m - step;
          iv[B] = m + step;
          this.narrow(STEP);
        } else {
          report.nonFinite++;
        }
      }
      if (timed) {
        // (d) velocity.
        const vmax = this.maxVelocity[j] as number;
        if (vmax < Number.POSITIVE_INFINITY) {
          iv[A] = p - vmax * dt;
          iv[B] = p + vmax * dt;
          this.narrow(VELOCITY);
        }
        // (e) acceleration; braking before the position limits; braking before the edges of
        // the step window. Braking toward a bound at distance d allows at most
        // 2d / (1 + √(1 + 2d/(amax·dt²))) this tick (see the top of this file).
        const amax = this.maxAcceleration[j] as number;
        if (amax < Number.POSITIVE_INFINITY) {
          const reach = Math.max(amax * dt * dt, Number.MIN_VALUE);
          iv[A] = p + v * dt - reach;
          iv[B] = p + v * dt + reach;
          this.narrow(ACCELERATION);
          const down = p - limitLo;
          const up = limitHi - p;
          iv[A] =
            down < Number.POSITIVE_INFINITY
              ? p - (2 * down) / (1 + Math.sqrt(1 + (2 * down) / reach))
              : Number.NEGATIVE_INFINITY;
          iv[B] =
            up < Number.POSITIVE_INFINITY
              ? p + (2 * up) / (1 + Math.sqrt(1 + (2 * up) / reach))
              : Number.POSITIVE_INFINITY;
          this.narrow(ACCELERATION);
          if (Number.isFinite(m) && step < Number.POSITIVE_INFINITY) {
            const behind = Math.max(0, p - (m - step));
            const ahead = Math.max(0, m + step - p);
            iv[A] = p - (2 * behind) / (1 + Math.sqrt(1 + (2 * behind) / reach));
            iv[B] = p + (2 * ahead) / (1 + Math.sqrt(1 + (2 * ahead) / reach));
            this.narrow(STEP);
          }
        }
      } else {
        // No time has passed: hold (as far as the rules above allow).
        iv[A] = p;
        iv[B] = p;
        this.narrow(VELOCITY);
      }
      const lo = iv[LO] as number;
      const hi = iv[HI] as number;
      this.low[j] = lo;
      this.high[j] = hi;
      let y = x;
      if (x < lo) {
        y = lo;
        this.count(this.rules[LO] as number);
      } else if (x > hi) {
        y = hi;
        this.count(this.rules[HI] as number);
      }
      out[j] = y;
      if (y !== original) report.clamped = true;
    }

    // (f) workspace.
    const fk = this.fk;
    if (fk) {
      this.measureBox(fk.endEffectorPosition(out, this.ee), 0);
      const outside = (this.distance[0] as number) > 0;
      if (outside) this.measureBox(fk.endEffectorPosition(this.prev, this.ee), 1);
      if (outside && (this.distance[0] as number) > (this.distance[1] as number)) {
        for (let j = 0; j < n; j++) {
          // The point of the joint's (b)–(e) interval nearest its previous command.
          let q = this.prev[j] as number;
          if (q < (this.low[j] as number)) q = this.low[j] as number;
          else if (q > (this.high[j] as number)) q = this.high[j] as number;
          out[j] = q;
        }
        report.workspace++;
        report.clamped = true;
      }
    }

    for (let j = 0; j < n; j++) {
      const y = out[j] as number;
      if (timed) {
        this.prevVelocity[j] = (y - (this.prev[j] as number)) / dt;
        this.prev[j] = y;
        // A velocity beyond what the limits allow comes from a jump that rule (c) forced
        // (the measured state moved away): restart that joint's velocity state from rest.
        if (!this.velocityAllowed(j)) this.prevVelocity[j] = 0;
      } else {
        this.prev[j] = y;
      }
    }
    return report;
  }

  /**
   * Checks a whole chunk (H steps × J joints, step-major) without changing anything: counts
   * non-finite values, positions outside the range (margin included) and steps whose end
   * effector leaves the workspace box. `clamped` is true when anything was found: in
   * `reject` mode the controller refuses such a chunk.
   */
  checkChunk(chunk: Float64Array): SafetyReport {
    const n = this.joints;
    if (chunk.length % n !== 0) {
      throw new RangeError(`SafetyFilter.checkChunk: ${chunk.length} values are not steps of ${n}`);
    }
    const report = emptyReport();
    const q = this.scratch;
    for (let s = 0; s < chunk.length; s += n) {
      let finite = true;
      for (let j = 0; j < n; j++) {
        const x = chunk[s + j] as number;
        q[j] = x;
        if (!Number.isFinite(x)) {
          report.nonFinite++;
          finite = false;
        } else if (x < (this.lower[j] as number) || x > (this.upper[j] as number)) {
          report.position++;
        }
      }
      if (finite && this.fk) {
        this.measureBox(this.fk.endEffectorPosition(q, this.ee), 0);
        if ((this.distance[0] as number) > 0) report.workspace++;
      }
    }
    report.clamped = violationCount(report) > 0;
    return report;
  }

  /**
   * Intersects the interval [iv[LO], iv[HI]] with [iv[A], iv[B]]; if they do not meet, the
   * current interval wins and shrinks to its point nearest the other.
   */
  private narrow(rule: number): void {
    const iv = this.iv;
    const a = iv[A] as number;
    const b = iv[B] as number;
    if (a > (iv[HI] as number)) {
      iv[LO] = iv[HI] as number;
      this.rules[LO] = this.rules[HI] as number;
    } else if (b < (iv[LO] as number)) {
      iv[HI] = iv[LO] as number;
      this.rules[HI] = this.rules[LO] as number;
    } else {
      if (a > (iv[LO] as number)) {
        iv[LO] = a;
        this.rules[LO] = rule;
      }
      if (b < (iv[HI] as number)) {
        iv[HI] = b;
        this.rules[HI] = rule;
      }
    }
  }

  private count(rule: number): void {
    const report = this.report;
    if (rule === POSITION) report.position++;
    else if (rule === STEP) report.step++;
    else if (rule === VELOCITY) report.velocity++;
    else report.acceleration++;
  }

  /**
   * Whether the velocity state of joint j (at its previous command) is within what the
   * limits allow: |v| ≤ vmax, and the braking bound v² ≤ 2·amax·d toward the position limit
   * it moves to. The slack covers rounding: 1e-9 relative, and a few ulps of the position in
   * d (near a limit, where d is a few ulps, the bound is that sensitive).
   */
  private velocityAllowed(j: number): boolean {
    const q = this.prev[j] as number;
    const v = this.prevVelocity[j] as number;
    if (!Number.isFinite(v)) return false;
    if (Math.abs(v) > (this.maxVelocity[j] as number) * (1 + 1e-9)) return false;
    const amax = this.maxAcceleration[j] as number;
    if (!(amax < Number.POSITIVE_INFINITY) || v === 0) return true;
    const resolution = 8 * Number.EPSILON * Math.max(1, Math.abs(q));
    const distance = v > 0 ? (this.upper[j] as number) - q : q - (this.lower[j] as number);
    return v * v <= 2 * amax * (Math.max(0, distance) + resolution) * (1 + 1e-9);
  }

  /** Distance from p to the workspace box (0 inside, ∞ for a non-finite p) into distance[slot]. */
  private measureBox(p: Float64Array, slot: number): void {
    let sum = 0;
    for (let k = 0; k < 3; k++) {
      const x = p[k] as number;
      const d = Math.max((this.boxMin[k] as number) - x, x - (this.boxMax[k] as number), 0);
      sum += d * d;
    }
    this.distance[slot] = Number.isFinite(sum) ? Math.sqrt(sum) : Number.POSITIVE_INFINITY;
  }
}

function clamp(value: number, lo: number, hi: number): number {
  return Math.min(Math.max(value, lo), hi);
}

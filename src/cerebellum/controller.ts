import type { Interpolation } from './interpolation.js';
import { type Blending, ChunkScheduler } from './scheduler.js';
import { ChunkSmoother } from './smoothing.js';
import type { ControllerMode, SafetyReport } from './types.js';

/** What the controller needs of the safety filter (src/cerebellum/safety.ts). */
export interface SafetyStage {
  reset(position: Float64Array): void;
  filter(
    target: Float64Array,
    measured: Float64Array | undefined,
    dt: number,
    out: Float64Array,
  ): SafetyReport;
  checkChunk(chunk: Float64Array): SafetyReport;
}

export interface ControllerOptions {
  horizon: number;
  joints: number;
  /** Seconds between chunk steps (the ActionSpec's dt). */
  dt: number;
  interpolation: Interpolation;
  blending: Blending;
  /** Seconds in which a hold or e-stop brings the joints to rest (longer if limits demand). */
  stoppingTimeS: number;
  maxAcceleration: Float64Array;
  /** Refuse a whole chunk when any step violates the limits (safety `onViolation: reject`). */
  rejectViolatingChunks: boolean;
  /** Degree of the least-squares polynomial each chunk is smoothed to; none when absent. */
  smoothingDegree?: number;
  /**
   * Bandwidth (Hz) of the tracker between the chunk and the safety filter; when absent the
   * chunk's value is handed to the filter as it is.
   */
  trackingBandwidthHz?: number;
  /**
   * Where a hold or e-stop brings the command: to rest where it is (arms), or to zero (a
   * base's speeds: stopping means commanding zero, ramped by the filter's rate limits).
   */
  restAtZero?: boolean;
}

/** A speed this small (1e-4 m/s or rad/s) is rest: the last step to zero is taken at once. */
const REST_SNAP = 1e-4;

/**
 * The share of a joint's acceleration limit the tracker plans to brake with: the rest is the
 * margin for a discrete tick's late start and for the target moving meanwhile.
 */
const BRAKING_SHARE = 0.8;

export type IngestResult = 'accepted' | 'expired' | 'rejected' | 'estopped';

export interface TickOutput {
  position: Float64Array;
  velocity: Float64Array;
  mode: ControllerMode;
  /** Sequence of the newest chunk in use, -1 when none. */
  chunkSeq: number;
  report: SafetyReport | undefined;
  /** Largest |command − target| over the joints: how far the safety filter moved it. */
  correction: number;
}

/** A TickOutput for `joints` joints, to be filled by `Controller.tick` (allocated once). */
export function newTickOutput(joints: number): TickOutput {
  return {
    position: new Float64Array(joints),
    velocity: new Float64Array(joints),
    mode: 'hold',
    chunkSeq: -1,
    report: undefined,
    correction: 0,
  };
}

/**
 * One control tick: the present's target from the scheduled chunks (run), or a braking
 * profile to rest when no valid chunk covers the present (hold, the watchdog) or an e-stop
 * is latched (estop); then the safety filter, always last. Allocation-free per tick.
 */
export class Controller {
  private readonly scheduler: ChunkScheduler;
  private readonly smoother: ChunkSmoother | undefined;
  private readonly incoming: Float64Array;
  private readonly target: Float64Array;
  private readonly last: Float64Array;
  private readonly velocity: Float64Array;
  private readonly brake: Float64Array;
  private readonly measured: Float64Array;
  private readonly previousTarget: Float64Array;
  private hasPreviousTarget = false;
  private hasMeasured = false;
  private initialized = false;
  private currentMode: ControllerMode = 'hold';
  private estopReason = '';
  private lastTick = Number.NaN;

  constructor(
    private readonly options: ControllerOptions,
    private readonly safety: SafetyStage,
  ) {
    const { joints } = options;
    this.scheduler = new ChunkScheduler(
      options.horizon,
      joints,
      options.dt,
      options.interpolation,
      options.blending,
    );
    this.smoother =
      options.smoothingDegree === undefined
        ? undefined
        : new ChunkSmoother(options.horizon, joints, options.smoothingDegree);
    this.incoming = new Float64Array(options.horizon * joints);
    this.target = new Float64Array(joints);
    this.last = new Float64Array(joints);
    this.velocity = new Float64Array(joints);
    this.brake = new Float64Array(joints);
    this.measured = new Float64Array(joints);
    this.previousTarget = new Float64Array(joints);
  }

  get mode(): ControllerMode {
    return this.currentMode;
  }

  get isInitialized(): boolean {
    return this.initialized;
  }

  get estopCause(): string {
    return this.estopReason;
  }

  /** Starts from a known position at rest (the first measured state, normally). */
  initialize(position: Float64Array): void {
    this.last.set(position);
    this.velocity.fill(0);
    this.safety.reset(position);
    this.initialized = true;
  }

  setMeasured(position: Float64Array): void {
    this.measured.set(position);
    this.hasMeasured = true;
  }

  ingest(seq: number, start: number, values: Float64Array, now: number): IngestResult {
    if (this.currentMode === 'estop') return 'estopped';
    if (this.options.rejectViolatingChunks) {
      const report = this.safety.checkChunk(values);
      if (report.clamped) return 'rejected';
    }
    let chunk = values;
    if (this.smoother) {
      this.incoming.set(values);
      this.smoother.smooth(this.incoming);
      chunk = this.incoming;
    }
    return this.scheduler.ingest(seq, start, chunk, now) ? 'accepted' : 'expired';
  }

  /** Latches HOLD with a braking stop until `reset()`. */
  estop(reason: string): void {
    if (this.currentMode !== 'estop') this.beginBraking();
    this.currentMode = 'estop';
    this.estopReason = reason;
    this.scheduler.clear();
  }

  /** The explicit reset an e-stop waits for; chunks from before it are gone. */
  reset(): void {
    if (this.currentMode !== 'estop') return;
    this.currentMode = 'hold';
    this.estopReason = '';
  }

  /** Computes the command for controller time `t` (s); false until initialized. */
  tick(t: number, out: TickOutput): boolean {
    if (!this.initialized) return false;
    const dt = Number.isFinite(this.lastTick) ? t - this.lastTick : 0;
    this.lastTick = t;
    const covered = this.currentMode !== 'estop' && this.scheduler.sample(t, this.target);
    if (covered) {
      this.currentMode = 'run';
      if (dt > 0 && this.options.trackingBandwidthHz !== undefined)
        this.track(dt, this.options.trackingBandwidthHz);
    } else {
      this.hasPreviousTarget = false;
      if (this.currentMode === 'run') {
        this.currentMode = 'hold';
        this.beginBraking();
      }
      this.brakingTarget(dt);
    }
    out.mode = this.currentMode;
    out.chunkSeq = covered ? this.scheduler.newestCovering(t) : -1;
    if (dt <= 0) {
      // First tick: nothing to rate-limit against yet; hold where we are.
      out.position.set(this.last);
      out.velocity.fill(0);
      out.report = undefined;
      out.correction = 0;
      return true;
    }
    out.report = this.safety.filter(
      this.target,
      this.hasMeasured ? this.measured : undefined,
      dt,
      out.position,
    );
    out.correction = 0;
    for (let j = 0; j < this.options.joints; j++) {
      const moved = Math.abs((out.position[j] as number) - (this.target[j] as number));
      if (moved > out.correction) out.correction = moved;
      const v = ((out.position[j] as number) - (this.last[j] as number)) / dt;
      this.velocity[j] = v;
      out.velocity[j] = v;
    }
    this.last.set(out.position);
    return true;
  }

  /**
   * A critically damped second-order tracker with velocity feed-forward: the command
   * accelerates toward the chunk's position and velocity (ω² on the position error, 2ω on
   * the velocity error), so it joins a chunk from wherever the arm is without overshoot
   * and then follows it with no steady lag. Without it the safety filter alone would be
   * the tracker: clamping toward a target it lags overshoots and rings for seconds. The
   * filter still bounds whatever this asks for.
   *
   * A far target (a jump the joint cannot make at ω) would have the tracker brake later than
   * the filter's acceleration limit allows, and overshoot by up to a third of the jump; so
   * the speed toward the target is also kept within what can still stop on it:
   * √(2·share·a_max·|error|).
   */
  private track(dt: number, bandwidthHz: number): void {
    const w = 2 * Math.PI * bandwidthHz;
    for (let j = 0; j < this.options.joints; j++) {
      const x = this.target[j] as number;
      const vTarget = this.hasPreviousTarget ? (x - (this.previousTarget[j] as number)) / dt : 0;
      this.previousTarget[j] = x;
      const last = this.last[j] as number;
      const v = this.velocity[j] as number;
      const error = x - last;
      const a = w * w * error + 2 * w * (vTarget - v);
      let next = v + a * dt;
      const closing = next - vTarget;
      const stoppable = Math.sqrt(
        2 * BRAKING_SHARE * (this.options.maxAcceleration[j] as number) * Math.abs(error),
      );
      if (closing * error > 0 && Math.abs(closing) > stoppable) {
        next = vTarget + Math.sign(closing) * stoppable;
      }
      this.target[j] = last + next * dt;
    }
    this.hasPreviousTarget = true;
  }

  /** Deceleration per joint that stops the current velocity in the stopping time. */
  private beginBraking(): void {
    for (let j = 0; j < this.options.joints; j++) {
      const needed = Math.abs(this.velocity[j] as number) / this.options.stoppingTimeS;
      this.brake[j] = Math.min(needed, this.options.maxAcceleration[j] as number);
    }
  }

  private brakingTarget(dt: number): void {
    if (this.options.restAtZero) {
      // A base stops by commanding zero; the tracker (when there is one) makes that smooth.
      this.target.fill(0);
      if (dt > 0 && this.options.trackingBandwidthHz !== undefined)
        this.track(dt, this.options.trackingBandwidthHz);
      // The tracker only approaches zero; a base must end at exactly zero.
      for (let j = 0; j < this.options.joints; j++) {
        if (Math.abs(this.target[j] as number) < REST_SNAP) this.target[j] = 0;
      }
      return;
    }
    for (let j = 0; j < this.options.joints; j++) {
      let v = this.velocity[j] as number;
      const dv = Math.min(Math.abs(v), (this.brake[j] as number) * dt);
      v -= Math.sign(v) * dv;
      // A joint that cannot slow by its braking rate (limit 0 or no velocity) comes to rest.
      if (!((this.brake[j] as number) > 0)) v = 0;
      this.velocity[j] = v;
      this.target[j] = (this.last[j] as number) + v * dt;
    }
  }
}

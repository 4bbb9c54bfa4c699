import { type Interpolation, sampleChunk } from './interpolation.js';

/**
 * How a new chunk that overlaps the one being executed takes over:
 * - `latest`: at once;
 * - `crossfade`: linearly, over `windowS` seconds from its arrival;
 * - `ensemble`: ACT's temporal ensembling: every chunk covering the present contributes,
 *   weighted exp(−decay·i) with i = 0 for the oldest, so a new prediction joins smoothly.
 * Whichever policy, the safety filter's velocity and acceleration limits come after, so
 * the commanded position never jumps.
 */
export type Blending =
  | { policy: 'latest' }
  | { policy: 'crossfade'; windowS: number }
  | { policy: 'ensemble'; decay: number };

interface Slot {
  seq: number;
  /** Controller time (s) at which step 0 is due: the observation stamp. */
  start: number;
  /** Controller time (s) at which the chunk arrived. */
  arrived: number;
  values: Float64Array;
  used: boolean;
}

/**
 * Time-aligned chunk execution: step k of a chunk is due at its observation stamp plus
 * k·dt, not at its arrival, so the brain's latency is compensated by sampling the chunk
 * at the present (steps already past are never executed). Keeps the last few chunks in a
 * ring; allocation-free after construction.
 */
export class ChunkScheduler {
  private readonly slots: Slot[];
  private next = 0;
  private readonly span: number;
  private readonly scratch: Float64Array;

  constructor(
    readonly horizon: number,
    readonly joints: number,
    readonly dt: number,
    private readonly interpolation: Interpolation,
    private readonly blending: Blending,
    capacity = 8,
  ) {
    this.span = (horizon - 1) * dt;
    this.scratch = new Float64Array(joints);
    this.slots = Array.from({ length: capacity }, () => ({
      seq: -1,
      start: 0,
      arrived: 0,
      values: new Float64Array(horizon * joints),
      used: false,
    }));
  }

  /**
   * Takes a chunk (H×J physical values, step-major) whose step 0 is due at `start`.
   * Returns false, keeping nothing, when its last step is already past at `now`.
   */
  ingest(seq: number, start: number, values: Float64Array, now: number): boolean {
    if (start + this.span < now) return false;
    const slot = this.slots[this.next] as Slot;
    this.next = (this.next + 1) % this.slots.length;
    slot.seq = seq;
    slot.start = start;
    slot.arrived = now;
    slot.values.set(values);
    slot.used = true;
    return true;
  }

  clear(): void {
    for (const slot of this.slots) slot.used = false;
  }

  /** Sequence number of the newest chunk covering `t`, or -1. */
  newestCovering(t: number): number {
    const slot = this.newest(t, 0);
    return slot ? slot.seq : -1;
  }

  /** Writes the blended target at `t` into `out`; false when no chunk covers `t`. */
  sample(t: number, out: Float64Array): boolean {
    const newest = this.newest(t, 0);
    if (!newest) return false;
    switch (this.blending.policy) {
      case 'latest':
        this.sampleSlot(newest, t, out);
        return true;
      case 'crossfade':
        return this.crossfade(newest, t, this.blending.windowS, out);
      case 'ensemble':
        return this.ensemble(t, this.blending.decay, out);
    }
  }

  private covers(slot: Slot, t: number): boolean {
    return slot.used && t >= slot.start && t <= slot.start + this.span;
  }

  /** The `skip`-th newest chunk covering `t` (0 = newest). */
  private newest(t: number, skip: number): Slot | undefined {
    const n = this.slots.length;
    let seen = 0;
    for (let i = 1; i <= n; i++) {
      const slot = this.slots[(this.next - i + n) % n] as Slot;
      if (this.covers(slot, t) && seen++ === skip) return slot;
    }
    return undefined;
  }

  private sampleSlot(slot: Slot, t: number, out: Float64Array): void {
    sampleChunk(
      slot.values,
      this.horizon,
      this.joints,
      this.dt,
      t - slot.start,
      this.interpolation,
      out,
    );
  }

  private crossfade(newest: Slot, t: number, window: number, out: Float64Array): boolean {
    this.sampleSlot(newest, t, out);
    const w = window > 0 ? (t - newest.arrived) / window : 1;
    const previous = this.newest(t, 1);
    if (w >= 1 || !previous) return true;
    this.sampleSlot(previous, t, this.scratch);
    const a = Math.max(w, 0);
    for (let j = 0; j < this.joints; j++) {
      out[j] = (1 - a) * (this.scratch[j] as number) + a * (out[j] as number);
    }
    return true;
  }

  private ensemble(t: number, decay: number, out: Float64Array): boolean {
    out.fill(0);
    let total = 0;
    let age = 0;
    // Oldest first: weight exp(−decay·i), i counting up from the oldest covering chunk.
    const n = this.slots.length;
    for (let i = n; i >= 1; i--) {
      const slot = this.slots[(this.next - i + n) % n] as Slot;
      if (!this.covers(slot, t)) continue;
      const weight = Math.exp(-decay * age++);
      this.sampleSlot(slot, t, this.scratch);
      for (let j = 0; j < this.joints; j++)
        out[j] = (out[j] as number) + weight * (this.scratch[j] as number);
      total += weight;
    }
    for (let j = 0; j < this.joints; j++) out[j] = (out[j] as number) / total;
    return total > 0;
  }
}

import { setTimeout as sleep } from 'node:timers/promises';
import { InputError } from '../contract/index.js';

/**
 * Sim time in integer nanoseconds (ARCHITECTURE: stamps are int64 ns): physics runs in
 * whole ticks of a fixed period, and a request that ends between ticks carries its
 * remainder to the next one, so any sequence of `advance` calls adding up to T runs the
 * same ticks as one call of T.
 */
export class SimClock {
  readonly periodNs: bigint;
  /** The tick period in seconds, as the physics integrates it. */
  readonly periodSeconds: number;
  private ticks = 0n;
  private pendingNs = 0n;

  constructor(rateHz: number) {
    this.periodNs = BigInt(Math.round(1e9 / rateHz));
    this.periodSeconds = Number(this.periodNs) / 1e9;
  }

  /** Time of the physics state: whole ticks since reset. */
  get timeNs(): bigint {
    return this.ticks * this.periodNs;
  }

  reset(): void {
    this.ticks = 0n;
    this.pendingNs = 0n;
  }

  /** Advances the requested time by `dtSeconds` and returns how many ticks are now due. */
  advance(dtSeconds: number, source: string): number {
    if (!Number.isFinite(dtSeconds) || dtSeconds < 0 || dtSeconds > 3600) {
      throw new InputError(source, 'dt', `must be from 0 to 3600 s, got ${dtSeconds}`);
    }
    this.pendingNs += BigInt(Math.round(dtSeconds * 1e9));
    const due = this.pendingNs / this.periodNs;
    this.pendingNs -= due * this.periodNs;
    this.ticks += due;
    return Number(due);
  }
}

/** What the run helpers drive: the Simulator. */
export interface Steppable {
  step(dtSeconds: number): number;
  readonly physicsPeriodSeconds: number;
}

/**
 * Runs up to `seconds` of sim time as fast as the CPU allows, one physics tick at a time;
 * `beforeTick` (set targets, record) runs before each tick, and returning true stops the
 * run. Returns the ticks run.
 */
export function runFast(
  sim: Steppable,
  seconds: number,
  beforeTick?: (tick: number) => unknown,
): number {
  const ticks = Math.round(seconds / sim.physicsPeriodSeconds);
  for (let tick = 0; tick < ticks; tick++) {
    if (beforeTick?.(tick) === true) return tick;
    sim.step(sim.physicsPeriodSeconds);
  }
  return ticks;
}

/**
 * Runs `seconds` of sim time paced to the wall clock (`speed` sim seconds per wall second),
 * in slices of `sliceSeconds`; `afterSlice` runs after each (render, publish).
 */
export async function runPaced(
  sim: Steppable,
  seconds: number,
  options: { speed?: number; sliceSeconds?: number; afterSlice?: () => void } = {},
): Promise<void> {
  const { speed = 1, sliceSeconds = 0.01, afterSlice } = options;
  const start = process.hrtime.bigint();
  const slices = Math.round(seconds / sliceSeconds);
  for (let i = 1; i <= slices; i++) {
    sim.step(sliceSeconds);
    afterSlice?.();
    const dueNs = (i * sliceSeconds * 1e9) / speed;
    const aheadMs = (dueNs - Number(process.hrtime.bigint() - start)) / 1e6;
    if (aheadMs > 0) await sleep(aheadMs);
  }
}

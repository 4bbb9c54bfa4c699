/**
 * A drift-free periodic clock for the control thread. Tick k is due at start + k·period
 * (absolute deadlines, so lateness never accumulates). Between ticks the thread sleeps in
 * Atomics.wait (a futex, no event loop, no timers) until `spinNs` before the deadline, then
 * spins the rest: the kernel's wake-up latency is absorbed by the spin, not by the tick.
 * A tick that starts more than a period late skips the deadlines it missed (counted), so
 * the loop never bursts to catch up.
 */
export interface ClockTick {
  index: number;
  /** Monotonic ns when this tick was due and when it actually started. */
  dueNs: bigint;
  startNs: bigint;
}

export interface ClockOptions {
  periodNs: bigint;
  spinNs: bigint;
  /** Monotonic ns of tick 0. */
  startNs: bigint;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

export class PeriodicClock {
  private index = 0;
  skipped = 0;

  constructor(private readonly options: ClockOptions) {}

  /** Blocks until the next tick is due and returns it. */
  next(): ClockTick {
    const { periodNs, spinNs, startNs } = this.options;
    let due = startNs + BigInt(this.index) * periodNs;
    let now = process.hrtime.bigint();
    if (now - due > periodNs) {
      const missed = (now - due) / periodNs;
      this.index += Number(missed);
      this.skipped += Number(missed);
      due = startNs + BigInt(this.index) * periodNs;
    }
    const sleepNs = due - now - spinNs;
    if (sleepNs > 0n) Atomics.wait(sleeper, 0, 0, Number(sleepNs) / 1e6);
    now = process.hrtime.bigint();
    while (now < due) now = process.hrtime.bigint();
    return { index: this.index++, dueNs: due, startNs: now };
  }
}

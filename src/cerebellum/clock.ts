/**
 * A drift-free periodic clock for the control thread. Tick k is due at start + k·period
 * (absolute deadlines, so lateness never accumulates). Between ticks the thread sleeps in
 * Atomics.wait (a futex: no event loop, no timers) until `spinMs` before the deadline,
 * then spins the rest, so the kernel's wake-up latency is absorbed by the spin instead of
 * delaying the tick. A tick that starts more than a period late skips the deadlines it
 * missed (counted), so the loop never bursts to catch up.
 *
 * Time is `performance.now()`. On Node 20 each call allocates a little (it goes through
 * process.hrtime()), and a spin that read the clock back to back would feed the young
 * generation millions of times a second, each scavenge a late tick; so the spin reads it
 * only every ~1 µs of arithmetic.
 */
export interface ClockTick {
  index: number;
  /** performance.now() ms at which the tick was due and at which it started. */
  dueMs: number;
  startMs: number;
}

export interface ClockOptions {
  periodMs: number;
  spinMs: number;
  /** performance.now() of tick 0. */
  startMs: number;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
/** Arithmetic between clock reads while spinning (~1 µs); the result is kept so it runs. */
const SPIN_STEPS = 400;
let spinSink = 0;

function spinBriefly(): void {
  let x = spinSink;
  for (let i = 0; i < SPIN_STEPS; i++) x = x * 0.999999 + 1;
  spinSink = x;
}

export class PeriodicClock {
  private index = 0;
  skipped = 0;
  private readonly tick: ClockTick = { index: 0, dueMs: 0, startMs: 0 };

  constructor(private readonly options: ClockOptions) {}

  /** Blocks until the next tick is due; the returned object is reused by the next call. */
  next(): ClockTick {
    const { periodMs, spinMs, startMs } = this.options;
    let due = startMs + this.index * periodMs;
    let now = performance.now();
    if (now - due > periodMs) {
      const missed = Math.floor((now - due) / periodMs);
      this.index += missed;
      this.skipped += missed;
      due = startMs + this.index * periodMs;
    }
    const sleep = due - now - spinMs;
    if (sleep > 0) Atomics.wait(sleeper, 0, 0, sleep);
    now = performance.now();
    while (now < due) {
      spinBriefly();
      now = performance.now();
    }
    this.tick.index = this.index++;
    this.tick.dueMs = due;
    this.tick.startMs = now;
    return this.tick;
  }
}

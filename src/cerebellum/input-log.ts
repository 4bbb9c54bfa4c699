/**
 * What a replay of the control thread needs besides its setup, through shared memory: the tick
 * that applied each input (chunk, measured state, e-stop, reset) the main thread sent, in the
 * order sent, and the ticks the control clock skipped when it ran late. The control thread
 * writes an entry and bumps a counter (no allocation, no message on the control thread); the
 * main thread reads the new entries when it reads commands. With the setup and tick 0's epoch
 * time these reproduce every command exactly, offline (`pons replay --verify`). If the main
 * thread falls more than a log behind, the oldest entries are overwritten and counted as lost
 * by the reader.
 *
 * Entry layout (two float64): an input's [tick, -1], or skipped ticks' [first, count].
 */
export type InputLogEntry =
  | { kind: 'input'; tick: number }
  | { kind: 'skip'; first: number; count: number };

export class InputLog {
  private readonly counter: Int32Array;
  private readonly entries: Float64Array;

  constructor(
    readonly slots: number,
    readonly buffers: { counter: SharedArrayBuffer; entries: SharedArrayBuffer } = {
      counter: new SharedArrayBuffer(4),
      entries: new SharedArrayBuffer(16 * slots),
    },
  ) {
    this.counter = new Int32Array(buffers.counter);
    this.entries = new Float64Array(buffers.entries);
  }

  /** Control thread: the next input was applied at `tick`. */
  applied(tick: number): void {
    this.write(tick, -1);
  }

  /** Control thread: ticks `first` … `first + count − 1` never ran. */
  skipped(first: number, count: number): void {
    this.write(first, count);
  }

  get written(): number {
    return Atomics.load(this.counter, 0);
  }

  /** Main thread: entry `n` (valid while fewer than `slots` newer were written). */
  read(n: number): InputLogEntry {
    const base = (n % this.slots) * 2;
    const a = this.entries[base] as number;
    const b = this.entries[base + 1] as number;
    return b < 0 ? { kind: 'input', tick: a } : { kind: 'skip', first: a, count: b };
  }

  private write(a: number, b: number): void {
    const written = Atomics.load(this.counter, 0);
    const base = (written % this.slots) * 2;
    this.entries[base] = a;
    this.entries[base + 1] = b;
    Atomics.store(this.counter, 0, written + 1);
  }
}

import type { ControllerOptions } from './controller.js';
import type { ControllerMode, SafetyConfig } from './types.js';

/** Messages between the main thread and the control thread (control-worker.ts). */

export interface WorkerConfig {
  controller: Omit<ControllerOptions, 'maxAcceleration'> & { maxAcceleration: number[] };
  safety: SafetyConfig;
  rateHz: number;
  /** Sleep until this long before each deadline, then spin (µs). */
  spinUs: number;
  /** epoch ns − monotonic ns, from the main thread, so both threads stamp alike. */
  epochOffsetNs: string;
  /** Start position when known without a measured state (open loop). */
  initial?: number[];
  /** Ticks whose lateness is kept for statistics. */
  maxTicks?: number;
  /** How often the main thread is woken to hand commands to the sinks (Hz). */
  sinkRateHz: number;
  /** Shared memory of the command ring (see command-ring.ts). */
  ring: { slots: number; notifyEvery: number; counter: SharedArrayBuffer; data: SharedArrayBuffer };
  /** Shared memory of the input log (see input-log.ts), when the main thread records inputs. */
  inputLog?: { slots: number; counter: SharedArrayBuffer; entries: SharedArrayBuffer };
}

/** What configures a controller and its safety filter: all a replay needs besides the inputs. */
export type ControlSetup = Pick<WorkerConfig, 'controller' | 'safety' | 'rateHz' | 'initial'>;

export type ToControl =
  | { type: 'chunk'; seq: number; obsNs: bigint; values: Float64Array }
  | { type: 'measured'; position: Float64Array }
  | { type: 'estop'; reason: string }
  | { type: 'reset' }
  | { type: 'stop' };

/** The messages that change the controller's state (all but `stop`). */
export type ControlInput = Exclude<ToControl, { type: 'stop' }>;

export interface ControlCommand {
  index: number;
  /** Epoch ns at which this command was due. */
  stampNs: bigint;
  position: Float64Array;
  velocity: Float64Array;
  mode: ControllerMode;
  chunkSeq: number;
  /** Largest change the safety filter made to this command (rad or m). */
  correction: number;
}

/** Sent once when the loop starts: epoch ns at which tick 0 is due. */
export interface ControlStarted {
  type: 'started';
  epochStartNs: string;
}

export type ControlEvent =
  | { type: 'event'; event: 'expired' | 'rejected' | 'estopped'; seq: number }
  | { type: 'event'; event: 'estop'; reason: string }
  | { type: 'event'; event: 'reset' };

export interface ControlStats {
  type: 'stats';
  ticks: number;
  skipped: number;
  /** Per tick: ns between when it was due and when it started. */
  lateNs: Float64Array;
}

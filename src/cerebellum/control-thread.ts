import { Worker } from 'node:worker_threads';
import { CommandRing } from './command-ring.js';
import type {
  ControlCommand,
  ControlEvent,
  ControlInput,
  ControlStarted,
  ControlStats,
  ToControl,
  WorkerConfig,
} from './control-protocol.js';
import { InputLog } from './input-log.js';

const WORKER = new URL('./control-worker.js', import.meta.url);

/** Ring slots: two seconds at 1 kHz, far more than the main thread ever falls behind. */
const RING_SLOTS = 2048;
/** Input log slots: inputs arrive far slower than ticks, so this is many seconds of them. */
const INPUT_LOG_SLOTS = 4096;

/** An input the control thread applied: at which tick, and its number among all inputs sent. */
export interface AppliedInput {
  input: ControlInput;
  tick: number;
  index: number;
  /** Epoch ns at which the applying tick was due. */
  stampNs: bigint;
}

/** Ticks the control clock skipped (it ran late): `first` … `first + count − 1` never ran. */
export interface SkippedTicks {
  first: number;
  count: number;
  stampNs: bigint;
}

/**
 * The main thread's handle on the control thread: hands it chunks, measured states and
 * e-stops (never blocking: the worker picks messages up at its next tick), and reads its
 * commands from shared memory as they are written.
 */
export class ControlThread {
  private commandHandler: (command: ControlCommand) => void = () => {};
  private eventHandler: (event: ControlEvent) => void = () => {};
  private startedHandler: (epochStartNs: bigint) => void = () => {};
  private appliedHandler: (applied: AppliedInput) => void = () => {};
  private skippedHandler: (skipped: SkippedTicks) => void = () => {};
  /** Inputs sent and not yet seen in the input log, oldest first; `pendingFrom` numbers the first. */
  private readonly pending: ControlInput[] = [];
  /** Inputs applied so far, and input log entries read so far. */
  private inputsApplied = 0;
  private logRead = 0;
  private readonly stats: Promise<ControlStats>;
  private readonly exited: Promise<number>;
  private epochStartNs: bigint | undefined;
  private seen = 0;
  private running = true;
  /** Commands overwritten before the main thread read them. */
  missed = 0;
  /** The input log was overwritten before the main thread read it: inputs are no longer logged. */
  inputLogLapped = false;

  private constructor(
    private readonly worker: Worker,
    private readonly ring: CommandRing,
    private readonly inputLog: InputLog | undefined,
    private readonly periodMs: number,
  ) {
    this.stats = new Promise((resolve) => {
      worker.on('message', (message: ControlEvent | ControlStarted | ControlStats) => {
        if (message.type === 'event') this.eventHandler(message);
        else if (message.type === 'started') {
          this.epochStartNs = BigInt(message.epochStartNs);
          this.startedHandler(this.epochStartNs);
        } else resolve(message);
      });
    });
    this.exited = new Promise((resolve, reject) => {
      worker.on('error', reject);
      worker.on('exit', resolve);
    });
    void this.readCommands();
  }

  /** `logInputs`: report the tick at which each input was applied (`onApplied`), for recording. */
  static start(
    config: Omit<WorkerConfig, 'ring' | 'inputLog'>,
    { logInputs = false }: { logInputs?: boolean } = {},
  ): ControlThread {
    const notifyEvery = Math.max(1, Math.round(config.rateHz / config.sinkRateHz));
    const ring = new CommandRing(config.controller.joints, RING_SLOTS, notifyEvery);
    const inputLog = logInputs ? new InputLog(INPUT_LOG_SLOTS) : undefined;
    const worker = new Worker(WORKER, {
      workerData: {
        ...config,
        ring: { slots: RING_SLOTS, notifyEvery, ...ring.buffers },
        ...(inputLog ? { inputLog: { slots: inputLog.slots, ...inputLog.buffers } } : {}),
      },
      // A roomy young generation: what little the loop allocates is collected rarely.
      resourceLimits: { maxYoungGenerationSizeMb: 64 },
    });
    return new ControlThread(worker, ring, inputLog, 1000 / config.rateHz);
  }

  onCommand(handler: (command: ControlCommand) => void): void {
    this.commandHandler = handler;
  }

  onEvent(handler: (event: ControlEvent) => void): void {
    this.eventHandler = handler;
  }

  /** Once, when the loop starts: the epoch ns at which tick 0 is due. */
  onStarted(handler: (epochStartNs: bigint) => void): void {
    this.startedHandler = handler;
  }

  /** Every input, once the control thread has applied it (only with `logInputs`). */
  onApplied(handler: (applied: AppliedInput) => void): void {
    this.appliedHandler = handler;
  }

  /** Every run of ticks the clock skipped (only with `logInputs`). */
  onSkipped(handler: (skipped: SkippedTicks) => void): void {
    this.skippedHandler = handler;
  }

  send(message: ToControl): void {
    this.worker.postMessage(message);
    if (this.inputLog && !this.inputLogLapped && message.type !== 'stop') {
      // Its own copy: callers reuse their buffers once postMessage has cloned them.
      this.pending.push(
        message.type === 'chunk'
          ? { ...message, values: message.values.slice() }
          : message.type === 'measured'
            ? { ...message, position: message.position.slice() }
            : message,
      );
    }
  }

  /** Stops the loop after its current tick and returns its timing statistics. */
  async stop(): Promise<ControlStats> {
    this.send({ type: 'stop' });
    const stats = await Promise.race([
      this.stats,
      this.exited.then((code) => {
        throw new Error(`the control thread exited (${code}) before reporting`);
      }),
    ]);
    await this.exited;
    this.running = false;
    this.drain();
    return stats;
  }

  private async readCommands(): Promise<void> {
    while (this.running) {
      await this.ring.waitBeyond(this.seen, 100);
      this.drain();
    }
  }

  private drain(): void {
    // Stamps need tick 0's epoch time: until the worker's 'started' message has been handled,
    // commands wait in the ring.
    if (this.epochStartNs === undefined) return;
    this.drainInputs();
    const written = this.ring.written;
    if (written - this.seen > this.ring.slots) {
      this.missed += written - this.seen - this.ring.slots;
      this.seen = written - this.ring.slots;
    }
    for (; this.seen < written; this.seen++) {
      const c = this.ring.read(this.seen);
      // The writer may have lapped this slot while it was read: then it is lost, not torn.
      if (this.ring.written - this.seen > this.ring.slots) {
        this.missed++;
        continue;
      }
      this.commandHandler({
        index: c.index,
        stampNs: this.stampOf(c.dueMs),
        position: c.position,
        velocity: c.velocity,
        mode: c.mode,
        chunkSeq: c.chunkSeq,
        correction: c.correction,
      });
    }
  }

  /** Epoch ns of a time in ms from tick 0. */
  private stampOf(dueMs: number): bigint {
    return (this.epochStartNs ?? 0n) + BigInt(Math.round(dueMs * 1e6));
  }

  private drainInputs(): void {
    const log = this.inputLog;
    if (!log) return;
    const written = log.written;
    if (this.inputLogLapped) return;
    if (written - this.logRead > log.slots) {
      // Lapped: which lost entries were inputs is unknown, so no later tick can be trusted
      // either; the log stops here (counted), and a replay sees the inputs end.
      this.inputLogLapped = true;
      this.pending.length = 0;
      return;
    }
    for (; this.logRead < written; this.logRead++) {
      const entry = log.read(this.logRead);
      if (entry.kind === 'skip') {
        const { first, count } = entry;
        this.skippedHandler({ first, count, stampNs: this.stampOf(first * this.periodMs) });
        continue;
      }
      const input = this.pending.shift();
      if (!input) break;
      this.appliedHandler({
        input,
        tick: entry.tick,
        index: this.inputsApplied++,
        stampNs: this.stampOf(entry.tick * this.periodMs),
      });
    }
  }
}

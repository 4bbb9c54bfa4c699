import { Worker } from 'node:worker_threads';
import { CommandRing } from './command-ring.js';
import type {
  ControlCommand,
  ControlEvent,
  ControlStarted,
  ControlStats,
  ToControl,
  WorkerConfig,
} from './control-protocol.js';

const WORKER = new URL('./control-worker.js', import.meta.url);

/** Ring slots: two seconds at 1 kHz, far more than the main thread ever falls behind. */
const RING_SLOTS = 2048;

/**
 * The main thread's handle on the control thread: hands it chunks, measured states and
 * e-stops (never blocking: the worker picks messages up at its next tick), and reads its
 * commands from shared memory as they are written.
 */
export class ControlThread {
  private commandHandler: (command: ControlCommand) => void = () => {};
  private eventHandler: (event: ControlEvent) => void = () => {};
  private readonly stats: Promise<ControlStats>;
  private readonly exited: Promise<number>;
  private epochStartNs: bigint | undefined;
  private seen = 0;
  private running = true;
  /** Commands overwritten before the main thread read them. */
  missed = 0;

  private constructor(
    private readonly worker: Worker,
    private readonly ring: CommandRing,
  ) {
    this.stats = new Promise((resolve) => {
      worker.on('message', (message: ControlEvent | ControlStarted | ControlStats) => {
        if (message.type === 'event') this.eventHandler(message);
        else if (message.type === 'started') this.epochStartNs = BigInt(message.epochStartNs);
        else resolve(message);
      });
    });
    this.exited = new Promise((resolve, reject) => {
      worker.on('error', reject);
      worker.on('exit', resolve);
    });
    void this.readCommands();
  }

  static start(config: Omit<WorkerConfig, 'ring'>): ControlThread {
    const notifyEvery = Math.max(1, Math.round(config.rateHz / config.sinkRateHz));
    const ring = new CommandRing(config.controller.joints, RING_SLOTS, notifyEvery);
    const worker = new Worker(WORKER, {
      workerData: { ...config, ring: { slots: RING_SLOTS, notifyEvery, ...ring.buffers } },
      // A roomy young generation: what little the loop allocates is collected rarely.
      resourceLimits: { maxYoungGenerationSizeMb: 64 },
    });
    return new ControlThread(worker, ring);
  }

  onCommand(handler: (command: ControlCommand) => void): void {
    this.commandHandler = handler;
  }

  onEvent(handler: (event: ControlEvent) => void): void {
    this.eventHandler = handler;
  }

  send(message: ToControl): void {
    this.worker.postMessage(message);
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
      const start = this.epochStartNs ?? 0n;
      this.commandHandler({
        index: c.index,
        stampNs: start + BigInt(Math.round(c.dueMs * 1e6)),
        position: c.position,
        velocity: c.velocity,
        mode: c.mode,
        chunkSeq: c.chunkSeq,
        correction: c.correction,
      });
    }
  }
}

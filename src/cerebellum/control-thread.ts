import { Worker } from 'node:worker_threads';
import type {
  ControlCommand,
  ControlEvent,
  ControlStats,
  ToControl,
  WorkerConfig,
} from './control-protocol.js';

const WORKER = new URL('./control-worker.js', import.meta.url);

/**
 * The main thread's handle on the control thread: hands it chunks, measured states and
 * e-stops, and receives its commands and events. Sending never blocks; the worker picks
 * messages up at its next tick.
 */
export class ControlThread {
  private commandHandler: (command: ControlCommand) => void = () => {};
  private eventHandler: (event: ControlEvent) => void = () => {};
  private readonly stats: Promise<ControlStats>;
  private readonly exited: Promise<number>;

  private constructor(private readonly worker: Worker) {
    this.stats = new Promise((resolve) => {
      worker.on('message', (message: ControlCommand | ControlEvent | ControlStats) => {
        if (message.type === 'command') this.commandHandler(message);
        else if (message.type === 'event') this.eventHandler(message);
        else resolve(message);
      });
    });
    this.exited = new Promise((resolve, reject) => {
      worker.on('error', reject);
      worker.on('exit', resolve);
    });
  }

  static start(config: WorkerConfig): ControlThread {
    return new ControlThread(new Worker(WORKER, { workerData: config }));
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
    return stats;
  }
}

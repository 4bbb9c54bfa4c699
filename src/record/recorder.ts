import { Worker } from 'node:worker_threads';
import { type CdrSink, type RecordedQos, recordInto } from './message-sink.js';
import type { FromWriter, RecordedMessage, ToWriter } from './recorder-protocol.js';
import { ros2msgSchema } from './ros2msg-schema.js';

export type { RecordedQos } from './message-sink.js';

/**
 * Writes what a node sees and emits to a rosbag2-compatible MCAP file: profile `ros2`,
 * `ros2msg` schemas in rosbag2's layout, CDR messages, `offered_qos_profiles` channel
 * metadata, zstd-compressed chunks. `record()` serializes to CDR (or a tee hands it the CDR,
 * `recordCdr`) and queues and returns at once; the messages go to a writer thread (recorder-worker.ts) once per event-loop turn,
 * which chunks, compresses and writes them at a lowered priority. The queue is bounded:
 * messages not yet written past `maxQueue` are dropped and counted, never waited for
 * (sensor streams first).
 */

export interface RecorderOptions {
  /** Messages waiting to be written before new ones are dropped. */
  maxQueue?: number;
  /** Uncompressed chunk size: smaller loses less on a crash, larger compresses better. */
  chunkBytes?: number;
  /** Niceness of the writer thread (Linux): above the control thread's, so it yields to it. */
  nice?: number;
}

export interface RecorderCounters {
  recorded: number;
  dropped: number;
  bytes: number;
}

const WORKER = new URL('./recorder-worker.js', import.meta.url);

export class Recorder implements CdrSink {
  readonly counters: RecorderCounters = { recorded: 0, dropped: 0, bytes: 0 };
  private readonly channels = new Map<string, number>();
  private readonly maxQueue: number;
  private batch: RecordedMessage[] = [];
  private transfer: ArrayBuffer[] = [];
  private flushing = false;
  private queued = 0;
  private closed = false;
  private failure: string | undefined;
  private readonly done: Promise<void>;
  /** `drained()` calls waiting for the writer's next progress report. */
  private waiters: (() => void)[] = [];
  private exited = false;

  private constructor(
    private readonly worker: Worker,
    options: RecorderOptions,
  ) {
    this.maxQueue = options.maxQueue ?? 4096;
    this.done = new Promise((resolve, reject) => {
      const wake = () => {
        for (const waiter of this.waiters.splice(0)) waiter();
      };
      worker.on('message', (message: FromWriter) => {
        if (message.type === 'written') {
          this.counters.recorded = message.messages;
          this.counters.bytes = message.bytes;
        } else if (message.type === 'closed') resolve();
        else if (message.type === 'error') this.failure ??= message.message;
        wake();
      });
      worker.on('error', (err) => {
        this.failure ??= err.message;
        wake();
        reject(err);
      });
      worker.on('exit', () => {
        this.exited = true;
        wake();
        resolve();
      });
    });
  }

  static async open(path: string, options: RecorderOptions = {}): Promise<Recorder> {
    const worker = new Worker(WORKER, {
      workerData: { path, chunkBytes: options.chunkBytes ?? 256 * 1024, nice: options.nice ?? 10 },
    });
    await new Promise<void>((resolve, reject) => {
      const onMessage = (message: FromWriter) => {
        if (message.type !== 'ready') return;
        worker.off('message', onMessage);
        resolve();
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
    });
    return new Recorder(worker, options);
  }

  /**
   * Queues one message of ROS type `type` (rclnodejs's JS shape) on `topic`. Throws only for
   * a message that does not fit its type (a programming error); a full queue drops.
   */
  record(topic: string, type: string, stampNs: bigint, message: object, qos: RecordedQos): void {
    recordInto([this], topic, type, stampNs, message, qos);
  }

  /** False once closed, and when the queue is full (a drop, counted: nothing is serialized). */
  wants(_topic: string, _type: string, qos: RecordedQos): boolean {
    return !this.closed && this.hasRoom(qos);
  }

  recordCdr(
    topic: string,
    type: string,
    stampNs: bigint,
    data: Uint8Array,
    qos: RecordedQos,
  ): void {
    if (this.closed || !this.hasRoom(qos)) return;
    const channel = this.channel(topic, type, qos);
    this.batch.push({ channel, logTimeNs: stampNs, data });
    // A buffer of its own moves to the writer thread instead of being copied (at the end of
    // this event-loop turn: see CdrSink.recordCdr).
    if (data.byteOffset === 0 && data.byteLength === data.buffer.byteLength)
      this.transfer.push(data.buffer as ArrayBuffer);
    this.queued++;
    if (!this.flushing) {
      this.flushing = true;
      setImmediate(() => this.flush());
    }
  }

  /**
   * Resolves once everything queued so far is written: a producer that records in bursts
   * without yielding (a simulator run as fast as the CPU allows) waits here between bursts
   * instead of outgrowing the queue.
   */
  async drained(): Promise<void> {
    this.flush();
    const target = this.queued;
    while (this.counters.recorded < target && !this.failure && !this.exited) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Writes what is queued, the summary and the footer; the file is then complete. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.flush();
    this.post({ type: 'close' });
    await this.done;
    await this.worker.terminate();
    if (this.failure) throw new Error(`recorder: ${this.failure}`);
  }

  private flush(): void {
    this.flushing = false;
    if (this.batch.length === 0) return;
    this.post({ type: 'messages', messages: this.batch }, this.transfer);
    this.batch = [];
    this.transfer = [];
  }

  private post(message: ToWriter, transfer: ArrayBuffer[] = []): void {
    this.worker.postMessage(message, transfer);
  }

  /**
   * Sensor streams (camera frames, joint states) are dropped first: reliable topics (tokens,
   * commands, control inputs, what a replay needs) may fill the queue to twice its size.
   */
  private hasRoom(qos: RecordedQos): boolean {
    const limit = qos === 'reliable' ? 2 * this.maxQueue : this.maxQueue;
    if (this.queued - this.counters.recorded < limit) return true;
    this.counters.dropped++;
    return false;
  }

  private channel(topic: string, type: string, qos: RecordedQos): number {
    const key = `${topic} ${type}`;
    let id = this.channels.get(key);
    if (id !== undefined) return id;
    // Channels from 0, schemas from 1, in registration order (as @mcap/core assigns them).
    id = this.channels.size;
    this.channels.set(key, id);
    // Messages already batched go first: the channel must reach the writer before its own.
    this.flush();
    this.post({
      type: 'channel',
      id,
      topic,
      schemaName: type,
      schema: ros2msgSchema(type),
      qos: offeredQos(qos),
    });
    return id;
  }
}

/**
 * rosbag2's `offered_qos_profiles` metadata: a YAML list of the publisher's QoS, with the
 * rmw enum values (history 1 keep last; reliability 1 reliable, 2 best effort; durability 2
 * volatile; liveliness 1 automatic) and "infinite" durations.
 */
function offeredQos(qos: RecordedQos): string {
  const infinite = '\n    sec: 9223372036\n    nsec: 854775807';
  return [
    '- history: 1',
    `  depth: ${qos === 'sensor_data' ? 5 : 10}`,
    `  reliability: ${qos === 'sensor_data' ? 2 : 1}`,
    '  durability: 2',
    `  deadline:${infinite}`,
    `  lifespan:${infinite}`,
    '  liveliness: 1',
    `  liveliness_lease_duration:${infinite}`,
    '  avoid_ros_namespace_conventions: false',
  ].join('\n');
}

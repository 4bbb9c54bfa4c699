import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { compress, init as initZstd } from '@bokuweb/zstd-wasm';
import { McapWriter } from '@mcap/core';
import { cdrWriter } from '../ros/index.js';
import { ros2msgSchema } from './ros2msg-schema.js';

/**
 * Writes what a node sees and emits to a rosbag2-compatible MCAP file: profile `ros2`,
 * `ros2msg` schemas in rosbag2's layout, CDR messages, `offered_qos_profiles` channel
 * metadata, zstd-compressed chunks. `record()` serializes and queues and returns at once;
 * one writer drains the queue in order (@mcap/core's writer must be awaited call by call).
 * The queue is bounded: past it, messages are dropped and counted, never waited for. Each
 * chunk goes to the file as soon as it is complete, with a plain write, so a process killed
 * mid-recording leaves a file that reads back up to its last completed chunk.
 */

export type RecordedQos = 'sensor_data' | 'reliable';

export interface RecorderOptions {
  /** Messages waiting to be written before new ones are dropped. */
  maxQueue?: number;
  /** Uncompressed chunk size: smaller loses less on a crash, larger compresses better. */
  chunkBytes?: number;
}

export interface RecorderCounters {
  recorded: number;
  dropped: number;
  bytes: number;
}

interface Pending {
  channel: number;
  logTimeNs: bigint;
  publishTimeNs: bigint;
  data: Uint8Array;
}

let zstdReady: Promise<void> | undefined;

export class Recorder {
  readonly counters: RecorderCounters = { recorded: 0, dropped: 0, bytes: 0 };
  private readonly channels = new Map<string, number>();
  private readonly queue: Pending[] = [];
  private readonly writer: McapWriter;
  private readonly maxQueue: number;
  private writing: Promise<void> | undefined;
  private sequence = 0;
  private closed = false;

  private constructor(
    private readonly fd: number,
    options: RecorderOptions,
  ) {
    this.maxQueue = options.maxQueue ?? 4096;
    this.writer = new McapWriter({
      writable: {
        position: () => BigInt(this.counters.bytes),
        write: async (buffer: Uint8Array) => {
          writeSync(fd, buffer);
          this.counters.bytes += buffer.byteLength;
        },
      },
      chunkSize: options.chunkBytes ?? 256 * 1024,
      compressChunk: (data) => ({ compression: 'zstd', compressedData: compress(data, 3) }),
    });
  }

  static async open(path: string, options: RecorderOptions = {}): Promise<Recorder> {
    zstdReady ??= initZstd();
    await zstdReady;
    const recorder = new Recorder(openSync(path, 'w'), options);
    await recorder.writer.start({ profile: 'ros2', library: 'pons' });
    return recorder;
  }

  /**
   * Queues one message of ROS type `type` (rclnodejs's JS shape) on `topic`. Throws only for
   * a message that does not fit its type (a programming error); a full queue drops.
   */
  record(topic: string, type: string, stampNs: bigint, message: object, qos: RecordedQos): void {
    if (this.closed) return;
    if (this.queue.length >= this.maxQueue) {
      this.counters.dropped++;
      return;
    }
    const data = cdrWriter(type).writeMessage(message);
    const channel = this.channel(topic, type, qos);
    this.queue.push({ channel, logTimeNs: stampNs, publishTimeNs: stampNs, data });
    this.writing ??= this.drain();
  }

  /**
   * Resolves once everything queued so far is written: a producer that records in bursts
   * without yielding (a simulator run as fast as the CPU allows) waits here between bursts
   * instead of outgrowing the queue.
   */
  async drained(): Promise<void> {
    while (this.writing) await this.writing;
  }

  /** Writes what is queued, the summary and the footer; the file is then complete. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writing;
    await this.drainQueued();
    await this.writer.end();
    fsyncSync(this.fd);
    closeSync(this.fd);
  }

  private channel(topic: string, type: string, qos: RecordedQos): number {
    const key = `${topic} ${type}`;
    let id = this.channels.get(key);
    if (id !== undefined) return id;
    // @mcap/core's registration only assigns ids (channels from 0, schemas from 1, in call
    // order), so it cannot interleave badly with a write in progress.
    id = this.channels.size;
    this.channels.set(key, id);
    const schemaId = id + 1;
    void this.writer.registerSchema({
      name: type,
      encoding: 'ros2msg',
      data: new TextEncoder().encode(ros2msgSchema(type)),
    });
    void this.writer.registerChannel({
      schemaId,
      topic,
      messageEncoding: 'cdr',
      metadata: new Map([['offered_qos_profiles', offeredQos(qos)]]),
    });
    return id;
  }

  private async drain(): Promise<void> {
    await this.drainQueued();
    this.writing = undefined;
  }

  private async drainQueued(): Promise<void> {
    for (let next = this.queue.shift(); next; next = this.queue.shift()) {
      await this.writer.addMessage({
        channelId: next.channel,
        sequence: this.sequence++,
        logTime: next.logTimeNs,
        publishTime: next.publishTimeNs,
        data: next.data,
      });
      this.counters.recorded++;
    }
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

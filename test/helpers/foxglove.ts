import type { MessageReader } from '@foxglove/rosmsg2-serialization';
import foxglove, { type Channel, type StatusMessage } from '@foxglove/ws-protocol';
import { WebSocket } from 'ws';
import { ros2msgReader } from '../../src/record/mcap-read.js';

/**
 * A Foxglove WebSocket client (@foxglove/ws-protocol's own FoxgloveClient over `ws`), as
 * Foxglove itself connects: it keeps the advertised channels, status messages and every
 * message received, and decodes them against the schema the server advertised.
 */

export interface LiveMessage {
  topic: string;
  timestamp: bigint;
  data: Uint8Array;
}

export class LiveClient {
  readonly channels = new Map<number, Channel>();
  readonly statuses: StatusMessage[] = [];
  readonly received: LiveMessage[] = [];
  private readonly subscriptions = new Map<number, Channel>();
  private readonly readers = new Map<number, MessageReader>();
  private readonly client: InstanceType<typeof foxglove.FoxgloveClient>;
  readonly closed: Promise<void>;

  private constructor(readonly ws: WebSocket) {
    this.client = new foxglove.FoxgloveClient({ ws });
    this.client.on('advertise', (channels) => {
      for (const c of channels) this.channels.set(c.id, c);
    });
    this.client.on('status', (s) => this.statuses.push(s));
    this.client.on('message', (m) => {
      const channel = this.subscriptions.get(m.subscriptionId);
      if (!channel) return;
      const data = new Uint8Array(m.data.buffer, m.data.byteOffset, m.data.byteLength).slice();
      this.received.push({ topic: channel.topic, timestamp: m.timestamp, data });
    });
    this.closed = new Promise((resolve) => ws.once('close', () => resolve()));
  }

  static connect(url: string): Promise<LiveClient> {
    const ws = new WebSocket(url, [foxglove.FoxgloveClient.SUPPORTED_SUBPROTOCOL]);
    const client = new LiveClient(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(client));
      ws.once('error', reject);
    });
  }

  channel(topic: string): Channel | undefined {
    return [...this.channels.values()].find((c) => c.topic === topic);
  }

  /** Subscribes to a channel by id (advertised or not). */
  subscribeId(channelId: number): number {
    const id = this.client.subscribe(channelId);
    const channel = this.channels.get(channelId);
    if (channel) this.subscriptions.set(id, channel);
    return id;
  }

  subscribe(topic: string): number {
    const channel = this.channel(topic);
    if (!channel) throw new Error(`${topic} is not advertised`);
    return this.subscribeId(channel.id);
  }

  /** Decodes a received message against its channel's advertised ros2msg schema. */
  decode(message: LiveMessage): Record<string, unknown> {
    const channel = this.channel(message.topic) as Channel;
    let reader = this.readers.get(channel.id);
    if (!reader) {
      reader = ros2msgReader(channel.schema);
      this.readers.set(channel.id, reader);
    }
    return reader.readMessage(message.data);
  }

  on(topic: string): LiveMessage[] {
    return this.received.filter((m) => m.topic === topic);
  }

  close(): void {
    this.client.close();
  }
}

import { Publisher, Subscriber } from 'zeromq';
import {
  encodePacket,
  type ObservationPacket,
  PROTOCOL_VERSION,
  type WireLimits,
} from '../wire/index.js';
import { LinkCounters } from './counters.js';
import { decodeBatch } from './inbox.js';
import { type LinkLog, RateLimitedLog, stderrLog } from './log.js';
import { enforceTransportSecurity } from './security.js';
import { COMMON_OPTIONS, NewestSender, receiveBatches } from './sockets.js';

/**
 * The observation bus: camera frames, joint states and instructions from a simulator, a
 * robot without ROS or a replay, to brains. The source binds a PUB socket; brains connect
 * SUB sockets. Every valid packet is delivered (the brain's synchroniser needs them all);
 * a slow brain loses frames at the socket, never builds a queue in the source: per topic,
 * a newer packet replaces one still waiting to be sent.
 */

export interface ObservationBusOptions {
  endpoint: string;
  /** Unencrypted off this host (the bus has no CURVE yet: keep it on loopback or ipc). */
  insecure?: boolean;
  log?: LinkLog;
  /** Largest packet accepted (bytes); default 32 MiB, a 4K rgb8 frame. */
  maxBytes?: number;
}

const DEFAULT_MAX_BYTES = 32 * 1024 * 1024;
const OBSERVATION_KINDS: ReadonlySet<string> = new Set(['frame', 'joints', 'instruction', 'scene']);
/** Frames are large: a handful queued per subscriber is all a newest-wins consumer wants. */
const BUS_HIGH_WATER_MARK = 16;

type WithoutHeader<P> = P extends unknown ? Omit<P, 'v' | 'seq'> : never;
/** An observation as a source hands it over: the bus sets `v` and `seq`. */
export type ObservationToSend = WithoutHeader<ObservationPacket>;

export class ObservationPublisher {
  readonly counters = new LinkCounters();
  private readonly seqs = new Map<string, number>();
  private readonly sender: NewestSender;

  private constructor(private readonly socket: Publisher) {
    this.sender = new NewestSender(socket);
  }

  static async open(options: ObservationBusOptions): Promise<ObservationPublisher> {
    const log = options.log ?? stderrLog;
    enforceTransportSecurity([options.endpoint], false, options.insecure ?? false, log);
    const socket = new Publisher({ ...COMMON_OPTIONS, sendHighWaterMark: BUS_HIGH_WATER_MARK });
    try {
      await socket.bind(options.endpoint);
    } catch (err) {
      socket.close();
      throw new Error(
        `cannot bind the observation bus ${options.endpoint}: ${(err as Error).message}`,
      );
    }
    return new ObservationPublisher(socket);
  }

  /** Publishes one observation; each topic (camera, joints, instruction) counts its own seq. */
  publish(observation: ObservationToSend): void {
    const topic = observation.kind === 'frame' ? `frame/${observation.camera}` : observation.kind;
    const seq = this.seqs.get(topic) ?? 0;
    this.seqs.set(topic, seq + 1);
    const packet = { v: PROTOCOL_VERSION, seq, ...observation } as ObservationPacket;
    this.sender.send(topic, encodePacket(packet, { maxBytes: DEFAULT_MAX_BYTES }));
    this.counters.sent++;
    this.counters.sendSuperseded = this.sender.superseded;
  }

  /** Resolves once nothing is waiting to be sent. */
  drained(): Promise<void> {
    return this.sender.drained();
  }

  close(): void {
    this.socket.close();
  }
}

export class ObservationSubscriber {
  readonly counters = new LinkCounters();
  private handler: ((packet: ObservationPacket, receivedNs: bigint) => void) | undefined;
  private readonly limited: RateLimitedLog;
  private readonly source: string;
  private readonly limits: Partial<WireLimits>;

  private constructor(
    private readonly socket: Subscriber,
    options: ObservationBusOptions,
    log: LinkLog,
  ) {
    this.limited = new RateLimitedLog(log);
    this.source = `bus ${options.endpoint}`;
    this.limits = { maxBytes: options.maxBytes ?? DEFAULT_MAX_BYTES };
    void receiveBatches(
      socket,
      (batch) => this.onBatch(batch),
      (err) => this.limited.warn('recv', `${this.source}: receive failed: ${err.message}`),
    );
  }

  static open(options: ObservationBusOptions): ObservationSubscriber {
    const log = options.log ?? stderrLog;
    enforceTransportSecurity([options.endpoint], false, options.insecure ?? false, log);
    const socket = new Subscriber({
      ...COMMON_OPTIONS,
      receiveHighWaterMark: BUS_HIGH_WATER_MARK,
      maxMessageSize: options.maxBytes ?? DEFAULT_MAX_BYTES,
    });
    socket.subscribe();
    socket.connect(options.endpoint);
    log.info(`observation bus: listening to ${options.endpoint}`);
    return new ObservationSubscriber(socket, options, log);
  }

  /**
   * Called with every valid frame, joints, instruction and scene packet, in arrival order, and the
   * monotonic time (process.hrtime, ns) its batch came off the socket, before decoding.
   */
  onObservation(handler: (packet: ObservationPacket, receivedNs: bigint) => void): void {
    this.handler = handler;
  }

  close(): void {
    this.socket.close();
  }

  private onBatch(batch: Buffer[][]): void {
    const receivedNs = process.hrtime.bigint();
    for (const packet of decodeBatch(
      batch,
      this.source,
      this.counters,
      this.limited,
      this.limits,
    )) {
      if (OBSERVATION_KINDS.has(packet.kind)) {
        this.counters.delivered++;
        this.handler?.(packet as ObservationPacket, receivedNs);
      } else {
        this.counters.drop('unexpected_kind');
        this.limited.warn(
          'kind',
          `${this.source}: dropped a '${packet.kind}' packet (not an observation)`,
        );
      }
    }
  }
}

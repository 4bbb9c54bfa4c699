import { Publisher, Subscriber } from 'zeromq';
import {
  type CommandPacket,
  encodePacket,
  type ObservationPacket,
  type Packet,
  PROTOCOL_VERSION,
  type WireLimits,
} from '../wire/index.js';
import { LinkCounters } from './counters.js';
import { decodeBatch } from './inbox.js';
import { type LinkLog, RateLimitedLog, stderrLog } from './log.js';
import { enforceTransportSecurity } from './security.js';
import { COMMON_OPTIONS, NewestSender, receiveBatches } from './sockets.js';

/**
 * The buses between pons and a robot or simulator without ROS, one PUB/SUB channel each:
 * the observation bus (frames, joint states, instructions, and privileged scene state for
 * scripted experts) from the robot to brains and cerebellums, and the command bus from the
 * cerebellum to the robot. The robot binds both. Every valid packet of the kinds a
 * subscriber takes is delivered; a slow receiver loses packets at the socket, and a sender
 * never builds a queue: per topic, a newer packet replaces one still waiting to be sent.
 */

export type BusPacket = ObservationPacket | CommandPacket;
export type BusKind = BusPacket['kind'];
export const OBSERVATION_KINDS: readonly BusKind[] = ['frame', 'joints', 'instruction', 'scene'];

export interface BusOptions {
  endpoint: string;
  /** Bind (the robot's side) rather than connect. */
  bind: boolean;
  /** Unencrypted off this host (the buses have no CURVE yet: keep them on loopback or ipc). */
  insecure?: boolean;
  log?: LinkLog;
  /** Largest packet accepted (bytes); default 32 MiB, a 4K rgb8 frame. */
  maxBytes?: number;
}

const DEFAULT_MAX_BYTES = 32 * 1024 * 1024;
/** Frames are large: a handful queued per subscriber is all a newest-wins consumer wants. */
const BUS_HIGH_WATER_MARK = 16;

type WithoutHeader<P> = P extends unknown ? Omit<P, 'v' | 'seq'> : never;
/** A packet as a source hands it over: the bus sets `v` and `seq`. */
export type BusPacketToSend = WithoutHeader<BusPacket>;

async function attach(socket: Publisher | Subscriber, options: BusOptions): Promise<void> {
  enforceTransportSecurity(
    [options.endpoint],
    false,
    options.insecure ?? false,
    options.log ?? stderrLog,
  );
  if (!options.bind) {
    socket.connect(options.endpoint);
    return;
  }
  try {
    await socket.bind(options.endpoint);
  } catch (err) {
    socket.close();
    throw new Error(`cannot bind the bus ${options.endpoint}: ${(err as Error).message}`);
  }
}

export class BusPublisher {
  readonly counters = new LinkCounters();
  private readonly seqs = new Map<string, number>();
  private readonly sender: NewestSender;

  private constructor(private readonly socket: Publisher) {
    this.sender = new NewestSender(socket);
  }

  static async open(options: BusOptions): Promise<BusPublisher> {
    const socket = new Publisher({ ...COMMON_OPTIONS, sendHighWaterMark: BUS_HIGH_WATER_MARK });
    await attach(socket, options);
    return new BusPublisher(socket);
  }

  /** Publishes one packet; each topic (a camera, joints, instruction, …) counts its own seq. */
  publish(packet: BusPacketToSend): void {
    const topic = packet.kind === 'frame' ? `frame/${packet.camera}` : packet.kind;
    const seq = this.seqs.get(topic) ?? 0;
    this.seqs.set(topic, seq + 1);
    const full = { v: PROTOCOL_VERSION, seq, ...packet } as BusPacket;
    this.sender.send(topic, encodePacket(full, { maxBytes: DEFAULT_MAX_BYTES }));
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

export class BusSubscriber {
  readonly counters = new LinkCounters();
  private handler: ((packet: BusPacket, receivedNs: bigint) => void) | undefined;
  private readonly limited: RateLimitedLog;
  private readonly source: string;
  private readonly limits: Partial<WireLimits>;

  private constructor(
    private readonly socket: Subscriber,
    options: BusOptions,
    private readonly kinds: ReadonlySet<string>,
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

  /** Listens for packets of `kinds`; others are dropped and counted as unexpected. */
  static async open(options: BusOptions, kinds: readonly BusKind[]): Promise<BusSubscriber> {
    const log = options.log ?? stderrLog;
    const socket = new Subscriber({
      ...COMMON_OPTIONS,
      receiveHighWaterMark: BUS_HIGH_WATER_MARK,
      maxMessageSize: options.maxBytes ?? DEFAULT_MAX_BYTES,
    });
    socket.subscribe();
    await attach(socket, options);
    log.info(`bus: listening to ${options.endpoint} for ${kinds.join(', ')}`);
    return new BusSubscriber(socket, options, new Set(kinds), log);
  }

  /**
   * Called with every valid packet of the subscribed kinds, in arrival order, and the
   * monotonic time (process.hrtime, ns) its batch came off the socket, before decoding.
   */
  onPacket(handler: (packet: BusPacket, receivedNs: bigint) => void): void {
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
      if (this.kinds.has(packet.kind)) {
        this.counters.delivered++;
        this.handler?.(packet as Packet as BusPacket, receivedNs);
      } else {
        this.counters.drop('unexpected_kind');
        this.limited.warn(
          'kind',
          `${this.source}: dropped a '${packet.kind}' packet (not one of ${[...this.kinds].join(', ')})`,
        );
      }
    }
  }
}

import type { Subscriber, XPublisher } from 'zeromq';
import {
  type EstopPacket,
  encodePacket,
  epochNowNs,
  PROTOCOL_VERSION,
  type StatePacket,
  type TokensPacket,
} from '../wire/index.js';
import { LinkCounters } from './counters.js';
import { announce } from './hello.js';
import { acceptHello, decodeBatch, type PeerHello } from './inbox.js';
import { type LinkLog, RateLimitedLog, stderrLog } from './log.js';
import { type CurveClientSecurity, enforceTransportSecurity } from './security.js';
import type { LinkEndpoints, LinkIdentity } from './server.js';
import { NewestSender, openSocketPair, receiveBatches } from './sockets.js';

export interface LinkClientOptions extends LinkIdentity {
  endpoints: LinkEndpoints;
  curve?: CurveClientSecurity;
  insecure?: boolean;
  log?: LinkLog;
  /** Token packets whose observation is older than this are dropped as stale. */
  maxAgeMs?: number;
  /** Observation stamps further in the future than this are reported (clock skew). */
  futureToleranceMs?: number;
  now?: () => bigint;
  helloIntervalMs?: number;
  /**
   * `newest` (controllers): of the packets waiting at once, only the newest is handed on
   * and the rest are counted as superseded. `every` (recorders, benchmarks): all are.
   */
  deliver?: 'newest' | 'every';
}

export type StateToSend = Pick<
  StatePacket,
  'stamp_ns' | 'position' | 'velocity' | 'mode' | 'last_token_seq'
>;

/**
 * The cerebellum's end of the link. It connects (and reconnects by itself) to a brain:
 * token packets arrive on a SUB socket and are checked here — spec id, age, order and
 * sequence — before the newest valid one is handed on; state packets go back on a PUB
 * socket.
 */
export class LinkClient {
  readonly counters = new LinkCounters();
  private tokensHandler: ((tokens: TokensPacket) => void) | undefined;
  private estopHandler: ((estop: EstopPacket) => void) | undefined;
  private brainHello: PeerHello | undefined;
  private lastSeq = -1;
  private lastObsStampNs = -1n;
  private lastReceiveNs = 0n;
  private stateSeq = 0;
  private readonly limited: RateLimitedLog;
  private readonly sender: NewestSender;
  private readonly stopHello: () => void;
  private readonly maxAgeNs: bigint;
  private readonly futureToleranceNs: bigint;
  private readonly now: () => bigint;
  private readonly source: string;

  private constructor(
    private readonly options: LinkClientOptions,
    private readonly sub: Subscriber,
    private readonly pub: XPublisher,
    private readonly log: LinkLog,
  ) {
    this.limited = new RateLimitedLog(log);
    this.sender = new NewestSender(pub);
    this.now = options.now ?? epochNowNs;
    this.maxAgeNs = BigInt(Math.round((options.maxAgeMs ?? 1000) * 1e6));
    this.futureToleranceNs = BigInt(Math.round((options.futureToleranceMs ?? 50) * 1e6));
    this.source = `tokens ${options.endpoints.tokens}`;
    this.stopHello = announce(
      pub,
      this.sender,
      'cerebellum',
      options,
      options.helloIntervalMs ?? 1000,
    );
    void receiveBatches(
      sub,
      (batch) => this.onBatch(batch),
      (err) => this.limited.warn('recv', `token receive failed: ${err.message}`),
    );
    void this.watchConnection();
  }

  /**
   * A brain that went away and came back (restarted, maybe with its clock or sequence
   * starting over) is a new sender: order and sequence tracking start afresh with it.
   */
  private async watchConnection(): Promise<void> {
    try {
      for await (const event of this.sub.events) {
        if (event.type === 'disconnect') {
          this.counters.disconnects++;
          this.lastSeq = -1;
          this.lastObsStampNs = -1n;
          this.log.warn(`${this.source}: brain disconnected; waiting for it to come back`);
        } else if (event.type === 'handshake' && this.counters.disconnects > 0) {
          this.log.info(`${this.source}: brain reconnected`);
        }
      }
    } catch {
      // The observer ends when the socket closes.
    }
  }

  static async open(options: LinkClientOptions): Promise<LinkClient> {
    const log = options.log ?? stderrLog;
    const { endpoints, curve } = options;
    enforceTransportSecurity(
      [endpoints.tokens, endpoints.state],
      curve !== undefined,
      options.insecure ?? false,
      log,
    );
    const security = curve
      ? {
          curveServerKey: curve.serverKey,
          curvePublicKey: curve.publicKey,
          curveSecretKey: curve.secretKey,
        }
      : {};
    const { pub, sub } = openSocketPair(security);
    // connect() never fails for an absent peer: ZeroMQ keeps retrying in the background.
    sub.connect(endpoints.tokens);
    pub.connect(endpoints.state);
    log.info(
      `cerebellum link: tokens from ${endpoints.tokens}, state to ${endpoints.state}, ${curve ? 'CURVE' : 'no encryption'}`,
    );
    return new LinkClient(options, sub, pub, log);
  }

  /** Called with the newest valid token packet of each received batch. */
  onTokens(handler: (tokens: TokensPacket) => void): void {
    this.tokensHandler = handler;
  }

  /** Called with every valid e-stop packet, engage or release, in order. */
  onEstop(handler: (estop: EstopPacket) => void): void {
    this.estopHandler = handler;
  }

  sendState(state: StateToSend): void {
    const packet: StatePacket = {
      v: PROTOCOL_VERSION,
      kind: 'state',
      spec_id: this.options.specId,
      seq: this.stateSeq++,
      ...state,
    };
    this.sender.send('state', encodePacket(packet));
    this.counters.sent++;
    this.counters.sendSuperseded = this.sender.superseded;
  }

  /** The brain as it last said hello, if it has. */
  get brain(): PeerHello | undefined {
    return this.brainHello;
  }

  /** When the last packet of any kind arrived from the brain (epoch ns; 0 if never). */
  get lastReceiveStampNs(): bigint {
    return this.lastReceiveNs;
  }

  close(): void {
    this.stopHello();
    this.sub.close();
    this.pub.close();
  }

  private onBatch(batch: Buffer[][]): void {
    const now = this.now();
    this.lastReceiveNs = now;
    let newest: TokensPacket | undefined;
    for (const packet of decodeBatch(batch, this.source, this.counters, this.limited)) {
      if (packet.kind === 'estop') {
        // Never superseded or dropped as stale: every e-stop packet reaches the controller.
        this.counters.delivered++;
        this.log.warn(
          `${this.source}: e-stop ${packet.engage ? 'ENGAGED' : 'released'}: ${packet.reason}`,
        );
        this.estopHandler?.(packet);
      } else if (packet.kind === 'hello') {
        this.brainHello = acceptHello(
          packet,
          this.options.specId,
          this.brainHello,
          this.source,
          this.log,
        );
      } else if (packet.kind !== 'tokens') {
        this.counters.drop('unexpected_kind');
        this.limited.warn(
          'kind',
          `${this.source}: dropped a '${packet.kind}' packet (only tokens, estop and hello belong here)`,
        );
      } else if (this.admit(packet, now)) {
        if (newest) this.handOn(newest, this.options.deliver === 'every');
        newest = packet;
      }
    }
    if (newest) this.handOn(newest, true);
  }

  private handOn(packet: TokensPacket, deliver: boolean): void {
    if (!deliver) {
      this.counters.drop('superseded');
      return;
    }
    if (!this.tokensHandler) return;
    this.counters.delivered++;
    this.tokensHandler(packet);
  }

  /** The checks a token packet passes before any controller sees it. */
  private admit(packet: TokensPacket, now: bigint): boolean {
    if (packet.spec_id !== this.options.specId) {
      this.counters.drop('spec_mismatch');
      this.limited.warn(
        `spec/${packet.spec_id}`,
        `${this.source}: refused tokens from model '${packet.model_id}' for spec ${packet.spec_id.slice(0, 12)}; this cerebellum executes ${this.options.specId.slice(0, 12)} (the model package and the robot's calibration disagree)`,
      );
      return false;
    }
    if (packet.seq === this.lastSeq && packet.obs_stamp_ns === this.lastObsStampNs) {
      this.counters.drop('duplicate');
      return false;
    }
    this.trackSequence(packet.seq);
    const ageNs = now - packet.obs_stamp_ns;
    if (ageNs > this.maxAgeNs) {
      this.counters.drop('stale');
      this.limited.warn(
        'stale',
        `${this.source}: dropped tokens seq ${packet.seq}: observation is ${(Number(ageNs) / 1e6).toFixed(1)} ms old (limit ${Number(this.maxAgeNs) / 1e6} ms)`,
      );
      return false;
    }
    if (-ageNs > this.futureToleranceNs) {
      this.counters.futureStamps++;
      this.limited.warn(
        'future',
        `${this.source}: tokens seq ${packet.seq} stamped ${(Number(-ageNs) / 1e6).toFixed(1)} ms in the future: are the clocks of brain and cerebellum synchronised?`,
      );
    }
    if (packet.obs_stamp_ns < this.lastObsStampNs) {
      this.counters.drop('out_of_order');
      return false;
    }
    this.lastObsStampNs = packet.obs_stamp_ns;
    return true;
  }

  private trackSequence(seq: number): void {
    const last = this.lastSeq;
    this.lastSeq = seq;
    if (last < 0 || seq === last + 1) return;
    if (seq > last + 1) {
      this.counters.seqGaps += seq - last - 1;
      this.limited.warn(
        'gap',
        `${this.source}: ${seq - last - 1} token packet(s) missing before seq ${seq}`,
      );
    } else if (seq < last) {
      this.counters.seqResets++;
      this.log.info(
        `${this.source}: sequence restarted at ${seq} (after ${last}): the brain restarted`,
      );
    }
  }
}

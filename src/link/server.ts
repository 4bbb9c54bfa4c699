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
import { type CurveServerSecurity, enforceTransportSecurity } from './security.js';
import { NewestSender, openSocketPair, receiveBatches } from './sockets.js';
import { ZapAuthenticator } from './zap.js';

export interface LinkEndpoints {
  /** Where the brain publishes token packets. */
  tokens: string;
  /** Where the brain listens for state packets. */
  state: string;
}

export interface LinkIdentity {
  /** The ActionSpec's canonical JSON and its id. */
  spec: string;
  specId: string;
  modelId: string;
  software: string;
}

export interface LinkServerOptions extends LinkIdentity {
  endpoints: LinkEndpoints;
  curve?: CurveServerSecurity;
  insecure?: boolean;
  log?: LinkLog;
  helloIntervalMs?: number;
  /** Clock for emit stamps (epoch ns by default; sim time or a monotonic clock in benchmarks). */
  now?: () => bigint;
}

export type TokensToSend = Pick<
  TokensPacket,
  'episode_id' | 'obs_stamp_ns' | 'tokens' | 'timings_ms'
>;

let nextDomain = 0;

/**
 * The brain's end of the link. It binds: token packets go out on a PUB socket to any
 * number of cerebellums (a slow one never blocks it: PUB drops at the high-water mark),
 * and state packets come back on a SUB socket, newest first.
 */
export class LinkServer {
  readonly counters = new LinkCounters();
  private seq = 0;
  private stateHandler: ((state: StatePacket) => void) | undefined;
  private peers = new Map<string, PeerHello>();
  private readonly limited: RateLimitedLog;
  private readonly sender: NewestSender;
  private readonly stopHello: () => void;

  private constructor(
    private readonly options: LinkServerOptions,
    private readonly pub: XPublisher,
    private readonly sub: Subscriber,
    private readonly zapDomain: string | undefined,
    private readonly log: LinkLog,
  ) {
    this.limited = new RateLimitedLog(log);
    this.sender = new NewestSender(pub);
    this.stopHello = announce(pub, this.sender, 'brain', options, options.helloIntervalMs ?? 1000);
    void receiveBatches(
      sub,
      (batch) => this.onBatch(batch),
      (err) => this.limited.warn('recv', `state receive failed: ${err.message}`),
    );
  }

  static async open(options: LinkServerOptions): Promise<LinkServer> {
    const log = options.log ?? stderrLog;
    const { endpoints, curve } = options;
    enforceTransportSecurity(
      [endpoints.tokens, endpoints.state],
      curve !== undefined,
      options.insecure ?? false,
      log,
    );
    let zapDomain: string | undefined;
    let security = {};
    if (curve) {
      zapDomain = `pons-${process.pid}-${nextDomain++}`;
      (await ZapAuthenticator.instance(log)).register(zapDomain, curve.authorizedKeys);
      security = {
        curveServer: true,
        curvePublicKey: curve.publicKey,
        curveSecretKey: curve.secretKey,
        zapDomain,
      };
    }
    const { pub, sub } = openSocketPair(security);
    try {
      await pub.bind(endpoints.tokens);
      await sub.bind(endpoints.state);
    } catch (err) {
      pub.close();
      sub.close();
      throw new Error(
        `cannot bind the link (${endpoints.tokens}, ${endpoints.state}): ${(err as Error).message}`,
      );
    }
    log.info(
      `brain link up: tokens ${endpoints.tokens}, state ${endpoints.state}, ${curve ? `CURVE with ${curve.authorizedKeys.size} authorized key(s)` : 'no encryption'}`,
    );
    return new LinkServer(options, pub, sub, zapDomain, log);
  }

  /** Publishes one decision; the sequence number and emit stamp are set here. */
  publishTokens(tokens: TokensToSend): TokensPacket {
    const packet: TokensPacket = {
      v: PROTOCOL_VERSION,
      kind: 'tokens',
      spec_id: this.options.specId,
      model_id: this.options.modelId,
      episode_id: tokens.episode_id,
      seq: this.seq++,
      obs_stamp_ns: tokens.obs_stamp_ns,
      emit_stamp_ns: (this.options.now ?? epochNowNs)(),
      tokens: tokens.tokens,
      timings_ms: tokens.timings_ms,
    };
    this.sender.send('tokens', encodePacket(packet));
    this.counters.sent++;
    this.counters.sendSuperseded = this.sender.superseded;
    return packet;
  }

  /** Engages (or, as an operator's explicit reset, releases) every cerebellum's e-stop. */
  publishEstop(engage: boolean, reason: string): void {
    const packet: EstopPacket = {
      v: PROTOCOL_VERSION,
      kind: 'estop',
      engage,
      reason,
      stamp_ns: (this.options.now ?? epochNowNs)(),
    };
    this.sender.send('estop', encodePacket(packet));
  }

  /** Resolves when every packet handed to this server has gone to the socket. */
  drained(): Promise<void> {
    return this.sender.drained();
  }

  /** Called with the newest valid state packet of each received batch. */
  onState(handler: (state: StatePacket) => void): void {
    this.stateHandler = handler;
  }

  /** Cerebellums as they last said hello, by model id. */
  get cerebellums(): ReadonlyMap<string, PeerHello> {
    return this.peers;
  }

  close(): void {
    this.stopHello();
    this.pub.close();
    this.sub.close();
    if (this.zapDomain)
      void ZapAuthenticator.instance(this.log).then((z) => z.unregister(this.zapDomain as string));
  }

  private onBatch(batch: Buffer[][]): void {
    const source = `state ${this.options.endpoints.state}`;
    let newest: StatePacket | undefined;
    for (const packet of decodeBatch(batch, source, this.counters, this.limited)) {
      if (packet.kind === 'hello') {
        const key = packet.model_id;
        this.peers.set(
          key,
          acceptHello(packet, this.options.specId, this.peers.get(key), source, this.log),
        );
      } else if (packet.kind !== 'state') {
        this.counters.drop('unexpected_kind');
        this.limited.warn(
          `${source}/kind`,
          `${source}: dropped a '${packet.kind}' packet (only state and hello belong here)`,
        );
      } else if (packet.spec_id !== this.options.specId) {
        this.counters.drop('spec_mismatch');
        this.limited.warn(
          `${source}/spec/${packet.spec_id}`,
          `${source}: refused state for spec ${packet.spec_id.slice(0, 12)}; this brain speaks ${this.options.specId.slice(0, 12)}`,
        );
      } else {
        if (newest) this.counters.drop('superseded');
        newest = packet;
      }
    }
    if (newest && this.stateHandler) {
      this.counters.delivered++;
      this.stateHandler(newest);
    }
  }
}

import type { ActionSpec } from '../contract/index.js';
import { LinkClient, type LinkClientOptions } from '../link/index.js';
import { tokenizerFor } from '../tokenizer/index.js';
import { epochNowNs, InputError, type TokensPacket } from '../wire/index.js';

/**
 * A cerebellum stand-in that executes nothing: it receives token packets through the
 * real link, decodes them with the shared tokenizer, measures latency, and answers with
 * state packets of a virtual arm that holds the first step of the newest chunk.
 */
export interface ListenerReport {
  seq: number;
  modelId: string;
  latencyUs: number;
  firstStep: number[];
}

export interface TokenListenerOptions {
  spec: ActionSpec;
  link: LinkClientOptions;
  onReport?: (report: ListenerReport) => void;
  stateRateHz?: number;
}

export class TokenListener {
  readonly latenciesUs: number[] = [];
  decodeErrors = 0;
  private lastSeq = -1;
  private readonly chunk: Float64Array;
  private readonly position: Float64Array;
  private readonly velocity: Float64Array;
  private readonly tokenizer;
  private stateTimer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly options: TokenListenerOptions,
    readonly link: LinkClient,
  ) {
    const dims = options.spec.dimensions.length;
    this.tokenizer = tokenizerFor(options.spec);
    this.chunk = new Float64Array(options.spec.horizon * dims);
    this.position = new Float64Array(dims);
    this.velocity = new Float64Array(dims);
    link.onTokens((packet) => this.onTokens(packet));
  }

  static async start(options: TokenListenerOptions): Promise<TokenListener> {
    const listener = new TokenListener(options, await LinkClient.open(options.link));
    const period = 1000 / (options.stateRateHz ?? 10);
    listener.stateTimer = setInterval(() => listener.sendState(), period);
    return listener;
  }

  stop(): void {
    clearInterval(this.stateTimer);
    this.link.close();
  }

  private onTokens(packet: TokensPacket): void {
    const latencyUs = Number(epochNowNs() - packet.emit_stamp_ns) / 1e3;
    try {
      this.tokenizer.decodeInto(packet.tokens, this.chunk, `tokens seq ${packet.seq}`);
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      this.decodeErrors++;
      process.stderr.write(`[pons listen] WARN ${err.message}\n`);
      return;
    }
    this.latenciesUs.push(latencyUs);
    this.lastSeq = packet.seq;
    this.position.set(this.chunk.subarray(0, this.position.length));
    this.options.onReport?.({
      seq: packet.seq,
      modelId: packet.model_id,
      latencyUs,
      firstStep: Array.from(this.position),
    });
  }

  private sendState(): void {
    this.link.sendState({
      stamp_ns: epochNowNs(),
      position: this.position,
      velocity: this.velocity,
      mode: this.lastSeq < 0 ? 'hold' : 'run',
      last_token_seq: this.lastSeq,
    });
  }
}

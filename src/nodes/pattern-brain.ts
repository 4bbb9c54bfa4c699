import { type ActionSpec, stepPeriodNs } from '../contract/index.js';
import { LinkServer, type LinkServerOptions } from '../link/index.js';
import { tokenizerFor } from '../tokenizer/index.js';
import { epochNowNs, type StatePacket } from '../wire/index.js';

/**
 * A brain stand-in that needs no model: it publishes smooth test-pattern chunks (each
 * joint swinging sinusoidally over 40% of its range, at 0.1 Hz: inside the bundled arm's
 * velocity limits) through the real tokenizer and link, so a cerebellum, a recorder or
 * the link itself can be exercised anywhere.
 */
export interface PatternBrainOptions {
  spec: ActionSpec;
  link: LinkServerOptions;
  rateHz: number;
  episodeId?: string;
  onState?: (state: StatePacket) => void;
}

export class PatternBrain {
  private timer: NodeJS.Timeout | undefined;
  private readonly chunk: Float64Array;
  private readonly tokenizer;
  private readonly startNs = epochNowNs();

  private constructor(
    private readonly options: PatternBrainOptions,
    readonly link: LinkServer,
  ) {
    this.tokenizer = tokenizerFor(options.spec);
    this.chunk = new Float64Array(options.spec.horizon * options.spec.dimensions.length);
    if (options.onState) link.onState(options.onState);
  }

  static async start(options: PatternBrainOptions): Promise<PatternBrain> {
    const brain = new PatternBrain(options, await LinkServer.open(options.link));
    brain.timer = setInterval(() => brain.decide(), 1000 / options.rateHz);
    return brain;
  }

  /** The pattern's value for every dimension at `tNs` (epoch ns), written into `out`. */
  patternAt(tNs: bigint, out: Float64Array, offset = 0): void {
    const t = Number(tNs - this.startNs) / 1e9;
    this.options.spec.dimensions.forEach((dim, d) => {
      const mid = (dim.lower + dim.upper) / 2;
      const amplitude = 0.2 * (dim.upper - dim.lower);
      out[offset + d] = mid + amplitude * Math.sin(2 * Math.PI * 0.1 * t + d);
    });
  }

  decide(): void {
    const { spec } = this.options;
    const obsNs = epochNowNs();
    const dtNs = stepPeriodNs(spec);
    for (let k = 0; k < spec.horizon; k++) {
      this.patternAt(obsNs + BigInt(k) * dtNs, this.chunk, k * spec.dimensions.length);
    }
    const t0 = performance.now();
    const tokens = this.tokenizer.encode(this.chunk);
    this.link.publishTokens({
      episode_id: this.options.episodeId ?? 'pattern',
      obs_stamp_ns: obsNs,
      tokens,
      timings_ms: { tokenize: performance.now() - t0 },
    });
  }

  stop(): void {
    clearInterval(this.timer);
    this.link.close();
  }
}

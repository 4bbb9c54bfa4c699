import { type Distribution, distribution } from '../bench/percentiles.js';
import { type ActionSpec, InputError, specId } from '../contract/index.js';
import { type RecordedActionTokens, readActionTokensMsg } from '../ros/index.js';
import { type ActionTokenizer, tokenizerFor } from '../tokenizer/index.js';

/**
 * What `pons inspect` says about a topic of pons_msgs/ActionTokens: the spec, model and
 * episode ids seen, decisions lost (gaps in `seq`, which counts up by one per packet from a
 * brain and restarts at 0 with it), latencies (emit − observation stamp: how long the brain
 * took to decide; log − observation stamp: how old the decision was when it was recorded,
 * which in a cerebellum's recording includes the link) and the brain's stage timings. Tokens
 * of a spec pons knows are binned per action dimension through that spec's tokenizer; those
 * of any other spec are summarised as raw ids.
 */

export interface DimensionTokens {
  name: string;
  unit: string;
  /** Bin indices, 0 = the lowest action value (id = max id − bin). */
  bins: { min: number; max: number; distinct: number };
  /** The decoded bin centres, in the dimension's unit. */
  value: { min: number; max: number };
  /** Packets' tokens per bin index (bins never seen left out). */
  histogram: Record<string, number>;
}

export type SpecTokens =
  | {
      spec_id: string;
      known: true;
      spec_name: string;
      packets: number;
      /** Packets the spec's tokenizer refused (wrong count, an id out of range). */
      refused: number;
      first_refusal?: string;
      dimensions: DimensionTokens[];
    }
  | {
      spec_id: string;
      known: false;
      packets: number;
      tokens_per_packet: { min: number; max: number };
      ids: { min: number; max: number; distinct: number };
      histogram: Record<string, number>;
    };

export interface ActionTokensSummary {
  topic: string;
  packets: number;
  /** Messages that are not a readable ActionTokens (counted, not used). */
  invalid: number;
  first_invalid?: string;
  spec_ids: Record<string, number>;
  model_ids: Record<string, number>;
  episode_ids: number;
  /** Packets whose spec id is not the expected one (the profile's), when one is expected. */
  other_spec?: { expected: string; packets: number };
  seq: { lost: number; gaps: number; restarts: number; out_of_order: number };
  /**
   * decision: emit − observation stamp; log: log time − observation stamp; log_after_emit: log
   * time − emit (the link, in a cerebellum's recording; 0 in a brain's; negative when the two
   * processes' clocks disagree).
   */
  latency_ms: {
    decision: Distribution | null;
    log: Distribution | null;
    log_after_emit: Distribution | null;
  };
  timing_ms: Record<string, Distribution | null>;
  tokens: SpecTokens[];
}

/** [seconds after the recording's start, ms] of each packet, for plots. */
export interface LatencySeries {
  decision: [number, number][];
  log: [number, number][];
}

interface Latency {
  logTimeNs: bigint;
  decisionMs: number;
  logMs: number;
  afterEmitMs: number;
}

interface KnownSpec {
  spec: ActionSpec;
  tokenizer: ActionTokenizer;
}

class SpecTokenCounts {
  packets = 0;
  refused = 0;
  firstRefusal: string | undefined;
  minCount = Number.POSITIVE_INFINITY;
  maxCount = 0;
  /** Per dimension (one for unknown specs): count per bin or raw id. */
  readonly counts: Map<number, number>[];
  readonly values: { min: number; max: number }[];

  constructor(
    readonly id: string,
    readonly known: KnownSpec | undefined,
  ) {
    const dims = known?.spec.dimensions.length ?? 1;
    this.counts = Array.from({ length: dims }, () => new Map());
    this.values = Array.from({ length: dims }, () => ({ min: Infinity, max: -Infinity }));
  }

  add(tokens: Uint32Array, source: string): void {
    this.packets++;
    this.minCount = Math.min(this.minCount, tokens.length);
    this.maxCount = Math.max(this.maxCount, tokens.length);
    if (!this.known) {
      for (const id of tokens) bump(this.counts[0] as Map<number, number>, id);
      return;
    }
    const { tokenizer } = this.known;
    let actions: Float64Array;
    try {
      actions = tokenizer.decode(tokens, source);
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      this.refused++;
      this.firstRefusal ??= err.message;
      return;
    }
    tokens.forEach((id, i) => {
      const d = i % tokenizer.dims;
      bump(this.counts[d] as Map<number, number>, tokenizer.maxId - id);
      const range = this.values[d] as { min: number; max: number };
      range.min = Math.min(range.min, actions[i] as number);
      range.max = Math.max(range.max, actions[i] as number);
    });
  }

  summary(): SpecTokens {
    if (!this.known) {
      const ids = this.counts[0] as Map<number, number>;
      return {
        spec_id: this.id,
        known: false,
        packets: this.packets,
        tokens_per_packet: { min: this.minCount, max: this.maxCount },
        ids: { ...keyRange(ids), distinct: ids.size },
        histogram: sortedHistogram(ids),
      };
    }
    const { spec } = this.known;
    return {
      spec_id: this.id,
      known: true,
      spec_name: spec.name,
      packets: this.packets,
      refused: this.refused,
      ...(this.firstRefusal === undefined ? {} : { first_refusal: this.firstRefusal }),
      dimensions: spec.dimensions.map((dim, d) => {
        const bins = this.counts[d] as Map<number, number>;
        const value = this.values[d] as { min: number; max: number };
        return {
          name: dim.name,
          unit: dim.unit,
          bins: { ...keyRange(bins), distinct: bins.size },
          value: bins.size === 0 ? { min: 0, max: 0 } : value,
          histogram: sortedHistogram(bins),
        };
      }),
    };
  }
}

export class ActionTokenStats {
  private packets = 0;
  private invalid = 0;
  private firstInvalid: string | undefined;
  private readonly specIds = new Map<string, number>();
  private readonly modelIds = new Map<string, number>();
  private readonly episodeIds = new Set<string>();
  private readonly bySpec = new Map<string, SpecTokenCounts>();
  private readonly timings = new Map<string, number[]>();
  private readonly seq = { lost: 0, gaps: 0, restarts: 0, out_of_order: 0 };
  private lastSeq: bigint | undefined;
  private readonly latencies: Latency[] = [];

  /**
   * `specs`: the specs whose tokens can be decoded, by spec id; `expected`: the spec id a
   * packet should carry (packets of another are reported as such).
   */
  constructor(
    readonly topic: string,
    private readonly specs: ReadonlyMap<string, KnownSpec>,
    private readonly expected: string | undefined,
  ) {}

  add(message: unknown, logTimeNs: bigint): void {
    let t: RecordedActionTokens;
    try {
      t = readActionTokensMsg(message, this.topic);
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      this.invalid++;
      this.firstInvalid ??= err.message;
      return;
    }
    this.packets++;
    bump(this.specIds, t.spec_id);
    bump(this.modelIds, t.model_id);
    this.episodeIds.add(t.episode_id);
    this.countSeq(t.seq);
    this.latencies.push({
      logTimeNs,
      decisionMs: Number(t.emit_stamp_ns - t.obs_stamp_ns) / 1e6,
      logMs: Number(logTimeNs - t.obs_stamp_ns) / 1e6,
      afterEmitMs: Number(logTimeNs - t.emit_stamp_ns) / 1e6,
    });
    for (const [stage, ms] of Object.entries(t.timings_ms)) {
      const samples = this.timings.get(stage) ?? [];
      if (samples.length === 0) this.timings.set(stage, samples);
      samples.push(ms);
    }
    let counts = this.bySpec.get(t.spec_id);
    if (!counts) {
      counts = new SpecTokenCounts(t.spec_id, this.specs.get(t.spec_id));
      this.bySpec.set(t.spec_id, counts);
    }
    counts.add(t.tokens, this.topic);
  }

  summary(): ActionTokensSummary {
    const timing: Record<string, Distribution | null> = {};
    for (const [stage, samples] of this.timings) timing[stage] = distribution(samples);
    const other =
      this.expected === undefined
        ? undefined
        : this.packets - (this.specIds.get(this.expected) ?? 0);
    return {
      topic: this.topic,
      packets: this.packets,
      invalid: this.invalid,
      ...(this.firstInvalid === undefined ? {} : { first_invalid: this.firstInvalid }),
      spec_ids: Object.fromEntries(this.specIds),
      model_ids: Object.fromEntries(this.modelIds),
      episode_ids: this.episodeIds.size,
      ...(other === undefined
        ? {}
        : { other_spec: { expected: this.expected as string, packets: other } }),
      seq: { ...this.seq },
      latency_ms: {
        decision: distribution(this.latencies.map((l) => l.decisionMs)),
        log: distribution(this.latencies.map((l) => l.logMs)),
        log_after_emit: distribution(this.latencies.map((l) => l.afterEmitMs)),
      },
      timing_ms: timing,
      tokens: [...this.bySpec.values()].map((c) => c.summary()),
    };
  }

  latencySeries(startNs: bigint): LatencySeries {
    const at = (l: Latency) => Number(l.logTimeNs - startNs) / 1e9;
    return {
      decision: this.latencies.map((l) => [at(l), l.decisionMs]),
      log: this.latencies.map((l) => [at(l), l.logMs]),
    };
  }

  /** A brain counts seq up by one per packet and restarts at 0; anything else is a loss. */
  private countSeq(seq: bigint): void {
    const last = this.lastSeq;
    this.lastSeq = seq;
    if (last === undefined) return;
    if (seq === last + 1n) return;
    if (seq > last + 1n) {
      this.seq.gaps++;
      this.seq.lost += Number(seq - last - 1n);
    } else if (seq === 0n) this.seq.restarts++;
    else this.seq.out_of_order++;
  }
}

/** The specs pons can decode tokens of, keyed by their spec id. */
export function knownSpecs(specs: readonly ActionSpec[]): Map<string, KnownSpec> {
  return new Map(specs.map((spec) => [specId(spec), { spec, tokenizer: tokenizerFor(spec) }]));
}

function bump<K>(map: Map<K, number>, key: K): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function keyRange(map: Map<number, number>): { min: number; max: number } {
  if (map.size === 0) return { min: 0, max: 0 };
  let [min, max] = [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
  for (const key of map.keys()) {
    min = Math.min(min, key);
    max = Math.max(max, key);
  }
  return { min, max };
}

function sortedHistogram(map: Map<number, number>): Record<string, number> {
  return Object.fromEntries([...map.entries()].sort((a, b) => a[0] - b[0]));
}

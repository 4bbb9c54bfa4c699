import { type ActionSpec, InputError } from '../contract/index.js';

/**
 * OpenVLA's uniform action tokenizer (`prismatic/vla/action_tokenizer.py`), bit for bit:
 * physical → normalized by q01/q99 (BOUNDS_Q99) → one of `bins` uniform bins → token id
 * counted down from `vocab_size − id_offset`; ids decode to bin centers. Every float
 * operation below is written in numpy's order so results match it exactly (see
 * test/fixtures/tokenizer/make_golden.py).
 */
export class UniformActionTokenizer {
  /** Inclusive action id range: `vocab_size − id_offset − bins` … `vocab_size − id_offset − 1`. */
  readonly minId: number;
  readonly maxId: number;
  readonly dims: number;
  readonly horizon: number;
  readonly tokensPerDecision: number;

  private readonly top: number;
  private readonly minAction: number;
  private readonly maxAction: number;
  private readonly edges: Float64Array;
  private readonly centers: Float64Array;
  private readonly q01: Float64Array;
  private readonly q99: Float64Array;
  private readonly mask: Uint8Array;

  constructor(spec: ActionSpec) {
    const { bins, vocab_size, id_offset, min_action, max_action } = spec.tokenizer;
    const stats = spec.statistics;
    this.dims = spec.dimensions.length;
    this.horizon = spec.horizon;
    this.tokensPerDecision = this.horizon * this.dims;
    // Specs come validated from parseActionSpec; these guard hand-built ones.
    if (!Number.isInteger(bins) || bins < 2) throw new RangeError(`bins ${bins} must be >= 2`);
    if (!(min_action < max_action)) throw new RangeError('min_action must be below max_action');
    this.top = vocab_size - id_offset;
    this.minId = this.top - bins;
    this.maxId = this.top - 1;
    if (this.minId < 0) throw new RangeError('vocab_size − id_offset leaves no room for the bins');
    for (const key of ['q01', 'q99', 'mask'] as const) {
      if (stats[key].length !== this.dims) {
        throw new RangeError(`statistics.${key} has ${stats[key].length} values, not ${this.dims}`);
      }
    }
    this.minAction = min_action;
    this.maxAction = max_action;

    // numpy.linspace: i·step + start, then the last element set exactly to stop.
    const step = (max_action - min_action) / (bins - 1);
    this.edges = new Float64Array(bins);
    for (let i = 0; i < bins; i++) this.edges[i] = i * step + min_action;
    this.edges[bins - 1] = max_action;
    this.centers = new Float64Array(bins - 1);
    for (let i = 0; i < bins - 1; i++) {
      this.centers[i] = ((this.edges[i] as number) + (this.edges[i + 1] as number)) / 2;
    }
    this.q01 = Float64Array.from(stats.q01);
    this.q99 = Float64Array.from(stats.q99);
    this.mask = Uint8Array.from(stats.mask, (m) => (m ? 1 : 0));
  }

  /** Physical → normalized, per dimension; `physical` is D values or whole steps of D. */
  normalize(physical: ArrayLike<number>, out?: Float64Array): Float64Array {
    const res = this.output(physical.length, out);
    for (let i = 0; i < physical.length; i++) res[i] = this.normalizeAt(physical[i] as number, i);
    return res;
  }

  /** Normalized → physical, per dimension: the inverse of `normalize` inside [q01, q99]. */
  unnormalize(norm: ArrayLike<number>, out?: Float64Array): Float64Array {
    const res = this.output(norm.length, out);
    for (let i = 0; i < norm.length; i++) res[i] = this.unnormalizeAt(norm[i] as number, i);
    return res;
  }

  /** A physical H×D chunk (step-major) → H·D token ids. */
  encode(chunk: ArrayLike<number>): Uint32Array {
    return this.encodeInto(chunk, new Uint32Array(this.tokensPerDecision));
  }

  encodeInto(chunk: ArrayLike<number>, out: Uint32Array): Uint32Array {
    const n = this.tokensPerDecision;
    if (chunk.length !== n) {
      throw new RangeError(`chunk has ${chunk.length} values, the spec needs H·D = ${n}`);
    }
    if (out.length !== n) throw new RangeError(`out has ${out.length} slots, not H·D = ${n}`);
    return this.encodeValues(chunk, out, 'chunk');
  }

  /** One step's D physical values → D token ids: a joint state as a prompt spells it. */
  encodeStep(values: ArrayLike<number>): Uint32Array {
    if (values.length !== this.dims) {
      throw new RangeError(
        `step has ${values.length} values, the spec has ${this.dims} dimensions`,
      );
    }
    return this.encodeValues(values, new Uint32Array(this.dims), 'step');
  }

  private encodeValues(values: ArrayLike<number>, out: Uint32Array, what: string): Uint32Array {
    for (let i = 0; i < out.length; i++) {
      const a = values[i] as number;
      if (!Number.isFinite(a)) throw new RangeError(`${what}[${i}] is ${a}, not a finite number`);
      out[i] = this.top - this.digitize(this.clip(this.normalizeAt(a, i)));
    }
    return out;
  }

  /** H·D token ids → a physical H×D chunk (step-major). */
  decode(ids: Uint32Array, source: string): Float64Array {
    return this.decodeInto(ids, new Float64Array(this.tokensPerDecision), source);
  }

  /** As `decode`, into `out` without allocating: the control loop's path. */
  decodeInto(ids: Uint32Array, out: Float64Array, source: string): Float64Array {
    const n = this.tokensPerDecision;
    if (ids.length !== n) {
      throw new InputError(source, 'tokens', `has ${ids.length} ids, the spec needs H·D = ${n}`);
    }
    if (out.length !== n) throw new RangeError(`out has ${out.length} slots, not H·D = ${n}`);
    const last = this.centers.length - 1;
    for (let i = 0; i < n; i++) {
      const id = ids[i] as number;
      if (id < this.minId || id > this.maxId) {
        throw new InputError(
          source,
          `tokens[${i}]`,
          `id ${id} is outside the action range [${this.minId}, ${this.maxId}]`,
        );
      }
      // OpenVLA clips bin − 1 into the centers; only bin = bins (the max edge) needs it.
      const index = Math.min(this.top - id - 1, last);
      out[i] = this.unnormalizeAt(this.centers[index] as number, i);
    }
    return out;
  }

  private normalizeAt(a: number, i: number): number {
    const d = i % this.dims;
    if (this.mask[d] === 0) return a;
    const lo = this.q01[d] as number;
    const hi = this.q99[d] as number;
    return this.clip((2 * (a - lo)) / (hi - lo + 1e-8) - 1);
  }

  private unnormalizeAt(x: number, i: number): number {
    const d = i % this.dims;
    if (this.mask[d] === 0) return x;
    const lo = this.q01[d] as number;
    const hi = this.q99[d] as number;
    return 0.5 * (x + 1) * (hi - lo) + lo;
  }

  /**
   * np.clip's rule: NaN kept, else max with the lower bound, then min with the upper. Ternaries,
   * not Math.max/min, because those order signed zeros differently from numpy.
   */
  private clip(x: number): number {
    if (Number.isNaN(x)) return x;
    // biome-ignore lint/complexity/useMathMinMax: numpy's signed-zero behaviour, see above
    const v = x > this.minAction ? x : this.minAction;
    // biome-ignore lint/complexity/useMathMinMax: numpy's signed-zero behaviour, see above
    return v < this.maxAction ? v : this.maxAction;
  }

  /** np.digitize on increasing edges: how many edges are <= x (1..bins after clipping). */
  private digitize(x: number): number {
    let lo = 0;
    let hi = this.edges.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.edges[mid] as number) <= x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private output(length: number, out: Float64Array | undefined): Float64Array {
    if (length % this.dims !== 0) {
      throw new RangeError(`${length} values are not whole steps of ${this.dims} dimensions`);
    }
    if (out === undefined) return new Float64Array(length);
    if (out.length !== length) throw new RangeError(`out has ${out.length} slots, not ${length}`);
    return out;
  }
}

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ActionSpec,
  InputError,
  loadActionSpec,
  parseActionSpec,
} from '../../src/contract/index.js';
import { tokenizerFor, UniformActionTokenizer } from '../../src/tokenizer/index.js';

const planarArm = loadActionSpec(
  new URL('../../calibration/planar-arm/action_spec.yaml', import.meta.url).pathname,
);

interface SpecOptions {
  q01: number[];
  q99: number[];
  mask?: boolean[];
  horizon?: number;
  bins?: number;
  vocab_size?: number;
  id_offset?: number;
  min_action?: number;
  max_action?: number;
}

/** A valid spec (checked by parseActionSpec) with the given statistics and tokenizer. */
function makeSpec(o: SpecOptions): ActionSpec {
  const dims = o.q01.length;
  return parseActionSpec(
    {
      name: 'test',
      horizon: o.horizon ?? 2,
      dt: 0.1,
      dimensions: o.q01.map((lo, i) => ({
        name: `d${i}`,
        unit: 'rad',
        kind: 'joint_position',
        lower: Math.min(lo, 0) - 1,
        upper: Math.max(o.q99[i] as number, 1) + 1,
      })),
      tokenizer: {
        type: 'uniform',
        bins: o.bins ?? 256,
        vocab_size: o.vocab_size ?? 32000,
        id_offset: o.id_offset ?? 0,
        min_action: o.min_action ?? -1,
        max_action: o.max_action ?? 1,
      },
      statistics: {
        mean: new Array(dims).fill(0),
        std: new Array(dims).fill(1),
        min: o.q01,
        max: o.q99,
        q01: o.q01,
        q99: o.q99,
        ...(o.mask ? { mask: o.mask } : {}),
      },
    },
    'test',
  );
}

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}

describe('UniformActionTokenizer', () => {
  const tok = new UniformActionTokenizer(planarArm);

  it('takes its id range and sizes from the spec', () => {
    expect([tok.minId, tok.maxId]).toEqual([4096 - 256, 4095]);
    expect([tok.dims, tok.horizon, tok.tokensPerDecision]).toEqual([3, 8, 24]);
    const llama2 = new UniformActionTokenizer(makeSpec({ q01: [-1], q99: [1] }));
    expect([llama2.minId, llama2.maxId]).toEqual([31744, 31999]);
    const offset = new UniformActionTokenizer(
      makeSpec({ q01: [-1], q99: [1], vocab_size: 128256, id_offset: 256 }),
    );
    expect([offset.minId, offset.maxId]).toEqual([127744, 127999]);
  });

  it('maps the normalized extremes to the range ends: -1 to maxId, +1 to minId', () => {
    const chunk = new Array<number>(24).fill(0);
    chunk[0] = -2.6;
    chunk[1] = 100;
    chunk[2] = -100;
    const ids = tok.encode(chunk);
    // q01 itself normalizes to exactly -1; beyond the range clips.
    expect([ids[0], ids[1], ids[2]]).toEqual([4095, 3840, 4095]);
  });

  it.each([
    [3839, 5],
    [4096, 0],
    [0, 23],
    [0xffffffff, 7],
  ])('rejects id %i at index %i as outside the action range', (id, index) => {
    const ids = tok.encode(new Array<number>(24).fill(0.1));
    ids[index] = id;
    const err = catchError(() => tok.decode(ids, 'brain@tcp://x'));
    expect(err).toBeInstanceOf(InputError);
    expect(err).toMatchObject({
      source: 'brain@tcp://x',
      field: `tokens[${index}]`,
      reason: `id ${id} is outside the action range [3840, 4095]`,
    });
  });

  it('rejects a token count other than H·D', () => {
    for (const n of [0, 23, 25, 48]) {
      const err = catchError(() => tok.decode(new Uint32Array(n).fill(4000), 'pkt'));
      expect(err).toBeInstanceOf(InputError);
      expect(err).toMatchObject({ source: 'pkt', field: 'tokens' });
      expect((err as InputError).reason).toContain(`has ${n} ids`);
    }
    expect(() => tok.encode(new Array(23).fill(0))).toThrow(RangeError);
    expect(() => tok.decodeInto(new Uint32Array(24).fill(4000), new Float64Array(23), 'p')).toThrow(
      RangeError,
    );
  });

  it('refuses NaN and infinities to encode, naming the index', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      const chunk = new Array<number>(24).fill(0);
      chunk[17] = bad;
      expect(() => tok.encode(chunk)).toThrow(/chunk\[17\]/);
    }
  });

  it('decodes into the caller-owned buffer', () => {
    const out = new Float64Array(24);
    const ids = tok.encode(new Array<number>(24).fill(1.234));
    expect(tok.decodeInto(ids, out, 'p')).toBe(out);
    expect(Array.from(out)).toEqual(Array.from(tok.decode(ids, 'p')));
    for (const v of out) expect(Math.abs(v - 1.234)).toBeLessThanOrEqual(5.2 / 255 / 2 + 1e-12);
  });

  it('passes masked-out dimensions through unnormalized', () => {
    const t = new UniformActionTokenizer(
      makeSpec({ q01: [-10, 0], q99: [30, 1], mask: [true, false] }),
    );
    // One step, then two: normalize works per dimension on whole steps.
    // q01 normalizes to exactly -1; the masked-out values come back unchanged, even beyond ±1.
    expect(Array.from(t.normalize([-10, 0.75]))).toEqual([-1, 0.75]);
    expect(Array.from(t.normalize([-10, 5, -10, -3]))).toEqual([-1, 5, -1, -3]);
    expect(Array.from(t.unnormalize([0, 0.75, -1, 7]))).toEqual([10, 0.75, -10, 7]);
    // The gripper (mask false) bins its raw value in [-1, 1]: 0.75 decodes to a bin center
    // near 0.75, not to 0.5·(0.75+1)·1 + 0.
    const decoded = t.decode(t.encode([10, 0.75, 10, 0.75]), 'p');
    expect(Math.abs((decoded[1] as number) - 0.75)).toBeLessThanOrEqual(1 / 255);
    expect(Math.abs((decoded[0] as number) - 10)).toBeLessThanOrEqual((40 / 255) * 0.5 + 1e-9);
    expect(() => t.normalize([1, 2, 3])).toThrow(RangeError);
  });

  it('defaults the mask to all normalized', () => {
    const spec = makeSpec({ q01: [0, 0], q99: [2, 4] });
    expect(spec.statistics.mask).toEqual([true, true]);
    const [a, b] = new UniformActionTokenizer(spec).normalize([1, 1]);
    expect(a).toBeCloseTo(0, 7);
    expect(b).toBeCloseTo(-0.5, 7);
  });

  it('decodes the top and bottom ids to the outermost bin centers', () => {
    const t = new UniformActionTokenizer(makeSpec({ q01: [-1], q99: [1], horizon: 1, bins: 5 }));
    // Edges -1, -0.5, 0, 0.5, 1; centers -0.75, -0.25, 0.25, 0.75 (then unnormalized).
    const at = (id: number) => t.decode(Uint32Array.of(id), 'p')[0];
    expect(at(31999)).toBe(0.5 * (-0.75 + 1) * 2 - 1);
    expect(at(31996)).toBe(0.5 * (0.75 + 1) * 2 - 1);
    // id minId is digitize = bins (exactly max_action): OpenVLA clips it into the last center.
    expect(at(31995)).toBe(at(31996));
  });

  it('tokenizerFor builds the uniform tokenizer and refuses unknown types', () => {
    expect(tokenizerFor(planarArm)).toBeInstanceOf(UniformActionTokenizer);
    const fast = { ...planarArm, tokenizer: { ...planarArm.tokenizer, type: 'fast' } };
    expect(() => tokenizerFor(fast as unknown as ActionSpec)).toThrow(
      /unknown tokenizer type fast/,
    );
  });
});

/** A random valid spec: D, H, bins, vocabulary, offset, normalized range, q01 < q99, mask. */
const specArb = fc
  .record({
    dims: fc.integer({ min: 1, max: 8 }),
    horizon: fc.integer({ min: 1, max: 8 }),
    bins: fc.integer({ min: 2, max: 4096 }),
    idOffset: fc.integer({ min: 0, max: 1000 }),
    spare: fc.integer({ min: 0, max: 200_000 }),
    range: fc.oneof(
      fc.constant([-1, 1] as const),
      fc.tuple(
        fc.double({ min: -3, max: -0.25, noNaN: true }),
        fc.double({ min: 0.25, max: 3, noNaN: true }),
      ),
    ),
  })
  .chain((r) =>
    fc.record({
      r: fc.constant(r),
      q01: fc.array(fc.double({ min: -100, max: 100, noNaN: true }), {
        minLength: r.dims,
        maxLength: r.dims,
      }),
      span: fc.array(fc.double({ min: 0.01, max: 100, noNaN: true }), {
        minLength: r.dims,
        maxLength: r.dims,
      }),
      mask: fc.array(fc.boolean(), { minLength: r.dims, maxLength: r.dims }),
      // Where each action lies in the in-range interval, 0 = its low end, 1 = its high end.
      fractions: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), {
        minLength: r.dims * r.horizon,
        maxLength: r.dims * r.horizon,
      }),
    }),
  )
  .map(({ r, q01, span, mask, fractions }) => {
    const [minAction, maxAction] = r.range;
    const spec = makeSpec({
      q01,
      q99: q01.map((lo, i) => lo + (span[i] as number)),
      mask,
      horizon: r.horizon,
      bins: r.bins,
      vocab_size: r.bins + r.idOffset + r.spare,
      id_offset: r.idOffset,
      min_action: minAction,
      max_action: maxAction,
    });
    return { spec, fractions };
  });

describe('UniformActionTokenizer properties', () => {
  it('decode(encode(a)) is within half a bin of every in-range a', () => {
    fc.assert(
      fc.property(specArb, ({ spec, fractions }) => {
        const tok = new UniformActionTokenizer(spec);
        const { min_action: lo, max_action: hi, bins } = spec.tokenizer;
        const { q01, q99, mask } = spec.statistics;
        const step = (hi - lo) / (bins - 1);
        // In range: a whose normalized value t lies in [min_action, max_action].
        const norm = fractions.map((f) => lo + f * (hi - lo));
        const chunk = norm.map((t, i) => {
          const d = i % tok.dims;
          const q = q01[d] as number;
          return mask[d] ? 0.5 * (t + 1) * ((q99[d] as number) - q) + q : t;
        });
        const ids = tok.encode(chunk);
        for (const id of ids) {
          if (id < tok.minId || id > tok.maxId) return false;
        }
        const back = tok.decode(ids, 'prop');
        for (let i = 0; i < chunk.length; i++) {
          const d = i % tok.dims;
          const q = q01[d] as number;
          const r = (q99[d] as number) - q;
          // Half a bin is step/2 normalized, i.e. (step/2)·(r/2) physical. The 1e-8 in the
          // normalization's denominator (absent from the un-normalization) shifts a by at most
          // 0.5·|t+1|·1e-8; the rest is float rounding at the values' magnitude.
          const bound = mask[d]
            ? (step / 2) * (r / 2) +
              0.5 * (Math.abs(norm[i] as number) + 1) * 1e-8 +
              1e-12 * (Math.abs(q) + r)
            : step / 2 + 1e-12;
          if (!(Math.abs((back[i] as number) - (chunk[i] as number)) <= bound)) return false;
        }
        return true;
      }),
      { numRuns: 500 },
    );
  });

  it('every id but the lowest survives decode then encode', () => {
    fc.assert(
      fc.property(specArb, fc.nat(), ({ spec }, seed) => {
        const tok = new UniformActionTokenizer(spec);
        const ids = new Uint32Array(tok.tokensPerDecision);
        const span = tok.maxId - tok.minId;
        // minId is digitize = bins (exactly max_action), which decodes into its neighbour's center.
        for (let i = 0; i < ids.length; i++) ids[i] = tok.minId + 1 + ((seed + i * 7919) % span);
        const again = tok.encode(tok.decode(ids, 'prop'));
        return Array.from(again).every((id, i) => id === ids[i]);
      }),
      { numRuns: 300 },
    );
  });
});

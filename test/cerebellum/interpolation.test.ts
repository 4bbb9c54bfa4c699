import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sampleChunk } from '../../src/cerebellum/interpolation.js';

// Two joints, four steps 0.1 s apart.
const chunk = Float64Array.of(0, 10, 1, 11, 3, 13, 6, 16);
const at = (t: number, mode: 'linear' | 'cubic') => {
  const out = new Float64Array(2);
  sampleChunk(chunk, 4, 2, 0.1, t, mode, out);
  return Array.from(out);
};
/** Joint 0 only. */
const q0 = (t: number, mode: 'linear' | 'cubic') => at(t, mode)[0] as number;

describe('chunk interpolation', () => {
  it('passes through every step in both modes', () => {
    for (const mode of ['linear', 'cubic'] as const) {
      [0, 1, 3, 6].forEach((q, k) => {
        const [a, b] = at(k * 0.1, mode);
        expect(a).toBeCloseTo(q, 12);
        expect(b).toBeCloseTo(q + 10, 12);
      });
    }
  });

  it('linear is the straight line between steps', () => {
    expect(at(0.15, 'linear')[0]).toBeCloseTo(2, 12);
    expect(at(0.025, 'linear')[1]).toBeCloseTo(10.25, 12);
  });

  it('clamps outside the chunk to its first and last steps', () => {
    expect(at(-1, 'cubic')).toEqual([0, 10]);
    expect(at(5, 'linear')).toEqual([6, 16]);
  });

  it('cubic has continuous velocity across steps, linear does not', () => {
    const slope = (t: number, mode: 'linear' | 'cubic') =>
      (q0(t + 1e-7, mode) - q0(t - 1e-7, mode)) / 2e-7;
    for (const k of [1, 2]) {
      const before = (q0(k * 0.1 - 1e-6, 'cubic') - q0(k * 0.1 - 2e-6, 'cubic')) / 1e-6;
      const after = (q0(k * 0.1 + 2e-6, 'cubic') - q0(k * 0.1 + 1e-6, 'cubic')) / 1e-6;
      expect(Math.abs(before - after)).toBeLessThan(1e-2);
    }
    // Linear: slope 10/s before step 1 and 20/s after it.
    expect(slope(0.05, 'linear')).toBeCloseTo(10, 4);
    expect(slope(0.15, 'linear')).toBeCloseTo(20, 4);
  });

  it('cubic stays within the range of the neighbouring steps for monotone data', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 0.3, noNaN: true }), (t) => {
        const q = q0(t, 'cubic');
        return q >= -1e-9 && q <= 6 + 1e-9;
      }),
    );
  });

  it('a one-step chunk is constant', () => {
    const out = new Float64Array(1);
    sampleChunk(Float64Array.of(2.5), 1, 1, 0.1, 0.05, 'cubic', out);
    expect(out[0]).toBe(2.5);
  });
});

import { describe, expect, it } from 'vitest';
import { ChunkSmoother } from '../../src/cerebellum/smoothing.js';

// 8 steps, 2 joints, step-major.
const H = 8;
const chunkOf = (f: (k: number) => number, g: (k: number) => number) =>
  Float64Array.from({ length: 2 * H }, (_, i) => (i % 2 === 0 ? f(i >> 1) : g(i >> 1)));

describe('chunk smoothing', () => {
  it('leaves a polynomial of the smoothing degree exactly as it is', () => {
    const chunk = chunkOf(
      (k) => 0.5 - 0.1 * k + 0.02 * k * k,
      (k) => -1 + 0.3 * k,
    );
    const before = Float64Array.from(chunk);
    new ChunkSmoother(H, 2, 2).smooth(chunk);
    chunk.forEach((v, i) => {
      expect(v).toBeCloseTo(before[i] as number, 12);
    });
  });

  it('removes quantization noise: a noisy line comes back closer to the line', () => {
    const line = (k: number) => 0.1 * k;
    const noise = [0.01, -0.01, 0.008, -0.009, 0.01, -0.007, 0.009, -0.01];
    const chunk = chunkOf(
      (k) => line(k) + (noise[k] as number),
      () => 0,
    );
    new ChunkSmoother(H, 2, 1).smooth(chunk);
    let before = 0;
    let after = 0;
    for (let k = 0; k < H; k++) {
      before += (noise[k] as number) ** 2;
      after += ((chunk[2 * k] as number) - line(k)) ** 2;
    }
    expect(after).toBeLessThan(before / 4);
  });

  it('degree 0 replaces each joint by its mean', () => {
    const chunk = chunkOf(
      (k) => k,
      () => 3,
    );
    new ChunkSmoother(H, 2, 0).smooth(chunk);
    for (let k = 0; k < H; k++) {
      expect(chunk[2 * k]).toBeCloseTo(3.5, 12);
      expect(chunk[2 * k + 1]).toBeCloseTo(3, 12);
    }
  });

  it('refuses a negative or fractional degree', () => {
    expect(() => new ChunkSmoother(H, 2, -1)).toThrow(RangeError);
    expect(() => new ChunkSmoother(H, 2, 1.5)).toThrow(RangeError);
  });
});

import { describe, expect, it } from 'vitest';
import { type Blending, ChunkScheduler } from '../../src/cerebellum/scheduler.js';

// One joint, 5 steps 0.1 s apart: a chunk spans 0.4 s.
const constant = (v: number) => new Float64Array(5).fill(v);
const ramp = (from: number) => Float64Array.from({ length: 5 }, (_, k) => from + k);
const make = (blending: Blending) => new ChunkScheduler(5, 1, 0.1, 'linear', blending);
const sample = (s: ChunkScheduler, t: number) => {
  const out = new Float64Array(1);
  return s.sample(t, out) ? out[0] : undefined;
};

describe('time-aligned chunk scheduling', () => {
  it('step k is due at the observation stamp plus k·dt, whatever the arrival time', () => {
    const s = make({ policy: 'latest' });
    // Observed at t=1.0, arrived 0.25 s later: steps 0–2 are past and never executed.
    expect(s.ingest(0, 1.0, ramp(0), 1.25)).toBe(true);
    expect(sample(s, 1.25)).toBeCloseTo(2.5, 12);
    expect(sample(s, 1.4)).toBeCloseTo(4, 12);
  });

  it('refuses a chunk whose last step is already past, and covers nothing outside a chunk', () => {
    const s = make({ policy: 'latest' });
    expect(s.ingest(0, 1.0, ramp(0), 1.5)).toBe(false);
    expect(sample(s, 1.2)).toBeUndefined();
    s.ingest(1, 2.0, ramp(0), 2.0);
    expect(sample(s, 1.99)).toBeUndefined();
    expect(sample(s, 2.41)).toBeUndefined();
    expect(s.newestCovering(2.1)).toBe(1);
  });

  it('latest switches to the new chunk at once', () => {
    const s = make({ policy: 'latest' });
    s.ingest(0, 0, constant(1), 0);
    s.ingest(1, 0.1, constant(2), 0.1);
    expect(sample(s, 0.1)).toBe(2);
    expect(sample(s, 0.45)).toBe(2);
    // Past the new chunk's end nothing covers, though the old one would have been shorter.
    expect(sample(s, 0.55)).toBeUndefined();
  });

  it('crossfade blends linearly over its window from the arrival', () => {
    const s = make({ policy: 'crossfade', windowS: 0.2 });
    s.ingest(0, 0, constant(0), 0);
    s.ingest(1, 0.1, constant(10), 0.1);
    expect(sample(s, 0.1)).toBeCloseTo(0, 12);
    expect(sample(s, 0.15)).toBeCloseTo(2.5, 12);
    expect(sample(s, 0.2)).toBeCloseTo(5, 12);
    expect(sample(s, 0.3)).toBeCloseTo(10, 12);
  });

  it('ensemble weights every covering chunk exp(−decay·i), oldest first', () => {
    const s = make({ policy: 'ensemble', decay: Math.log(2) });
    s.ingest(0, 0, constant(0), 0);
    s.ingest(1, 0.1, constant(3), 0.1);
    // Weights 1 (oldest) and 1/2: (0·1 + 3·0.5) / 1.5 = 1.
    expect(sample(s, 0.2)).toBeCloseTo(1, 12);
    s.ingest(2, 0.2, constant(7), 0.2);
    // Weights 1, 1/2, 1/4: (0 + 1.5 + 1.75) / 1.75.
    expect(sample(s, 0.3)).toBeCloseTo(3.25 / 1.75, 12);
    // Only the newest still covers t = 0.55.
    expect(sample(s, 0.55)).toBeCloseTo(7, 12);
  });

  it('clear forgets every chunk', () => {
    const s = make({ policy: 'latest' });
    s.ingest(0, 0, constant(1), 0);
    s.clear();
    expect(sample(s, 0.1)).toBeUndefined();
  });
});

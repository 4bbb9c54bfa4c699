import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadActionSpec } from '../../src/contract/index.js';
import { createSimulator, runChunkedEpisode, type Simulator } from '../../src/sim/index.js';

const spec = loadActionSpec(
  new URL('../../calibration/planar-arm/action_spec.yaml', import.meta.url).pathname,
);

let sim: Simulator;
beforeAll(async () => {
  sim = await createSimulator();
});
afterAll(() => sim.dispose());

describe('runChunkedEpisode', () => {
  /** A chunk holding the arm where it is. */
  const hold = (position: Float64Array) =>
    Float64Array.from({ length: spec.horizon * 3 }, (_, i) => position[i % 3] as number);

  it('asks again after replanSeconds, and runs beforeTick before every tick', () => {
    sim.reset(3, 'reach');
    const asked: bigint[] = [];
    const ticks: number[] = [];
    const result = runChunkedEpisode(
      sim,
      spec,
      (state) => {
        asked.push(state.timeNs);
        return hold(state.position);
      },
      1.3,
      { replanSeconds: 0.5, beforeTick: (tick) => ticks.push(tick) },
    );
    expect(result.success).toBe(false);
    expect(result.ticks).toBe(260);
    expect(asked).toEqual([0n, 500_000_000n, 1_000_000_000n]);
    expect(result.chunks).toBe(3);
    expect(ticks).toEqual(Array.from({ length: 260 }, (_, i) => i));
  });

  it('without replanSeconds uses each chunk up (H·dt), and refuses a replan shorter than a tick', () => {
    sim.reset(3, 'reach');
    const asked: bigint[] = [];
    runChunkedEpisode(
      sim,
      spec,
      (state) => {
        asked.push(state.timeNs);
        return hold(state.position);
      },
      2,
    );
    expect(asked).toEqual([0n, 800_000_000n, 1_600_000_000n]);
    expect(() =>
      runChunkedEpisode(sim, spec, (s) => hold(s.position), 1, { replanSeconds: 0.001 }),
    ).toThrow(/shorter than a physics tick/);
  });
});

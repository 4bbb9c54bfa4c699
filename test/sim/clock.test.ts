import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSimulator,
  runFast,
  runPaced,
  SimClock,
  type Simulator,
} from '../../src/sim/index.js';

describe('SimClock', () => {
  it('keeps integer nanoseconds and runs whole ticks, carrying the remainder', () => {
    const clock = new SimClock(200);
    expect(clock.periodNs).toBe(5_000_000n);
    expect([0.002, 0.002, 0.002, 0.004].map((dt) => clock.advance(dt, 'test'))).toEqual([
      0, 0, 1, 1,
    ]);
    expect(clock.timeNs).toBe(10_000_000n);
    expect(clock.advance(1, 'test')).toBe(200);
    expect(clock.timeNs).toBe(1_010_000_000n);
    clock.reset();
    expect(clock.timeNs).toBe(0n);
  });

  it('adds up exactly over a long run (no float drift)', () => {
    const clock = new SimClock(240);
    let ticks = 0;
    for (let i = 0; i < 36_000; i++) ticks += clock.advance(0.01, 'test');
    // 360 s at 240 Hz; the period is rounded to whole nanoseconds (4_166_667 ns).
    expect(ticks).toBe(Math.floor(360e9 / 4_166_667));
    expect(clock.timeNs).toBe(BigInt(ticks) * 4_166_667n);
  });
});

let sim: Simulator;
beforeAll(async () => {
  sim = await createSimulator();
});
afterAll(() => sim.dispose());

describe('stepping the simulator', () => {
  it('advances sim time by what is asked, in ticks of the physics period', () => {
    sim.reset(0, 'reach');
    expect(sim.timeNs).toBe(0n);
    expect(sim.step(0.1)).toBe(20);
    expect(sim.step()).toBe(1);
    expect(sim.timeNs).toBe(105_000_000n);
    expect(sim.jointState().stampNs).toBe(105_000_000n);
    sim.reset(0, 'reach');
    expect(sim.timeNs).toBe(0n);
  });

  it('runs as fast as possible, stopping when told', () => {
    sim.reset(0, 'reach');
    const seen: number[] = [];
    const ticks = runFast(sim, 1, (tick) => {
      seen.push(tick);
      return tick === 49;
    });
    expect(ticks).toBe(49);
    expect(seen.length).toBe(50);
    expect(sim.timeNs).toBe(49n * 5_000_000n);
    expect(runFast(sim, 0.5)).toBe(100);
  });

  it('paces to the wall clock when asked', async () => {
    sim.reset(0, 'reach');
    let slices = 0;
    const start = performance.now();
    await runPaced(sim, 0.1, { speed: 2, sliceSeconds: 0.01, afterSlice: () => slices++ });
    // 0.1 s of sim time at twice real time takes at least 50 ms of wall time.
    expect(performance.now() - start).toBeGreaterThanOrEqual(45);
    expect(slices).toBe(10);
    expect(sim.timeNs).toBe(100_000_000n);
  });
});

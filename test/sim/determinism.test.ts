import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadActionSpec } from '../../src/contract/index.js';
import {
  createSimulator,
  runChunkedEpisode,
  ScriptedExpert,
  type Simulator,
} from '../../src/sim/index.js';

const spec = loadActionSpec(
  new URL('../../calibration/planar-arm/action_spec.yaml', import.meta.url).pathname,
);

const hash = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/**
 * A fixed command sequence from a seeded episode: the shoulder sweeps the hand to and fro
 * across the blocks (contacts included). Every tick's joints and blocks, a frame every 0.1 s.
 */
function sweep(sim: Simulator, seed: number) {
  sim.reset(seed, 'push');
  const before = sim.state().blocks;
  const trace: number[] = [];
  const frames: string[] = [];
  for (let i = 0; i < 600; i++) {
    const t = i * sim.physicsPeriodSeconds;
    sim.applyJointTargets([0.9 * Math.sin(2 * t), 0.6 - 0.3 * t, 0.2]);
    sim.step();
    const { position, velocity } = sim.jointState();
    trace.push(...position, ...velocity);
    for (const b of sim.state().blocks) trace.push(b.x, b.y, b.angle);
    if (i % 20 === 0) frames.push(hash(sim.render().data));
  }
  const moved = Math.max(
    ...sim
      .state()
      .blocks.map((p, i) => Math.hypot(p.x - (before[i]?.x ?? 0), p.y - (before[i]?.y ?? 0))),
  );
  return { trace, frames, moved };
}

/** The expert's chunks and the states and frames they were planned from. */
function expertRun(sim: Simulator, seed: number) {
  sim.reset(seed, 'push');
  const expert = new ScriptedExpert(spec, sim.arm, sim.scene);
  const seen: unknown[] = [];
  runChunkedEpisode(
    sim,
    spec,
    (state) => {
      const chunk = expert.plan(state, sim.task);
      seen.push(state, hash(sim.render().data), Array.from(chunk));
      return chunk;
    },
    4,
  );
  return seen;
}

let a: Simulator;
let b: Simulator;
beforeAll(async () => {
  [a, b] = await Promise.all([createSimulator(), createSimulator()]);
});
afterAll(() => {
  a.dispose();
  b.dispose();
});

describe('determinism', () => {
  it('repeats a seed and command sequence bit for bit, on any instance', () => {
    const first = sweep(a, 11);
    // The sweep does move blocks: the run exercises contacts, not just the arm.
    expect(first.moved).toBeGreaterThan(0.01);
    expect(sweep(a, 11)).toEqual(first);
    expect(sweep(b, 11)).toEqual(first);
  });

  it('repeats an expert episode bit for bit', () => {
    const first = expertRun(a, 5);
    expect(first.length).toBeGreaterThan(9);
    expect(expertRun(b, 5)).toEqual(first);
  });

  it('gives different episodes for different seeds', () => {
    const one = sweep(a, 11);
    const two = sweep(a, 12);
    expect(two.frames[0]).not.toBe(one.frames[0]);
    expect(two.trace).not.toEqual(one.trace);
  });

  it('does not depend on how sim time is split into steps', () => {
    a.reset(3, 'reach');
    a.applyJointTargets([0.2, 0.4, -0.3]);
    a.step(0.5);
    const once = a.state();
    a.reset(3, 'reach');
    a.applyJointTargets([0.2, 0.4, -0.3]);
    for (let i = 0; i < 50; i++) a.step(0.01);
    expect(a.state()).toEqual(once);
  });
});

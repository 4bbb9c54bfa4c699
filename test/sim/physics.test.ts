import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BlockPose,
  createSimulator,
  type EpisodeLayout,
  initPhysics,
  type Simulator,
  tipPose,
  World,
} from '../../src/sim/index.js';

const red = (x: number, y: number): BlockPose => ({ colour: 'red', x, y, angle: 0 });
const layout = (arm: number[], blocks: BlockPose[]): EpisodeLayout => ({
  task: { kind: 'reach', colour: 'red' },
  arm,
  blocks,
});
const maxError = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  Math.max(...Array.from(a, (v, i) => Math.abs(v - (b[i] as number))));

let sim: Simulator;
beforeAll(async () => {
  sim = await createSimulator();
});
afterAll(() => sim.dispose());

describe('position motors', () => {
  it('settle on a step target and hold it', () => {
    sim.resetTo(layout([-1.2, 2.4, 1.2], [red(0.4, -0.3)]));
    const target = [0.5, -0.8, 0.6];
    sim.applyJointTargets(target);
    sim.step(2);
    const { position, velocity } = sim.jointState();
    expect(maxError(position, target)).toBeLessThan(2e-3);
    expect(maxError(velocity, [0, 0, 0])).toBeLessThan(1e-2);
  });

  it.each([100, 200, 500])('track a moving target at %i Hz physics', async (hz) => {
    const s = await createSimulator({ physicsHz: hz });
    s.resetTo(layout([0, 1, -1], [red(0.4, -0.3)]));
    // 0.5 Hz sines at up to 1 rad/s, velocities fed forward as a cerebellum would.
    let worst = 0;
    const ticks = Math.round(3 * hz);
    for (let i = 0; i < ticks; i++) {
      const t = i / hz;
      const w = Math.PI;
      const q = [0.3 * Math.sin(w * t), 1 + 0.3 * Math.sin(w * t), -1 + 0.3 * Math.cos(w * t)];
      const v = [0.3 * w * Math.cos(w * t), 0.3 * w * Math.cos(w * t), -0.3 * w * Math.sin(w * t)];
      s.applyJointTargets(q, v);
      s.step(1 / hz);
      if (t > 0.5) worst = Math.max(worst, maxError(s.jointState().position, q));
    }
    s.dispose();
    expect(worst).toBeLessThan(0.02);
  });

  it('reports joint angles that are the link bodies’ relative rotations', async () => {
    await initPhysics();
    const world = new World(sim.arm, sim.scene, sim.physicsPeriodSeconds);
    world.reset([0.3, -1.1, 0.9], []);
    world.setTargets([-0.4, 0.7, -1.3]);
    for (let i = 0; i < 300; i++) world.tick();
    const position = new Float64Array(3);
    world.readJoints(position, new Float64Array(3));
    const links = world.linkPoses();
    // The angles are differences of body rotations; the bodies' positions, held by the joints,
    // must agree: the hand body sits where forward kinematics of those angles puts the wrist.
    const upTo = (n: number) => tipPose({ ...sim.arm, links: sim.arm.links.slice(0, n) }, position);
    const wrist = upTo(2);
    const hand = links[2] as { x: number; y: number };
    expect(hand.x).toBeCloseTo(wrist.x, 6);
    expect(hand.y).toBeCloseTo(wrist.y, 6);
    expect(maxError(position, [-0.4, 0.7, -1.3])).toBeLessThan(2e-3);
    world.free();
  });

  it('clamp targets beyond the joint limits to them', () => {
    sim.resetTo(layout([0, 0, 0], [red(0.4, -0.3)]));
    sim.applyJointTargets([0, 0, 9]);
    sim.step(2);
    const wrist = sim.jointState().position[2] as number;
    expect(wrist).toBeLessThanOrEqual((sim.arm.upper[2] as number) + 1e-3);
    expect(wrist).toBeGreaterThan((sim.arm.upper[2] as number) - 0.01);
  });
});

describe('blocks', () => {
  it('stay exactly where they are while nothing touches them', () => {
    const blocks: BlockPose[] = [
      { colour: 'red', x: 0.35, y: 0.05, angle: 0.3 },
      { colour: 'blue', x: 0.45, y: -0.1, angle: 1.1 },
      { colour: 'green', x: 0.5, y: 0.1, angle: 0 },
    ];
    sim.resetTo({ task: { kind: 'reach', colour: 'red' }, arm: [-1.2, 2.4, 1.2], blocks });
    const atReset = sim.state().blocks;
    // Rapier keeps poses in float32.
    for (const [i, b] of atReset.entries()) {
      expect(b.x).toBe(Math.fround(blocks[i]?.x as number));
      expect(b.angle).toBeCloseTo(blocks[i]?.angle as number, 6);
    }
    sim.step(5);
    expect(sim.state().blocks).toEqual(atReset);
  });

  it('are pushed by the hand sweeping through them', () => {
    sim.resetTo(layout([0.5, 0, 0], [red(0.62, 0)]));
    for (let i = 1; i <= 100; i++) {
      sim.applyJointTargets([0.5 - i * 0.01, 0, 0]);
      sim.step(0.01);
    }
    sim.step(1);
    const block = sim.state().blocks[0] as BlockPose;
    // The hand swept clockwise (towards −y) through the block at 0.62 m and carried it along.
    expect(block.y).toBeLessThan(-0.05);
  });

  it('pass under the upper arm and forearm (the hand alone reaches the table)', () => {
    sim.resetTo(layout([0.5, 0, 0], [red(0.4, 0)]));
    const atReset = sim.state().blocks;
    for (let i = 1; i <= 100; i++) {
      sim.applyJointTargets([0.5 - i * 0.01, 0, 0]);
      sim.step(0.01);
    }
    expect(sim.state().blocks).toEqual(atReset);
  });

  it('slide to a stop once pushed (table friction)', () => {
    sim.resetTo(layout([0.5, 0, 0], [red(0.62, 0)]));
    for (let i = 1; i <= 100; i++) {
      sim.applyJointTargets([0.5 - i * 0.01, 0, 0]);
      sim.step(0.01);
    }
    sim.applyJointTargets([-1.2, 2.4, 1.2]);
    sim.step(2);
    const before = sim.state().blocks[0] as BlockPose;
    sim.step(1);
    const after = sim.state().blocks[0] as BlockPose;
    expect(Math.hypot(after.x - before.x, after.y - before.y)).toBeLessThan(1e-4);
  });
});

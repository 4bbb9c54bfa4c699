import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BLOCK_COLOURS,
  contains,
  createSimulator,
  distanceToBlock,
  instructionFor,
  parseInstruction,
  Random,
  type Simulator,
  sampleEpisode,
  solveIk,
  type Task,
  ZONE_SIDES,
} from '../../src/sim/index.js';

let sim: Simulator;
beforeAll(async () => {
  sim = await createSimulator();
});
afterAll(() => sim.dispose());

describe('instructions', () => {
  it('name every task, and parse back to it', () => {
    const tasks: Task[] = BLOCK_COLOURS.flatMap((colour) => [
      { kind: 'reach', colour } as Task,
      ...ZONE_SIDES.map((zone) => ({ kind: 'push', colour, zone }) as Task),
    ]);
    for (const task of tasks) expect(parseInstruction(instructionFor(task))).toEqual(task);
    expect(instructionFor({ kind: 'push', colour: 'purple', zone: 'left' })).toBe(
      'push the purple block to the left zone',
    );
    expect(parseInstruction('  Reach  the GREEN block ')).toEqual({
      kind: 'reach',
      colour: 'green',
    });
  });
});

describe('episodes', () => {
  it('are drawn from the seed alone', () => {
    const a = sampleEpisode(42, 'push', sim.scene, sim.arm);
    expect(sampleEpisode(42, 'push', sim.scene, sim.arm)).toEqual(a);
    expect(sampleEpisode(43, 'push', sim.scene, sim.arm)).not.toEqual(a);
    sim.reset(42, 'push');
    expect(sim.layout).toEqual(a);
    expect(sim.taskInstruction).toBe(instructionFor(a.task));
  });

  it('place distinct colours apart in the spawn area, with the scene’s distractor count', () => {
    const { spawn, spacing, distractors } = sim.scene.blocks;
    const counts = new Set<number>();
    for (let seed = 0; seed < 200; seed++) {
      const { task, blocks } = sampleEpisode(seed, seed % 2 ? 'reach' : 'push', sim.scene, sim.arm);
      counts.add(blocks.length - 1);
      expect(new Set(blocks.map((b) => b.colour)).size).toBe(blocks.length);
      expect(blocks.some((b) => b.colour === task.colour)).toBe(true);
      for (const [i, b] of blocks.entries()) {
        expect(contains(spawn, b.x, b.y)).toBe(true);
        for (const c of blocks.slice(i + 1)) {
          expect(Math.hypot(b.x - c.x, b.y - c.y)).toBeGreaterThanOrEqual(spacing);
        }
      }
    }
    expect([...counts].sort()).toEqual(
      Array.from({ length: distractors[1] - distractors[0] + 1 }, (_, i) => distractors[0] + i),
    );
  });

  it('keep what the request fixes and draw the rest', () => {
    const colours = new Set<string>();
    const zones = new Set<string>();
    for (let seed = 0; seed < 60; seed++) {
      const fixed = sampleEpisode(
        seed,
        { kind: 'push', colour: 'blue', zone: 'right' },
        sim.scene,
        sim.arm,
      );
      expect(fixed.task).toEqual({ kind: 'push', colour: 'blue', zone: 'right' });
      const drawn = sampleEpisode(seed, 'push', sim.scene, sim.arm).task;
      colours.add(drawn.colour);
      if (drawn.kind === 'push') zones.add(drawn.zone);
    }
    expect(colours.size).toBe(BLOCK_COLOURS.length);
    expect(zones.size).toBe(2);
  });

  it('put the task block where the tip can reach it', () => {
    const q = new Float64Array(3);
    for (let seed = 0; seed < 100; seed++) {
      const { task, blocks } = sampleEpisode(seed, 'reach', sim.scene, sim.arm);
      const b = blocks.find((x) => x.colour === task.colour);
      if (!b) throw new Error('no task block');
      const angle = Math.atan2(b.y, b.x);
      expect(
        solveIk(sim.arm, { x: b.x, y: b.y, angle }, sim.arm.home, sim.arm.lower, sim.arm.upper, q),
      ).toBe(true);
    }
  });
});

describe('success', () => {
  it('is false at reset', () => {
    for (let seed = 0; seed < 30; seed++) {
      for (const kind of ['reach', 'push'] as const) {
        sim.reset(seed, kind);
        expect(sim.success(), `${kind} seed ${seed}`).toBe(false);
      }
    }
  });

  it('holds for reach when the tool tip touches the block, not a tolerance further', () => {
    const tolerance = sim.scene.tasks.reach_tolerance;
    const block = { colour: 'green' as const, x: 0.45, y: 0.05, angle: 0.4 };
    const pose = (gap: number) => {
      // The tip `gap` beyond the block's face nearest the base, the hand pointing at it.
      const angle = block.angle + Math.PI;
      const d = sim.scene.blocks.size / 2 + gap;
      return {
        x: block.x + d * Math.cos(angle),
        y: block.y + d * Math.sin(angle),
        angle: angle + Math.PI,
      };
    };
    for (const [gap, expected] of [
      [0.005, true],
      [tolerance - 0.002, true],
      [tolerance + 0.005, false],
    ] as const) {
      const q = new Float64Array(3);
      expect(solveIk(sim.arm, pose(gap), sim.arm.home, sim.arm.lower, sim.arm.upper, q)).toBe(true);
      sim.resetTo({ task: { kind: 'reach', colour: 'green' }, arm: [...q], blocks: [block] });
      const { tip } = sim.state();
      expect(distanceToBlock(block, sim.scene.blocks.size, tip.x, tip.y)).toBeCloseTo(gap, 5);
      expect(sim.success(), `gap ${gap}`).toBe(expected);
    }
  });

  it('holds for push when the block’s centre is inside the named zone only', () => {
    const inLeft = { colour: 'red' as const, x: 0.4, y: 0.3, angle: 0.3 };
    const arm = [...sim.arm.home];
    sim.resetTo({ task: { kind: 'push', colour: 'red', zone: 'left' }, arm, blocks: [inLeft] });
    expect(sim.success()).toBe(true);
    sim.resetTo({ task: { kind: 'push', colour: 'red', zone: 'right' }, arm, blocks: [inLeft] });
    expect(sim.success()).toBe(false);
    // Overlapping the zone's edge is not enough: the centre must be in.
    const edge = { ...inLeft, y: sim.scene.zones.left.min[1] - 0.01 };
    sim.resetTo({ task: { kind: 'push', colour: 'red', zone: 'left' }, arm, blocks: [edge] });
    expect(sim.success()).toBe(false);
  });
});

describe('Random', () => {
  it('is a fixed stream per seed, uniform enough to draw from', () => {
    const draw = (seed: number) =>
      Array.from(
        { length: 5 },
        (
          (r) => () =>
            r.next()
        )(new Random(seed)),
      );
    expect(draw(1)).toEqual(draw(1));
    expect(draw(1)).not.toEqual(draw(2));
    const r = new Random(7);
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < 10_000; i++) {
      const x = r.next();
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
      const k = Math.floor(x * 10);
      buckets[k] = (buckets[k] ?? 0) + 1;
    }
    for (const n of buckets) expect(Math.abs(n - 1000)).toBeLessThan(120);
    const ints = new Set(Array.from({ length: 200 }, () => r.int(1, 3)));
    expect([...ints].sort()).toEqual([1, 2, 3]);
  });
});

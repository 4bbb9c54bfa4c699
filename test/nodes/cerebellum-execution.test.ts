import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadActionSpec } from '../../src/contract/index.js';
import { cerebellumExecution } from '../../src/nodes/cerebellum-execution.js';
import { loadProfile } from '../../src/nodes/profile.js';
import {
  ChunkedEpisode,
  createSimulator,
  InterpolatedExecution,
  runChunkedEpisode,
  ScriptedExpert,
  type Simulator,
} from '../../src/sim/index.js';

const profile = loadProfile(
  new URL('../../calibration/planar-arm/robot.yaml', import.meta.url).pathname,
);
const spec = loadActionSpec(profile.spec);
const execution = cerebellumExecution(profile, spec);
const H = spec.horizon;

let sim: Simulator;
beforeAll(async () => {
  sim = await createSimulator();
});
afterAll(() => sim.dispose());

/** Every step of the chunk at `position` + `offset` on the shoulder: a jump to somewhere else. */
function jump(position: Float64Array, offset: number): Float64Array {
  return Float64Array.from(
    { length: H * 3 },
    (_, i) => (position[i % 3] as number) + (i % 3 === 0 ? offset : 0),
  );
}

/** The fastest shoulder speed commanded over `ticks` physics ticks, and the last position. */
function fastestCommand(run: (pos: Float64Array, vel: Float64Array) => void, ticks: number) {
  const position = new Float64Array(3);
  const velocity = new Float64Array(3);
  let fastest = 0;
  for (let t = 0; t < ticks; t++) {
    run(position, velocity);
    fastest = Math.max(fastest, Math.abs(velocity[0] as number));
    sim.applyJointTargets(position, velocity);
    sim.step();
  }
  return { fastest, last: position[0] as number };
}

describe("chunks executed by the cerebellum's controller, on sim time", () => {
  it('brings a jump within the joint speed limit, where interpolation commands it at once', () => {
    sim.reset(3, 'reach');
    const start = sim.jointState().position;
    const chunk = jump(start, 1);
    const direct = new InterpolatedExecution(spec, sim.jointNames);
    direct.begin(chunk, sim.timeNs);
    const asDecoded = fastestCommand((p, v) => direct.targets(sim.timeNs, p, v), 1);
    expect(asDecoded.last - (start[0] as number)).toBeCloseTo(1, 9);
    // (Its steps are all the same: the jump itself is fed forward as no speed at all.)

    sim.reset(3, 'reach');
    const controlled = execution(sim);
    controlled.begin(chunk, sim.timeNs);
    const ticks = Math.round((H * spec.dt) / sim.physicsPeriodSeconds);
    const { fastest, last } = fastestCommand((p, v) => controlled.targets(sim.timeNs, p, v), ticks);
    // joint_limits.yaml: 1.5 rad/s on the shoulder.
    expect(fastest).toBeLessThanOrEqual(1.5 + 1e-9);
    expect(fastest).toBeGreaterThan(0.5);
    // It still goes there: most of 1 rad at ≤ 1.5 rad/s and ≤ 6 rad/s² within the chunk's 0.8 s.
    expect(last - (start[0] as number)).toBeGreaterThan(0.6);
  });

  it('holds the arm where it is before the first chunk, and counts a chunk that expired', () => {
    sim.reset(4, 'push');
    const start = sim.jointState().position;
    const controlled = execution(sim);
    const position = new Float64Array(3);
    const velocity = new Float64Array(3).fill(9);
    controlled.targets(sim.timeNs, position, velocity);
    expect(Array.from(position)).toEqual(Array.from(start));
    expect(Array.from(velocity)).toEqual([0, 0, 0]);
    for (let t = 0; t < 400; t++) {
      controlled.targets(sim.timeNs, position, velocity);
      sim.applyJointTargets(position, velocity);
      sim.step();
    }
    expect(controlled.refused).toBe(0);
    // Planned 2 s ago: all 0.8 s of it lie in the past.
    controlled.begin(jump(start, 0.5), sim.timeNs - 2_000_000_000n);
    expect(controlled.refused).toBe(1);
  });

  it('lets the scripted expert do both tasks as a deployed cerebellum would execute it', () => {
    const expert = new ScriptedExpert(spec, sim.arm, sim.scene);
    for (const [task, seed] of [
      ['reach', 11],
      ['push', 12],
    ] as const) {
      sim.reset(seed, task);
      const result = runChunkedEpisode(sim, spec, (s) => expert.plan(s, sim.task), 25, {
        replanSeconds: 0.5,
        execution: execution(sim),
      });
      expect(result.success, `${task} seed ${seed}`).toBe(true);
    }
  });

  it('plugs into an episode: the episode asks, the controller moves the arm', () => {
    sim.reset(5, 'reach');
    const start = sim.jointState().position;
    const episode = new ChunkedEpisode(sim, spec, 1, {
      replanSeconds: 0.5,
      execution: execution(sim),
    });
    episode.execute(jump(start, 0.3));
    const moved = (sim.jointState().position[0] as number) - (start[0] as number);
    expect(moved).toBeGreaterThan(0.1);
    expect(episode.result.chunks).toBe(1);
  });
});

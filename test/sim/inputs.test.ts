import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ActionSpec, InputError, loadActionSpec } from '../../src/contract/index.js';
import {
  BUNDLED_SCENE,
  createSimulator,
  loadScene,
  parseInstruction,
  ScriptedExpert,
  type Simulator,
} from '../../src/sim/index.js';

/** Runs `fn`, expecting an InputError with this source and field; returns its reason. */
function inputError(fn: () => unknown, source: string, field: string): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).source).toBe(source);
    expect((err as InputError).field).toBe(field);
    return (err as InputError).reason;
  }
  throw new Error('expected an InputError');
}

async function rejection(promise: Promise<unknown>): Promise<InputError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return err as InputError;
  }
  throw new Error('expected an InputError');
}

const dir = mkdtempSync(join(tmpdir(), 'pons-sim-'));
let sim: Simulator;
beforeAll(async () => {
  sim = await createSimulator();
});
afterAll(() => {
  sim.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('bad input', () => {
  it('names an unknown colour, zone or task in an instruction', () => {
    expect(
      inputError(() => parseInstruction('reach the pink block'), 'instruction', 'colour'),
    ).toMatch(/"pink" is not a block colour \(red, green, blue, yellow, purple, orange\)/);
    expect(
      inputError(
        () => parseInstruction('push the red block to the top zone'),
        'instruction',
        'zone',
      ),
    ).toMatch(/"top" is not a zone/);
    expect(
      inputError(() => sim.reset(1, 'dance the red block'), 'sim.reset', 'instruction'),
    ).toMatch(/is not a task; say 'reach the <colour> block'/);
  });

  it('checks task objects, seeds and layouts handed to reset', () => {
    const task = { kind: 'push', colour: 'red', zone: 'up' } as never;
    inputError(() => sim.reset(1, task), 'sim.reset', 'task.zone');
    inputError(
      () => sim.reset(1, { kind: 'fly', colour: 'red' } as never),
      'sim.reset',
      'task.kind',
    );
    inputError(() => sim.reset(1, 42 as never), 'sim.reset', 'task');
    for (const seed of [-1, 1.5, 2 ** 32, Number.NaN]) {
      inputError(() => sim.reset(seed, 'reach'), 'sim.reset', 'seed');
    }
    const blocks = [{ colour: 'red' as const, x: 0.4, y: 0, angle: 0 }];
    const arm = [0, 0, 0];
    inputError(
      () => sim.resetTo({ task: { kind: 'reach', colour: 'blue' }, arm, blocks }),
      'sim.resetTo',
      'task.colour',
    );
    inputError(
      () =>
        sim.resetTo({
          task: { kind: 'reach', colour: 'red' },
          arm,
          blocks: [...blocks, ...blocks],
        }),
      'sim.resetTo',
      'blocks[1].colour',
    );
    inputError(
      () => sim.resetTo({ task: { kind: 'reach', colour: 'red' }, arm: [0, 3, 0], blocks }),
      'sim.resetTo',
      'arm[1]',
    );
    inputError(
      () =>
        sim.resetTo({
          task: { kind: 'reach', colour: 'red' },
          arm,
          blocks: [{ ...blocks[0], y: Number.NaN } as never],
        }),
      'sim.resetTo',
      'blocks[0].y',
    );
  });

  it('refuses NaN, infinite or missing joint targets, and leaves the targets as they were', () => {
    sim.reset(0, 'reach');
    sim.applyJointTargets([0.1, 0.2, 0.3]);
    expect(
      inputError(
        () => sim.applyJointTargets([0, Number.NaN, 0]),
        'sim.applyJointTargets',
        'positions[1]',
      ),
    ).toBe('is NaN, not a finite number');
    inputError(
      () => sim.applyJointTargets([0, 0, 0], [0, 0, Number.POSITIVE_INFINITY]),
      'sim.applyJointTargets',
      'velocities[2]',
    );
    expect(
      inputError(() => sim.applyJointTargets([0, 0]), 'sim.applyJointTargets', 'positions'),
    ).toMatch(/has 2 values, the arm has 3 joints \(shoulder_joint, elbow_joint, wrist_joint\)/);
    expect(Array.from(sim.state().targets)).toEqual([0.1, 0.2, 0.3]);
  });

  it('refuses steps of NaN or negative time', () => {
    for (const dt of [Number.NaN, -0.1, Number.POSITIVE_INFINITY]) {
      inputError(() => sim.step(dt), 'sim.step', 'dt');
    }
  });

  it('refuses camera resolutions and physics rates out of range', async () => {
    for (const width of [0, 8, 5000, 224.5]) {
      const err = await rejection(createSimulator({ width }));
      expect(err.source).toBe('sim.options');
      expect(err.field).toBe('camera.width');
      expect(err.reason).toMatch(/whole number of pixels from 16 to 4096/);
    }
    expect((await rejection(createSimulator({ height: -1 }))).field).toBe('camera.height');
    expect((await rejection(createSimulator({ physicsHz: 10 }))).field).toBe('physicsHz');
  });

  it('names the field of a bad scene file', () => {
    const text = readFileSync(BUNDLED_SCENE, 'utf8');
    const write = (name: string, body: string) => {
      const path = join(dir, name);
      writeFileSync(path, body);
      return path;
    };
    // The URDF path is relative to the scene file: point it back at the bundled one.
    const urdf = new URL('../../sim/planar_arm.urdf', import.meta.url).pathname;
    const base = text.replace('urdf: planar_arm.urdf', `urdf: ${urdf}`);
    const overlap = write(
      'overlap.yaml',
      base.replace(
        'spawn: { min: [0.3, -0.12], max: [0.5, 0.12] }',
        'spawn: { min: [0.3, -0.12], max: [0.5, 0.3] }',
      ),
    );
    expect(inputError(() => loadScene(overlap), overlap, 'blocks.spawn')).toBe(
      'overlaps the left zone',
    );
    const typo = write('typo.yaml', base.replace('mass: 0.1', 'mass: -0.1'));
    inputError(() => loadScene(typo), typo, 'blocks.mass');
    const extra = write('extra.yaml', `${base}\ncolour: pink\n`);
    inputError(() => loadScene(extra), extra, 'colour');
  });

  it('refuses an action spec the expert cannot fill', () => {
    const spec = loadActionSpec(
      new URL('../../calibration/planar-arm/action_spec.yaml', import.meta.url).pathname,
    );
    const velocity: ActionSpec = {
      ...spec,
      dimensions: spec.dimensions.map((d, i) => (i === 1 ? { ...d, kind: 'joint_velocity' } : d)),
    };
    expect(
      inputError(
        () => new ScriptedExpert(velocity, sim.arm, sim.scene),
        'spec planar-arm',
        'dimensions[1]',
      ),
    ).toMatch(/joint_position dimensions named for the arm's joints/);
  });
});

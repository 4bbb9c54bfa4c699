import { describe, expect, it } from 'vitest';
import { ActionToJoints } from '../../src/cerebellum/action-to-joints.js';
import { SerialChainKinematics } from '../../src/cerebellum/kinematics.js';
import {
  type ActionKind,
  type ActionSpec,
  InputError,
  loadUrdf,
  parseActionSpec,
  serialChain,
} from '../../src/contract/index.js';

const urdf = new URL('../../sim/planar_arm.urdf', import.meta.url).pathname;
const kinematics = new SerialChainKinematics(serialChain(loadUrdf(urdf), 'base_link', 'tool0'));
const JOINTS = [...kinematics.jointOrder];

function spec(dims: [string, ActionKind][], horizon = 4): ActionSpec {
  const n = dims.length;
  return parseActionSpec(
    {
      name: 'test',
      horizon,
      dt: 0.1,
      dimensions: dims.map(([name, kind]) => ({ name, unit: 'x', kind, lower: -3, upper: 3 })),
      tokenizer: { type: 'uniform', vocab_size: 4096 },
      statistics: {
        mean: new Array(n).fill(0),
        std: new Array(n).fill(1),
        min: new Array(n).fill(-3),
        max: new Array(n).fill(3),
        q01: new Array(n).fill(-3),
        q99: new Array(n).fill(3),
      },
    },
    'test',
  );
}

describe('action chunk → joint chunk', () => {
  it('joint_position: the named joints, reordered to the robot', () => {
    const s = spec(
      [
        ['wrist_joint', 'joint_position'],
        ['shoulder_joint', 'joint_position'],
        ['elbow_joint', 'joint_position'],
      ],
      1,
    );
    const out = new Float64Array(3);
    new ActionToJoints(s, JOINTS, kinematics, 'spec').convert(
      Float64Array.of(3, 1, 2),
      new Float64Array(3),
      out,
    );
    expect(JOINTS).toEqual(['shoulder_joint', 'elbow_joint', 'wrist_joint']);
    expect(Array.from(out)).toEqual([1, 2, 3]);
  });

  it('joint_velocity: integrated from where the arm is', () => {
    const s = spec(
      JOINTS.map((j) => [j, 'joint_velocity'] as [string, ActionKind]),
      3,
    );
    const out = new Float64Array(9);
    const v = Float64Array.of(1, 0, -1, 1, 0, -1, 2, 0, 0);
    new ActionToJoints(s, JOINTS, kinematics, 'spec').convert(
      v,
      Float64Array.of(0.5, 0.5, 0.5),
      out,
    );
    const expected = [0.6, 0.5, 0.4, 0.7, 0.5, 0.3, 0.9, 0.5, 0.3];
    out.forEach((q, i) => {
      expect(q).toBeCloseTo(expected[i] as number, 12);
    });
  });

  it('ee_delta_position: each step moves the end effector by its delta, through IK', () => {
    const s = spec([
      ['dx', 'ee_delta_position'],
      ['dy', 'ee_delta_position'],
      ['dz', 'ee_delta_position'],
    ]);
    const start = Float64Array.of(0.3, 0.8, 0.6);
    const ee0 = kinematics.endEffectorPosition(start, new Float64Array(3));
    const deltas = Float64Array.of(0.02, -0.01, 0, 0.02, -0.01, 0, 0.02, -0.01, 0, 0.02, -0.01, 0);
    const out = new Float64Array(12);
    const converter = new ActionToJoints(s, JOINTS, kinematics, 'spec');
    converter.convert(deltas, start, out);
    const ee = new Float64Array(3);
    for (let k = 0; k < 4; k++) {
      kinematics.endEffectorPosition(out.subarray(k * 3, k * 3 + 3), ee);
      expect(ee[0]).toBeCloseTo((ee0[0] as number) + 0.02 * (k + 1), 5);
      expect(ee[1]).toBeCloseTo((ee0[1] as number) - 0.01 * (k + 1), 5);
    }
    expect(converter.unreachable).toBe(0);
    // Continuous: neighbouring steps stay close in joint space.
    for (let i = 3; i < 12; i++)
      expect(Math.abs((out[i] as number) - (out[i - 3] as number))).toBeLessThan(0.2);
  });

  it('base_twist: the twist components as they are', () => {
    const s = spec(
      [
        ['linear_x', 'base_twist'],
        ['angular_z', 'base_twist'],
      ],
      2,
    );
    const out = new Float64Array(4);
    new ActionToJoints(s, ['linear_x', 'angular_z'], undefined, 'spec').convert(
      Float64Array.of(0.5, -1, 0.6, -0.9),
      new Float64Array(2),
      out,
    );
    expect(Array.from(out)).toEqual([0.5, -1, 0.6, -0.9]);
  });

  it('refuses specs it cannot execute, saying why', () => {
    const refuse = (dims: [string, ActionKind][], reason: RegExp) =>
      expect(() => new ActionToJoints(spec(dims), JOINTS, kinematics, 'spec.yaml')).toThrow(reason);
    refuse([['dr', 'ee_delta_rotation']], /ee_delta_rotation need an output/);
    expect(() => spec([['vx', 'base_twist']])).toThrow(
      /a base_twist dimension must be named linear_x/,
    );
    refuse([['g', 'gripper']], /gripper need an output/);
    refuse(
      [
        ['shoulder_joint', 'joint_position'],
        ['g', 'gripper'],
      ],
      /mixes joint_position, gripper/,
    );
    refuse(
      [['shoulder_joint', 'joint_position']],
      /has no dimension for the robot's joint elbow_joint/,
    );
    refuse(
      [...JOINTS, 'extra_joint'].map((j) => [j, 'joint_position'] as [string, ActionKind]),
      /has 4 joints, the robot 3/,
    );
    expect(
      () => new ActionToJoints(spec([['x', 'joint_position']]), JOINTS, kinematics, 'spec.yaml'),
    ).toThrow(InputError);
  });
});

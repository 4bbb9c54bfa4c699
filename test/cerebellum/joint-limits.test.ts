import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadJointLimits, parseJointLimitsYaml } from '../../src/cerebellum/joint-limits.js';
import { InputError, loadUrdf, parseUrdf } from '../../src/contract/index.js';

const urdf = new URL('../../sim/planar_arm.urdf', import.meta.url).pathname;
const yaml = new URL('../../calibration/planar-arm/joint_limits.yaml', import.meta.url).pathname;
const JOINTS = ['shoulder_joint', 'elbow_joint', 'wrist_joint'];

const dir = mkdtempSync(join(tmpdir(), 'pons-limits-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let count = 0;
function write(text: string): string {
  const path = join(dir, `limits${count++}.yaml`);
  writeFileSync(path, text);
  return path;
}

function failure(run: () => unknown): InputError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return err as InputError;
  }
  throw new Error('expected an InputError');
}

const elbowOnly = (body: string) => `joint_limits:\n  elbow_joint:\n${body}`;

describe('loadJointLimits', () => {
  it('reads the bundled arm: URDF positions, YAML velocity 1.5 (tighter than 2.0) and acceleration 6', () => {
    const limits = loadJointLimits({ urdf, jointLimitsYaml: yaml, joints: JOINTS });
    expect(limits.names).toEqual(JOINTS);
    expect(Array.from(limits.lower)).toEqual([-2.6, -2.6, -2.6]);
    expect(Array.from(limits.upper)).toEqual([2.6, 2.6, 2.6]);
    expect(Array.from(limits.maxVelocity)).toEqual([1.5, 1.5, 1.5]);
    expect(Array.from(limits.maxAcceleration)).toEqual([6, 6, 6]);
  });

  it('takes the URDF alone: no acceleration limit (Infinity)', () => {
    const limits = loadJointLimits({ urdf, joints: ['wrist_joint', 'shoulder_joint'] });
    expect(limits.names).toEqual(['wrist_joint', 'shoulder_joint']);
    expect(Array.from(limits.maxVelocity)).toEqual([2, 2]);
    expect(Array.from(limits.maxAcceleration)).toEqual([Infinity, Infinity]);
  });

  it('accepts a parsed URDF and the ros__parameters wrapper', () => {
    const path = write(
      `controller_manager:\n  ros__parameters:\n    joint_limits:\n      elbow_joint:\n        has_acceleration_limits: true\n        max_acceleration: 3.0\n`,
    );
    const limits = loadJointLimits({ urdf: loadUrdf(urdf), jointLimitsYaml: path, joints: JOINTS });
    expect(Array.from(limits.maxAcceleration)).toEqual([Infinity, 3, Infinity]);
    expect(Array.from(limits.maxVelocity)).toEqual([2, 2, 2]);
  });

  it('lets the tighter value win, and only flagged values count', () => {
    const path = write(
      elbowOnly(
        [
          '    has_position_limits: true',
          '    min_position: -1.0',
          '    max_position: 3.0', // looser than the URDF's 2.6: the URDF wins
          '    has_velocity_limits: true',
          '    max_velocity: 5.0', // looser than the URDF's 2.0
          '    has_acceleration_limits: false',
          '    max_acceleration: 1.0', // not flagged: ignored
          '    has_deceleration_limits: true',
          '    max_deceleration: -4.0', // sign ignored; tighter than no acceleration limit
          '    has_jerk_limits: true',
          '    max_jerk: 100.0',
          '    has_effort_limits: true',
          '    max_effort: 10.0',
          '    angle_wraparound: false',
          '    has_soft_limits: false',
          '    k_position: 1.0',
          '    k_velocity: 1.0',
          '    soft_lower_limit: -2.0',
          '    soft_upper_limit: 2.0',
        ].join('\n'),
      ),
    );
    const limits = loadJointLimits({ urdf, jointLimitsYaml: path, joints: JOINTS });
    expect(limits.lower[1]).toBe(-1);
    expect(limits.upper[1]).toBe(2.6);
    expect(limits.maxVelocity[1]).toBe(2);
    expect(limits.maxAcceleration[1]).toBe(4);
  });

  it('gives continuous joints unbounded positions', () => {
    const robot = parseUrdf(
      `<robot name="r"><link name="a"/><link name="b"/>
       <joint name="spin" type="continuous"><parent link="a"/><child link="b"/>
       <limit velocity="3" effort="1"/></joint></robot>`,
      'spin.urdf',
    );
    const limits = loadJointLimits({ urdf: robot, joints: ['spin'] });
    expect(Array.from(limits.lower)).toEqual([-Infinity]);
    expect(Array.from(limits.upper)).toEqual([Infinity]);
    expect(Array.from(limits.maxVelocity)).toEqual([3]);
  });

  describe('rejects bad files, naming the file and the field', () => {
    const cases: [string, string, RegExp][] = [
      [
        elbowOnly('    has_velocity_limits: true\n    max_velocity: -1.5\n'),
        'joint_limits.elbow_joint.max_velocity',
        /./,
      ],
      [
        elbowOnly('    has_velocity_limits: true\n'),
        'joint_limits.elbow_joint.max_velocity',
        /required when has_velocity_limits is true/,
      ],
      [
        elbowOnly('    has_acceleration_limits: yes please\n    max_acceleration: 6\n'),
        'joint_limits.elbow_joint.has_acceleration_limits',
        /./,
      ],
      [elbowOnly('    max_velocty: 1.5\n'), 'joint_limits.elbow_joint.max_velocty', /./],
      [
        elbowOnly('    has_position_limits: true\n    min_position: 1\n    max_position: -1\n'),
        'joint_limits.elbow_joint.max_position',
        /above min_position/,
      ],
      [
        elbowOnly('    has_acceleration_limits: true\n    max_acceleration: .inf\n'),
        'joint_limits.elbow_joint.max_acceleration',
        /./,
      ],
      [
        'joint_limits:\n  ghost_joint:\n    has_velocity_limits: false\n',
        'joint_limits.ghost_joint',
        /not in .*planar_arm\.urdf/,
      ],
      ['joint_limits: 3\n', 'joint_limits', /./],
      ['something_else: {}\n', 'something_else.ros__parameters', /./],
      [
        'a:\n  ros__parameters:\n    joint_limits: {}\nb:\n  ros__parameters:\n    joint_limits: {}\n',
        '',
        /2 nodes \(a, b\)/,
      ],
      ['', '', /holds no joint_limits/],
      ['joint_limits: [unclosed\n', '', /not valid YAML/],
    ];
    for (const [text, field, reason] of cases) {
      it(`${field || '(root)'}: ${JSON.stringify(text).slice(0, 60)}`, () => {
        const path = write(text);
        const err = failure(() => loadJointLimits({ urdf, jointLimitsYaml: path, joints: JOINTS }));
        expect(err.source).toBe(path);
        expect(err.field).toBe(field);
        expect(err.reason).toMatch(reason);
      });
    }
  });

  it('rejects a position range that the YAML empties', () => {
    const path = write(
      elbowOnly('    has_position_limits: true\n    min_position: 2.7\n    max_position: 3.0\n'),
    );
    const err = failure(() => loadJointLimits({ urdf, jointLimitsYaml: path, joints: JOINTS }));
    expect(err.field).toBe('joint_limits.elbow_joint.max_position');
  });

  it('rejects joints the URDF lacks or cannot command, and a missing file', () => {
    let err = failure(() => loadJointLimits({ urdf, joints: ['shoulder_joint', 'gripper_joint'] }));
    expect(err.source).toBe(urdf);
    expect(err.field).toBe('joint[gripper_joint]');
    err = failure(() => loadJointLimits({ urdf, joints: ['tool_joint'] }));
    expect(err.field).toBe('joint[tool_joint].type');
    expect(err.reason).toMatch(/fixed joint cannot be commanded/);
    err = failure(() => loadJointLimits({ urdf, joints: ['elbow_joint', 'elbow_joint'] }));
    expect(err.field).toBe('joints');
    err = failure(() => loadJointLimits({ urdf: join(dir, 'none.urdf'), joints: JOINTS }));
    expect(err.reason).toMatch(/cannot be read/);
    err = failure(() =>
      loadJointLimits({ urdf, jointLimitsYaml: join(dir, 'none.yaml'), joints: JOINTS }),
    );
    expect(err.reason).toMatch(/cannot be read/);
  });
});

describe('parseJointLimitsYaml', () => {
  it('returns the entries of either shape', () => {
    const entry = { has_velocity_limits: true, max_velocity: 1 };
    expect(parseJointLimitsYaml({ joint_limits: { j: entry } }, 'x')).toEqual({ j: entry });
    expect(
      parseJointLimitsYaml({ node: { ros__parameters: { joint_limits: { j: entry } } } }, 'x'),
    ).toEqual({
      j: entry,
    });
  });
});

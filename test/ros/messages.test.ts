import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/contract/index.js';
import {
  boolMsg,
  clockMsg,
  DIAGNOSTIC_LEVEL,
  diagnosticArrayMsg,
  float64MultiArrayMsg,
  imageMsg,
  jointStateMsg,
  jointTrajectoryMsg,
  ROS_DISTROS,
  ROS_TYPES,
  stringMsg,
  twistFromComponents,
  twistMsg,
  twistStampedMsg,
} from '../../src/ros/index.js';
import { expectCdrRoundTrip, shapeProblems } from './cdr-check.js';

const JOINTS = ['shoulder_joint', 'elbow_joint', 'wrist_joint'];
// 2026-01-01T00:00:00.123456789Z in ns: above 2^53, so any float64 detour would show.
const STAMP = 1_767_225_600_123_456_789n;

/** One instance of every standard message pons builds, with awkward but valid values. */
const samples = {
  jointTrajectory: () =>
    jointTrajectoryMsg({
      stampNs: STAMP,
      frameId: 'base_link',
      jointNames: JOINTS,
      points: [
        { positions: [0.1, -0.2, 0.3], velocities: [0, 0.5, -0.5], timeFromStartNs: 0n },
        {
          positions: Float64Array.of(0.2, -0.1, 0.25),
          velocities: [0.1, 0.2, 0.3],
          accelerations: [1, 2, 3],
          effort: [],
          timeFromStartNs: 100_000_000n,
        },
        { positions: [0.3, 0, 0.2], timeFromStartNs: 2_500_000_001n },
      ],
    }),
  jointTrajectoryStartNow: () =>
    jointTrajectoryMsg({
      stampNs: 0n,
      jointNames: JOINTS,
      points: [{ positions: [1, 2, 3], timeFromStartNs: 1n }],
    }),
  float64MultiArray: () => float64MultiArrayMsg(Float64Array.of(0.5, -1.25, 2.6), 'joints', 3),
  twist: () => twistMsg({ linear: { x: 0.3 }, angular: { z: -0.7 } }),
  twistStamped: () =>
    twistStampedMsg({ stampNs: STAMP, frameId: 'base_link', linear: { x: 0.3, y: 0.1 } }),
  diagnosticArray: () =>
    diagnosticArrayMsg({
      stampNs: STAMP,
      status: [
        {
          level: 'ok',
          name: 'pons_cerebellum: control loop',
          message: 'running',
          hardwareId: 'planar_arm',
          values: {
            rate_hz: 500,
            jitter_p99_us: 123.5,
            mode: 'run',
            ticks: 10n ** 12n,
            estop: false,
          },
        },
        { level: 'stale', name: 'pons_cerebellum: link', message: 'no tokens for 2.1 s' },
        { level: DIAGNOSTIC_LEVEL.ERROR, name: 'pons_cerebellum: safety', message: 'clamped' },
      ],
    }),
  bool: () => boolMsg(true),
  jointState: () =>
    jointStateMsg({
      stampNs: STAMP,
      names: JOINTS,
      position: [0.1, 0.2, 0.3],
      velocity: Float64Array.of(0, 0, 0),
    }),
  image: () =>
    imageMsg({
      stampNs: STAMP,
      frameId: 'overhead',
      width: 2,
      height: 2,
      encoding: 'rgb8',
      step: 8,
      data: Uint8Array.from({ length: 16 }, (_, i) => i),
    }),
  clock: () => clockMsg(STAMP),
  string: () => stringMsg('reach the red block'),
};

const typeOf: Record<keyof typeof samples, string> = {
  jointTrajectory: ROS_TYPES.jointTrajectory,
  jointTrajectoryStartNow: ROS_TYPES.jointTrajectory,
  float64MultiArray: ROS_TYPES.float64MultiArray,
  twist: ROS_TYPES.twist,
  twistStamped: ROS_TYPES.twistStamped,
  diagnosticArray: ROS_TYPES.diagnosticArray,
  bool: ROS_TYPES.bool,
  jointState: ROS_TYPES.jointState,
  image: ROS_TYPES.image,
  clock: ROS_TYPES.clock,
  string: ROS_TYPES.string,
};

describe('standard messages against the official ROS 2 definitions', () => {
  for (const distro of ROS_DISTROS) {
    for (const [name, build] of Object.entries(samples)) {
      const type = typeOf[name as keyof typeof samples];
      it(`${name} (${type}) matches ${distro}'s definition field for field and round-trips CDR`, () => {
        expectCdrRoundTrip(build(), type, distro);
      });
    }
  }

  it('writes the CDR bytes ROS 2 expects (std_msgs/Bool, hand-encoded)', () => {
    // Encapsulation CDR_LE (00 01), options 00 00, then the bool as one byte.
    expect(Array.from(expectCdrRoundTrip(boolMsg(true), ROS_TYPES.bool))).toEqual([0, 1, 0, 0, 1]);
  });

  it('writes header stamps as int32 sec + uint32 nanosec, exactly', () => {
    const bytes = expectCdrRoundTrip(samples.jointState(), ROS_TYPES.jointState);
    const view = new DataView(bytes.buffer, bytes.byteOffset + 4);
    expect(view.getInt32(0, true)).toBe(1_767_225_600);
    expect(view.getUint32(4, true)).toBe(123_456_789);
  });
});

describe('JointTrajectory', () => {
  it('converts stamps and time_from_start exactly', () => {
    const msg = samples.jointTrajectory();
    expect(msg.header).toEqual({
      stamp: { sec: 1_767_225_600, nanosec: 123_456_789 },
      frame_id: 'base_link',
    });
    expect(msg.points.map((p) => p.time_from_start)).toEqual([
      { sec: 0, nanosec: 0 },
      { sec: 0, nanosec: 100_000_000 },
      { sec: 2, nanosec: 500_000_001 },
    ]);
    expect(msg.points[1]?.positions).toEqual([0.2, -0.1, 0.25]);
    expect(Array.isArray(msg.points[1]?.positions)).toBe(true);
    expect(msg.points[2]?.velocities).toEqual([]);
  });

  const base = {
    stampNs: 0n,
    jointNames: JOINTS,
    points: [
      { positions: [0, 0, 0], timeFromStartNs: 100n },
      { positions: [0, 0, 0], timeFromStartNs: 200n },
    ],
  };
  const bad: [string, unknown, RegExp][] = [
    [
      'equal times',
      { ...base, points: [base.points[0], { ...base.points[1], timeFromStartNs: 100n }] },
      /points\[1\]\.time_from_start: must be strictly increasing/,
    ],
    [
      'decreasing times',
      { ...base, points: [base.points[1], base.points[0]] },
      /points\[1\]\.time_from_start: must be strictly increasing/,
    ],
    [
      'negative time',
      { ...base, points: [{ positions: [0, 0, 0], timeFromStartNs: -1n }] },
      /points\[0\]\.time_from_start/,
    ],
    [
      'short positions',
      { ...base, points: [{ positions: [0, 0], timeFromStartNs: 1n }] },
      /points\[0\]\.positions: has 2 values for 3 joints/,
    ],
    [
      'long velocities',
      {
        ...base,
        points: [{ positions: [0, 0, 0], velocities: [0, 0, 0, 0], timeFromStartNs: 1n }],
      },
      /points\[0\]\.velocities: has 4 values for 3 joints/,
    ],
    [
      'short accelerations',
      { ...base, points: [{ positions: [0, 0, 0], accelerations: [1], timeFromStartNs: 1n }] },
      /points\[0\]\.accelerations/,
    ],
    [
      'short effort',
      { ...base, points: [{ positions: [0, 0, 0], effort: [1, 2], timeFromStartNs: 1n }] },
      /points\[0\]\.effort/,
    ],
    [
      'NaN position',
      { ...base, points: [{ positions: [0, Number.NaN, 0], timeFromStartNs: 1n }] },
      /points\[0\]\.positions\[1\]: must be a finite number/,
    ],
    [
      'Infinity velocity',
      {
        ...base,
        points: [
          {
            positions: [0, 0, 0],
            velocities: [0, 0, Number.POSITIVE_INFINITY],
            timeFromStartNs: 1n,
          },
        ],
      },
      /velocities\[2\]/,
    ],
    [
      'no positions or velocities',
      { ...base, points: [{ accelerations: [0, 0, 0], timeFromStartNs: 1n }] },
      /points\[0\]: needs positions or velocities/,
    ],
    ['no points', { ...base, points: [] }, /points: must not be empty/],
    ['no joints', { ...base, jointNames: [] }, /joint_names: must be a non-empty array/],
    ['repeated joint', { ...base, jointNames: ['a', 'b', 'a'] }, /joint_names\[2\]: repeats "a"/],
    ['negative stamp', { ...base, stampNs: -5n }, /header\.stamp: must not be negative/],
    [
      'stamp past 2038',
      { ...base, stampNs: 2n ** 31n * 1_000_000_000n },
      /header\.stamp: .* does not fit builtin_interfaces\/Time/,
    ],
    [
      'time_from_start past int32 seconds',
      { ...base, points: [{ positions: [0, 0, 0], timeFromStartNs: 2n ** 31n * 1_000_000_000n }] },
      /does not fit builtin_interfaces\/Duration/,
    ],
  ];
  for (const [what, input, message] of bad) {
    it(`refuses ${what} with an InputError naming the field`, () => {
      const call = () => jointTrajectoryMsg(input as Parameters<typeof jointTrajectoryMsg>[0]);
      expect(call).toThrow(InputError);
      expect(call).toThrow(message);
      expect(call).toThrow(/^trajectory_msgs\/msg\/JointTrajectory: /);
    });
  }
});

describe('Float64MultiArray', () => {
  it('has one labelled dimension of the joint count', () => {
    const msg = float64MultiArrayMsg([1, 2, 3]);
    expect(msg.layout).toEqual({ dim: [{ label: 'joints', size: 3, stride: 3 }], data_offset: 0 });
    expect(float64MultiArrayMsg([1], 'wheels').layout.dim[0]?.label).toBe('wheels');
  });

  it('refuses the wrong length, NaN and empty commands', () => {
    expect(() => float64MultiArrayMsg([1, 2], 'joints', 3)).toThrow(
      /data: has 2 values, the controller expects 3/,
    );
    expect(() => float64MultiArrayMsg([1, Number.NaN, 3])).toThrow(
      /data\[1\]: must be a finite number/,
    );
    expect(() => float64MultiArrayMsg([])).toThrow(/data: must not be empty/);
  });
});

describe('Twist and TwistStamped', () => {
  it('takes a base_twist chunk step by the names of its components', () => {
    const twist = twistFromComponents(['linear_x', 'angular_z', 'linear_y'], [0.4, -1.2, 0.1]);
    expect(twistMsg(twist)).toEqual({
      linear: { x: 0.4, y: 0.1, z: 0 },
      angular: { x: 0, y: 0, z: -1.2 },
    });
  });

  it('fills unset components with 0', () => {
    expect(twistMsg({})).toEqual({ linear: { x: 0, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } });
  });

  it('refuses non-finite velocities, naming the nested field', () => {
    expect(() => twistMsg({ angular: { z: Number.NaN } })).toThrow(
      /geometry_msgs\/msg\/Twist: angular\.z/,
    );
    expect(() => twistStampedMsg({ stampNs: 1n, linear: { x: Number.POSITIVE_INFINITY } })).toThrow(
      /geometry_msgs\/msg\/TwistStamped: twist\.linear\.x/,
    );
  });
});

describe('DiagnosticArray', () => {
  it('writes levels as bytes and values as text, in order', () => {
    const msg = samples.diagnosticArray();
    expect(msg.status.map((s) => s.level)).toEqual([0, 3, 2]);
    expect(msg.status[0]?.values).toEqual([
      { key: 'rate_hz', value: '500' },
      { key: 'jitter_p99_us', value: '123.5' },
      { key: 'mode', value: 'run' },
      { key: 'ticks', value: '1000000000000' },
      { key: 'estop', value: 'false' },
    ]);
    expect(msg.status[1]?.hardware_id).toBe('');
    expect(DIAGNOSTIC_LEVEL).toEqual({ OK: 0, WARN: 1, ERROR: 2, STALE: 3 });
  });

  it('refuses an unknown level', () => {
    expect(() =>
      diagnosticArrayMsg({ stampNs: 0n, status: [{ level: 4 as 3, name: 'x', message: '' }] }),
    ).toThrow(/status\[0\]\.level: must be ok, warn, error or stale/);
  });
});

describe('Bool and JointState', () => {
  it('Bool holds a boolean only', () => {
    expect(boolMsg(false)).toEqual({ data: false });
    expect(() => boolMsg(1 as unknown as boolean)).toThrow(/std_msgs\/msg\/Bool: data/);
  });

  it('JointState arrays are empty or one per name', () => {
    const msg = samples.jointState();
    expect(msg.effort).toEqual([]);
    expect(() => jointStateMsg({ stampNs: 0n, names: JOINTS, position: [1] })).toThrow(
      /sensor_msgs\/msg\/JointState: position: has 1 values for 3 joints/,
    );
  });
});

describe('the shape check catches what the CDR writer would let through', () => {
  it('every sample has no problems', () => {
    for (const [name, build] of Object.entries(samples)) {
      expect(shapeProblems(build(), typeOf[name as keyof typeof samples]), name).toEqual([]);
    }
  });
});

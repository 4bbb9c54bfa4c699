import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { InputError } from '../../src/contract/index.js';
import {
  offeredQosProfilesYaml,
  QOS_PROFILES,
  type QosProfile,
  qosForTopic,
  qosSchema,
  rclnodejsQosArgs,
  resolveQos,
  toRclnodejsQos,
} from '../../src/ros/index.js';

describe('QoS profiles', () => {
  it('match rmw: sensor_data KEEP_LAST 5 BEST_EFFORT VOLATILE, default/reliable KEEP_LAST 10 RELIABLE VOLATILE', () => {
    expect(QOS_PROFILES.sensor_data).toEqual({
      history: 'keep_last',
      depth: 5,
      reliability: 'best_effort',
      durability: 'volatile',
    });
    expect(QOS_PROFILES.default).toEqual({
      history: 'keep_last',
      depth: 10,
      reliability: 'reliable',
      durability: 'volatile',
    });
    expect(QOS_PROFILES.reliable).toEqual(QOS_PROFILES.default);
    expect(QOS_PROFILES.transient_local).toEqual({
      history: 'keep_last',
      depth: 1,
      reliability: 'reliable',
      durability: 'transient_local',
    });
  });

  it('resolve by name, by base profile with overrides, and to a fallback', () => {
    expect(resolveQos('sensor_data')).toEqual(QOS_PROFILES.sensor_data);
    expect(resolveQos({ profile: 'sensor_data', depth: 1 })).toEqual({
      ...QOS_PROFILES.sensor_data,
      depth: 1,
    });
    expect(resolveQos({ reliability: 'best_effort' })).toEqual({
      ...QOS_PROFILES.default,
      reliability: 'best_effort',
    });
    expect(resolveQos(undefined, 'transient_local')).toEqual(QOS_PROFILES.transient_local);
    // A resolved profile is a copy: changing it leaves the table alone.
    const p = resolveQos('default');
    p.depth = 99;
    expect(QOS_PROFILES.default.depth).toBe(10);
  });

  it('come per topic from a robot profile, validated', () => {
    const overrides = {
      '/joint_states': 'sensor_data',
      '/forward_command_controller/commands': { profile: 'reliable', depth: 1 },
      '/pons/estop': { durability: 'transient_local', depth: 1 },
    };
    expect(qosForTopic('/joint_states', overrides, 'default')).toEqual(QOS_PROFILES.sensor_data);
    expect(qosForTopic('/forward_command_controller/commands', overrides).depth).toBe(1);
    expect(qosForTopic('/pons/estop', overrides)).toEqual({
      ...QOS_PROFILES.default,
      durability: 'transient_local',
      depth: 1,
    });
    expect(qosForTopic('/other', overrides, 'sensor_data')).toEqual(QOS_PROFILES.sensor_data);
    expect(qosForTopic('/other', undefined)).toEqual(QOS_PROFILES.default);
  });

  it('refuse bad settings with an InputError naming topic and field', () => {
    const call = (v: unknown) => () => qosForTopic('/t', { '/t': v }, 'default', 'robot.yaml');
    expect(call('fast')).toThrow(InputError);
    expect(call('fast')).toThrow(/^robot\.yaml: qos\.\/t\.profile: /);
    expect(call({ depth: 0 })).toThrow(/qos\.\/t\.depth/);
    expect(call({ depth: 2.5 })).toThrow(/qos\.\/t\.depth/);
    expect(call({ reliability: 'sometimes' })).toThrow(/qos\.\/t\.reliability/);
    expect(call({ deadline: 1 })).toThrow(/qos\.\/t\.deadline/);
    expect(qosSchema.safeParse({ history: 'keep_all' }).success).toBe(true);
  });
});

describe('rclnodejs QoS', () => {
  it('uses rmw enum values: history KEEP_LAST 1 / KEEP_ALL 2, reliability RELIABLE 1 / BEST_EFFORT 2, durability TRANSIENT_LOCAL 1 / VOLATILE 2', () => {
    expect(rclnodejsQosArgs(QOS_PROFILES.sensor_data)).toEqual([1, 5, 2, 2, false]);
    expect(rclnodejsQosArgs(QOS_PROFILES.default)).toEqual([1, 10, 1, 2, false]);
    expect(rclnodejsQosArgs(QOS_PROFILES.transient_local)).toEqual([1, 1, 1, 1, false]);
    expect(rclnodejsQosArgs({ ...QOS_PROFILES.default, history: 'keep_all' })).toEqual([
      2,
      0,
      1,
      2,
      false,
    ]);
  });

  it("constructs the module's QoS class with them", () => {
    // Stand-in for rclnodejs's QoS class (rclnodejs cannot be installed without ROS 2).
    class QoS {
      readonly args: unknown[];
      constructor(...args: unknown[]) {
        this.args = args;
      }
    }
    const qos = toRclnodejsQos(QOS_PROFILES.sensor_data, QoS);
    expect(qos).toBeInstanceOf(QoS);
    expect(qos.args).toEqual([1, 5, 2, 2, false]);
  });
});

describe('rosbag2 offered_qos_profiles', () => {
  const KEYS = [
    'history',
    'depth',
    'reliability',
    'durability',
    'deadline',
    'lifespan',
    'liveliness',
    'liveliness_lease_duration',
    'avoid_ros_namespace_conventions',
  ];
  const INFINITE = { sec: 9_223_372_036, nsec: 854_775_807 };

  it("is a YAML sequence in rosbag2's key order, numeric policies by default", () => {
    const text = offeredQosProfilesYaml(QOS_PROFILES.sensor_data);
    const parsed = parseYaml(text) as Record<string, unknown>[];
    expect(parsed).toHaveLength(1);
    expect(Object.keys(parsed[0] as object)).toEqual(KEYS);
    expect(parsed[0]).toEqual({
      history: 1,
      depth: 5,
      reliability: 2,
      durability: 2,
      deadline: INFINITE,
      lifespan: INFINITE,
      liveliness: 1,
      liveliness_lease_duration: INFINITE,
      avoid_ros_namespace_conventions: false,
    });
  });

  it('writes policy names for rosbag2 metadata version 9+', () => {
    const parsed = parseYaml(
      offeredQosProfilesYaml(QOS_PROFILES.transient_local, 'names'),
    ) as Record<string, unknown>[];
    expect(parsed[0]).toMatchObject({
      history: 'keep_last',
      depth: 1,
      reliability: 'reliable',
      durability: 'transient_local',
      liveliness: 'automatic',
    });
  });

  it('holds one entry per publisher, and an empty list for none', () => {
    const profiles: QosProfile[] = [
      QOS_PROFILES.default,
      { ...QOS_PROFILES.default, history: 'keep_all' },
    ];
    const parsed = parseYaml(offeredQosProfilesYaml(profiles)) as Record<string, unknown>[];
    expect(parsed.map((p) => [p.history, p.depth])).toEqual([
      [1, 10],
      [2, 0],
    ]);
    expect(parseYaml(offeredQosProfilesYaml([]))).toEqual([]);
  });

  it('matches the text a Humble rosbag2 writes for a reliable volatile publisher (modulo history)', () => {
    // The shape Humble's `ros2 bag record` writes into metadata.yaml for a discovered reliable,
    // volatile publisher: history 3 (unknown) and depth 0, since discovery does not report
    // them. pons knows its own publisher's history, so only that line differs.
    const recorded =
      '- history: 3\n  depth: 0\n  reliability: 1\n  durability: 2\n  deadline:\n    sec: 9223372036\n    nsec: 854775807\n  lifespan:\n    sec: 9223372036\n    nsec: 854775807\n  liveliness: 1\n  liveliness_lease_duration:\n    sec: 9223372036\n    nsec: 854775807\n  avoid_ros_namespace_conventions: false';
    const ours = offeredQosProfilesYaml({ ...QOS_PROFILES.default, history: 'keep_all' });
    expect(ours.trimEnd().replace('history: 2', 'history: 3')).toBe(recorded);
  });
});

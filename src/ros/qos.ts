/**
 * Quality of service, by profile name with per-topic overrides from the robot profile, and its
 * two renderings: rclnodejs's QoS object (for publishers and subscriptions) and rosbag2's
 * `offered_qos_profiles` YAML (for MCAP channel metadata).
 *
 * A BEST_EFFORT publisher and a RELIABLE subscription never connect, and a TRANSIENT_LOCAL
 * subscription gets nothing from a VOLATILE publisher: pick the profile the other side uses.
 */
import { z } from 'zod';
import { parseWith } from '../contract/index.js';

export type QosHistory = 'keep_last' | 'keep_all';
export type QosReliability = 'reliable' | 'best_effort';
export type QosDurability = 'volatile' | 'transient_local';

export interface QosProfile {
  history: QosHistory;
  /** Queue depth for keep_last (ignored by keep_all, where it is written as 0). */
  depth: number;
  reliability: QosReliability;
  durability: QosDurability;
}

/**
 * The named profiles (rmw's values):
 * - `sensor_data`: KEEP_LAST 5, BEST_EFFORT, VOLATILE — cameras, joint states at high rate;
 * - `default` and `reliable`: KEEP_LAST 10, RELIABLE, VOLATILE — commands, diagnostics;
 * - `transient_local`: KEEP_LAST 1, RELIABLE, TRANSIENT_LOCAL — latched topics (the last
 *   message reaches late joiners: an e-stop state, robot_description).
 */
export const QOS_PROFILES = Object.freeze({
  sensor_data: Object.freeze<QosProfile>({
    history: 'keep_last',
    depth: 5,
    reliability: 'best_effort',
    durability: 'volatile',
  }),
  default: Object.freeze<QosProfile>({
    history: 'keep_last',
    depth: 10,
    reliability: 'reliable',
    durability: 'volatile',
  }),
  reliable: Object.freeze<QosProfile>({
    history: 'keep_last',
    depth: 10,
    reliability: 'reliable',
    durability: 'volatile',
  }),
  transient_local: Object.freeze<QosProfile>({
    history: 'keep_last',
    depth: 1,
    reliability: 'reliable',
    durability: 'transient_local',
  }),
});

export type QosProfileName = keyof typeof QOS_PROFILES;
export const QOS_PROFILE_NAMES = Object.keys(QOS_PROFILES) as QosProfileName[];

const profileName = z.enum(QOS_PROFILE_NAMES as [QosProfileName, ...QosProfileName[]]);

const qosObjectSchema = z
  .object({
    profile: profileName.optional(),
    history: z.enum(['keep_last', 'keep_all']).optional(),
    depth: z.number().int().min(1).max(100_000).optional(),
    reliability: z.enum(['reliable', 'best_effort']).optional(),
    durability: z.enum(['volatile', 'transient_local']).optional(),
  })
  .strict();

/**
 * QoS of one topic in a robot profile: a profile name (`sensor_data`), or an object naming a
 * base profile (default `default`) and overriding any of its policies:
 * `{profile: sensor_data, depth: 1}`, `{reliability: best_effort}`. A name is read as
 * `{profile: name}`, so every error names the field it is about.
 */
export const qosSchema = z.preprocess(
  (value) => (typeof value === 'string' ? { profile: value } : value),
  qosObjectSchema,
);

export type QosSetting = QosProfileName | z.infer<typeof qosObjectSchema>;

/** Per-topic QoS settings, keyed by topic name, as a robot profile holds them. */
export const topicQosSchema = z.record(z.string().min(1), qosSchema);

/** Resolves a setting (already schema-valid) to a full profile. */
export function resolveQos(
  setting: QosSetting | undefined,
  fallback: QosProfileName = 'default',
): QosProfile {
  if (setting === undefined) return { ...QOS_PROFILES[fallback] };
  if (typeof setting === 'string') return { ...QOS_PROFILES[setting] };
  const base = QOS_PROFILES[setting.profile ?? fallback];
  return {
    history: setting.history ?? base.history,
    depth: setting.depth ?? base.depth,
    reliability: setting.reliability ?? base.reliability,
    durability: setting.durability ?? base.durability,
  };
}

/**
 * The QoS for `topic`: its entry in `overrides` if any, else the `fallback` profile. The
 * overrides are validated here (zod), so a bad entry is an InputError naming
 * `<source>: qos./topic.field`.
 */
export function qosForTopic(
  topic: string,
  overrides: unknown,
  fallback: QosProfileName = 'default',
  source = 'robot profile',
): QosProfile {
  const table = parseWith(topicQosSchema.optional(), overrides, source, 'qos');
  return resolveQos(table?.[topic], fallback);
}

// ---- rmw enum values ----------------------------------------------------------------------------

/** rmw_qos_history_policy_t */
export const RMW_HISTORY = { system_default: 0, keep_last: 1, keep_all: 2 } as const;
/** rmw_qos_reliability_policy_t */
export const RMW_RELIABILITY = { system_default: 0, reliable: 1, best_effort: 2 } as const;
/** rmw_qos_durability_policy_t */
export const RMW_DURABILITY = { system_default: 0, transient_local: 1, volatile: 2 } as const;
/** rmw_qos_liveliness_policy_t */
export const RMW_LIVELINESS = { system_default: 0, automatic: 1, manual_by_topic: 3 } as const;

// ---- rclnodejs --------------------------------------------------------------------------------

/** rclnodejs's `QoS` class: `new QoS(history, depth, reliability, durability, avoidRosNs)`. */
export type RclnodejsQosClass<T = unknown> = new (
  history: number,
  depth: number,
  reliability: number,
  durability: number,
  avoidRosNameSpaceConventions?: boolean,
) => T;

/** The constructor arguments of rclnodejs's QoS for a profile (rmw enum values). */
export function rclnodejsQosArgs(profile: QosProfile): [number, number, number, number, boolean] {
  return [
    RMW_HISTORY[profile.history],
    profile.history === 'keep_all' ? 0 : profile.depth,
    RMW_RELIABILITY[profile.reliability],
    RMW_DURABILITY[profile.durability],
    false,
  ];
}

/**
 * The rclnodejs QoS object for a profile, for `createPublisher(type, topic, {qos})` and
 * `createSubscription`. Pass the loaded module's `QoS` class (see loadRclnodejs).
 */
export function toRclnodejsQos<T>(profile: QosProfile, QoS: RclnodejsQosClass<T>): T {
  return new QoS(...rclnodejsQosArgs(profile));
}

// ---- rosbag2 ------------------------------------------------------------------------------------

/**
 * How rosbag2 writes policies in `offered_qos_profiles`:
 * - `numeric`: rmw enum integers (`reliability: 1`), what every rosbag2 before metadata version 9
 *   writes, and what a version-9+ reader expects when the MCAP file's `rosbag2` metadata record
 *   has no `serialized_metadata` (it then assumes version 8);
 * - `names`: `reliability: reliable`, what metadata version 9+ writes and expects.
 */
export type QosYamlStyle = 'numeric' | 'names';

/** rmw's RMW_DURATION_INFINITE, which live publishers report for deadline, lifespan and lease. */
const INFINITE = { sec: 9223372036, nsec: 854775807 };

/**
 * rosbag2's `offered_qos_profiles` text for one topic: a YAML sequence with one entry per
 * publisher (pons has one), in rosbag2's key order. Durations are written as infinite (rmw's
 * defaults), liveliness AUTOMATIC, as a ROS 2 publisher with these policies reports them.
 */
export function offeredQosProfilesYaml(
  profiles: QosProfile | readonly QosProfile[],
  style: QosYamlStyle = 'numeric',
): string {
  const list = Array.isArray(profiles) ? profiles : [profiles as QosProfile];
  if (list.length === 0) return '[]\n';
  const lines: string[] = [];
  for (const p of list) {
    const policy = <K extends string>(table: Readonly<Record<K, number>>, name: K): string =>
      style === 'names' ? name : String(table[name]);
    lines.push(
      `- history: ${policy(RMW_HISTORY, p.history)}`,
      `  depth: ${p.history === 'keep_all' ? 0 : p.depth}`,
      `  reliability: ${policy(RMW_RELIABILITY, p.reliability)}`,
      `  durability: ${policy(RMW_DURABILITY, p.durability)}`,
      '  deadline:',
      `    sec: ${INFINITE.sec}`,
      `    nsec: ${INFINITE.nsec}`,
      '  lifespan:',
      `    sec: ${INFINITE.sec}`,
      `    nsec: ${INFINITE.nsec}`,
      `  liveliness: ${policy(RMW_LIVELINESS, 'automatic')}`,
      '  liveliness_lease_duration:',
      `    sec: ${INFINITE.sec}`,
      `    nsec: ${INFINITE.nsec}`,
      '  avoid_ros_namespace_conventions: false',
    );
  }
  return `${lines.join('\n')}\n`;
}

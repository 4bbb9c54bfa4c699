/**
 * Builders for the standard ROS 2 messages pons publishes, as plain objects in rclnodejs's JS
 * shape: field names exactly as in the `.msg` files (snake_case), `builtin_interfaces` times as
 * `{sec, nanosec}`, float64/string sequences as plain arrays. The same objects serialize to CDR
 * with @foxglove/rosmsg2-serialization (see definitions.ts), which is how the tests check them
 * against the official definitions and how the recorder writes them.
 *
 * Every builder validates what it is given and throws an InputError naming the message type,
 * the field and the reason: a NaN or a ragged array never reaches a controller. Stamps are int64
 * nanoseconds (bigint) in ROS time (`node.now()`, which follows /clock under use_sim_time).
 */
import { InputError } from '../contract/index.js';
import { type RosDuration, type RosTime, rosDuration, rosTime } from './time.js';

/** Full ROS 2 type names, as rclnodejs's createPublisher and rosbag2 spell them. */
export const ROS_TYPES = {
  header: 'std_msgs/msg/Header',
  jointTrajectory: 'trajectory_msgs/msg/JointTrajectory',
  float64MultiArray: 'std_msgs/msg/Float64MultiArray',
  twist: 'geometry_msgs/msg/Twist',
  twistStamped: 'geometry_msgs/msg/TwistStamped',
  diagnosticArray: 'diagnostic_msgs/msg/DiagnosticArray',
  bool: 'std_msgs/msg/Bool',
  jointState: 'sensor_msgs/msg/JointState',
  image: 'sensor_msgs/msg/Image',
  compressedImage: 'sensor_msgs/msg/CompressedImage',
  string: 'std_msgs/msg/String',
  clock: 'rosgraph_msgs/msg/Clock',
} as const;

// ---- message shapes ---------------------------------------------------------------------------

export interface HeaderMsg {
  stamp: RosTime;
  frame_id: string;
}

export interface JointTrajectoryPointMsg {
  positions: number[];
  velocities: number[];
  accelerations: number[];
  effort: number[];
  time_from_start: RosDuration;
}

export interface JointTrajectoryMsg {
  header: HeaderMsg;
  joint_names: string[];
  points: JointTrajectoryPointMsg[];
}

export interface MultiArrayDimensionMsg {
  label: string;
  size: number;
  stride: number;
}

export interface Float64MultiArrayMsg {
  layout: { dim: MultiArrayDimensionMsg[]; data_offset: number };
  data: number[];
}

export interface Vector3Msg {
  x: number;
  y: number;
  z: number;
}

export interface TwistMsg {
  linear: Vector3Msg;
  angular: Vector3Msg;
}

export interface TwistStampedMsg {
  header: HeaderMsg;
  twist: TwistMsg;
}

export interface KeyValueMsg {
  key: string;
  value: string;
}

export interface DiagnosticStatusMsg {
  /** A byte: OK 0, WARN 1, ERROR 2, STALE 3. */
  level: number;
  name: string;
  message: string;
  hardware_id: string;
  values: KeyValueMsg[];
}

export interface DiagnosticArrayMsg {
  header: HeaderMsg;
  status: DiagnosticStatusMsg[];
}

export interface BoolMsg {
  data: boolean;
}

export interface JointStateMsg {
  header: HeaderMsg;
  name: string[];
  position: number[];
  velocity: number[];
  effort: number[];
}

// ---- header -----------------------------------------------------------------------------------

export function headerMsg(
  stampNs: bigint,
  frameId = '',
  source: string = ROS_TYPES.header,
): HeaderMsg {
  return {
    stamp: rosTime(stampNs, source, 'header.stamp'),
    frame_id: text(frameId, source, 'header.frame_id'),
  };
}

// ---- trajectory_msgs/JointTrajectory ----------------------------------------------------------

export interface JointTrajectoryPointInput {
  positions?: ArrayLike<number>;
  velocities?: ArrayLike<number>;
  accelerations?: ArrayLike<number>;
  effort?: ArrayLike<number>;
  /** Time from the trajectory's start (header stamp) to reach this point, int64 ns. */
  timeFromStartNs: bigint;
}

export interface JointTrajectoryInput {
  /** Header stamp in ROS time, ns. 0n means "start now" to a JointTrajectoryController. */
  stampNs: bigint;
  frameId?: string;
  jointNames: readonly string[];
  points: readonly JointTrajectoryPointInput[];
}

/**
 * A JointTrajectory for ros2_control's JointTrajectoryController: at least one point; every
 * point's positions/velocities/accelerations/effort either empty or one value per joint (and at
 * least positions or velocities); `time_from_start` non-negative and strictly increasing.
 */
export function jointTrajectoryMsg(input: JointTrajectoryInput): JointTrajectoryMsg {
  const source = ROS_TYPES.jointTrajectory;
  const jointNames = names(input.jointNames, source, 'joint_names');
  const n = jointNames.length;
  if (input.points.length === 0) throw new InputError(source, 'points', 'must not be empty');
  const points: JointTrajectoryPointMsg[] = new Array(input.points.length);
  let previousNs = -1n;
  for (let i = 0; i < input.points.length; i++) {
    const p = input.points[i] as JointTrajectoryPointInput;
    const at = `points[${i}]`;
    const positions = perJoint(p.positions, n, source, `${at}.positions`);
    const velocities = perJoint(p.velocities, n, source, `${at}.velocities`);
    if (positions.length === 0 && velocities.length === 0) {
      throw new InputError(source, at, 'needs positions or velocities');
    }
    const t = p.timeFromStartNs;
    if (typeof t !== 'bigint' || t < 0n) {
      throw new InputError(source, `${at}.time_from_start`, 'must be a non-negative bigint of ns');
    }
    if (t <= previousNs) {
      throw new InputError(
        source,
        `${at}.time_from_start`,
        `must be strictly increasing (${t} ns after ${previousNs} ns)`,
      );
    }
    previousNs = t;
    points[i] = {
      positions,
      velocities,
      accelerations: perJoint(p.accelerations, n, source, `${at}.accelerations`),
      effort: perJoint(p.effort, n, source, `${at}.effort`),
      time_from_start: rosDuration(t, source, `${at}.time_from_start`),
    };
  }
  return {
    header: headerMsg(input.stampNs, input.frameId, source),
    joint_names: jointNames,
    points,
  };
}

// ---- std_msgs/Float64MultiArray ---------------------------------------------------------------

/**
 * A Float64MultiArray for ros2_control's forward_command_controller: one dimension, labelled
 * (`joints` by default), size = stride = the number of values. Pass `expectedLength` (the
 * controller's joint count) to refuse a command of the wrong length before it is published.
 */
export function float64MultiArrayMsg(
  values: ArrayLike<number>,
  label = 'joints',
  expectedLength?: number,
): Float64MultiArrayMsg {
  const source = ROS_TYPES.float64MultiArray;
  const data = finiteArray(values, source, 'data');
  if (data.length === 0) throw new InputError(source, 'data', 'must not be empty');
  if (expectedLength !== undefined && data.length !== expectedLength) {
    throw new InputError(
      source,
      'data',
      `has ${data.length} values, the controller expects ${expectedLength}`,
    );
  }
  return {
    layout: {
      dim: [
        {
          label: text(label, source, 'layout.dim[0].label'),
          size: data.length,
          stride: data.length,
        },
      ],
      data_offset: 0,
    },
    data,
  };
}

// ---- geometry_msgs/Twist, TwistStamped --------------------------------------------------------

export interface Vector3Input {
  x?: number;
  y?: number;
  z?: number;
}

export interface TwistInput {
  /** m/s; unset components are 0. */
  linear?: Vector3Input;
  /** rad/s; unset components are 0. */
  angular?: Vector3Input;
}

/** The twist whose components (named as in BASE_TWIST_COMPONENTS) take `values`. */
export function twistFromComponents(
  names: readonly string[],
  values: ArrayLike<number>,
): TwistInput {
  const linear: Vector3Input = {};
  const angular: Vector3Input = {};
  names.forEach((name, i) => {
    const [part, axis] = name.split('_') as ['linear' | 'angular', 'x' | 'y' | 'z'];
    (part === 'linear' ? linear : angular)[axis] = values[i] as number;
  });
  return { linear, angular };
}

export function twistMsg(input: TwistInput): TwistMsg {
  return twist(input, ROS_TYPES.twist, '');
}

/** A TwistStamped (Jazzy's diff_drive_controller ages commands by `header.stamp`). */
export function twistStampedMsg(
  input: TwistInput & { stampNs: bigint; frameId?: string },
): TwistStampedMsg {
  const source = ROS_TYPES.twistStamped;
  return {
    header: headerMsg(input.stampNs, input.frameId, source),
    twist: twist(input, source, 'twist.'),
  };
}

function twist(input: TwistInput, source: string, prefix: string): TwistMsg {
  return {
    linear: vector3(input.linear, source, `${prefix}linear`),
    angular: vector3(input.angular, source, `${prefix}angular`),
  };
}

// ---- diagnostic_msgs/DiagnosticArray ----------------------------------------------------------

/** `diagnostic_msgs/DiagnosticStatus` levels (a byte on the wire). */
export const DIAGNOSTIC_LEVEL = { OK: 0, WARN: 1, ERROR: 2, STALE: 3 } as const;
export type DiagnosticLevelName = 'ok' | 'warn' | 'error' | 'stale';

export interface DiagnosticStatusInput {
  level: DiagnosticLevelName | (typeof DIAGNOSTIC_LEVEL)[keyof typeof DIAGNOSTIC_LEVEL];
  /** Conventionally `node_name: component`. */
  name: string;
  message: string;
  hardwareId?: string;
  /** Key/value pairs, in insertion order; values are written with String(). */
  values?: Readonly<Record<string, string | number | bigint | boolean>>;
}

export interface DiagnosticArrayInput {
  stampNs: bigint;
  status: readonly DiagnosticStatusInput[];
}

export function diagnosticArrayMsg(input: DiagnosticArrayInput): DiagnosticArrayMsg {
  const source = ROS_TYPES.diagnosticArray;
  const status = input.status.map((s, i) => {
    const at = `status[${i}]`;
    const values: KeyValueMsg[] = [];
    // Values are text: a NaN latency is worth reporting as "NaN".
    for (const [key, value] of Object.entries(s.values ?? {})) {
      values.push({ key, value: String(value) });
    }
    return {
      level: diagnosticLevel(s.level, source, `${at}.level`),
      name: text(s.name, source, `${at}.name`),
      message: text(s.message, source, `${at}.message`),
      hardware_id: text(s.hardwareId ?? '', source, `${at}.hardware_id`),
      values,
    };
  });
  return { header: headerMsg(input.stampNs, '', source), status };
}

function diagnosticLevel(
  level: DiagnosticStatusInput['level'],
  source: string,
  field: string,
): number {
  switch (level) {
    case 'ok':
      return DIAGNOSTIC_LEVEL.OK;
    case 'warn':
      return DIAGNOSTIC_LEVEL.WARN;
    case 'error':
      return DIAGNOSTIC_LEVEL.ERROR;
    case 'stale':
      return DIAGNOSTIC_LEVEL.STALE;
    case 0:
    case 1:
    case 2:
    case 3:
      return level;
    default:
      throw new InputError(
        source,
        field,
        `must be ok, warn, error or stale (0–3), got ${String(level)}`,
      );
  }
}

// ---- std_msgs/Bool ----------------------------------------------------------------------------

/** A Bool, e.g. the e-stop input or a twist_mux lock. */
export function boolMsg(data: boolean): BoolMsg {
  if (typeof data !== 'boolean') {
    throw new InputError(ROS_TYPES.bool, 'data', `must be a boolean, got ${typeof data}`);
  }
  return { data };
}

// ---- sensor_msgs/JointState -------------------------------------------------------------------

export interface JointStateInput {
  stampNs: bigint;
  frameId?: string;
  names: readonly string[];
  /** Each either empty/absent or one value per name. */
  position?: ArrayLike<number>;
  velocity?: ArrayLike<number>;
  effort?: ArrayLike<number>;
}

export function jointStateMsg(input: JointStateInput): JointStateMsg {
  const source = ROS_TYPES.jointState;
  const name = names(input.names, source, 'name');
  return {
    header: headerMsg(input.stampNs, input.frameId, source),
    name,
    position: perJoint(input.position, name.length, source, 'position'),
    velocity: perJoint(input.velocity, name.length, source, 'velocity'),
    effort: perJoint(input.effort, name.length, source, 'effort'),
  };
}

// ---- sensor_msgs/Image, rosgraph_msgs/Clock, std_msgs/String ---------------------------------

export interface ImageInput {
  stampNs: bigint;
  frameId?: string;
  width: number;
  height: number;
  /** A sensor_msgs/image_encodings name: rgb8, bgr8, mono8, … */
  encoding: string;
  /** Bytes per row. */
  step: number;
  data: Uint8Array;
}

export interface ImageMsg {
  header: HeaderMsg;
  height: number;
  width: number;
  encoding: string;
  is_bigendian: number;
  step: number;
  data: Uint8Array;
}

export function imageMsg(input: ImageInput): ImageMsg {
  const source = ROS_TYPES.image;
  for (const key of ['width', 'height', 'step'] as const) {
    const n = input[key];
    if (!Number.isInteger(n) || n < 1 || n > 0xffff_ffff) {
      throw new InputError(source, key, `must be a positive uint32, got ${n}`);
    }
  }
  if (input.data.length !== input.step * input.height) {
    throw new InputError(
      source,
      'data',
      `holds ${input.data.length} bytes, step × height is ${input.step * input.height}`,
    );
  }
  return {
    header: headerMsg(input.stampNs, input.frameId, source),
    height: input.height,
    width: input.width,
    encoding: text(input.encoding, source, 'encoding'),
    is_bigendian: 0,
    step: input.step,
    data: input.data,
  };
}

export function clockMsg(stampNs: bigint): { clock: RosTime } {
  return { clock: rosTime(stampNs, ROS_TYPES.clock, 'clock') };
}

export function stringMsg(data: string): { data: string } {
  return { data: text(data, ROS_TYPES.string, 'data') };
}

// ---- shared checks ----------------------------------------------------------------------------

function text(value: unknown, source: string, field: string): string {
  if (typeof value !== 'string') {
    throw new InputError(source, field, `must be a string, got ${typeof value}`);
  }
  return value;
}

/** Joint names: non-empty, unique strings. */
function names(values: readonly string[], source: string, field: string): string[] {
  if (!Array.isArray(values) || values.length === 0) {
    throw new InputError(source, field, 'must be a non-empty array of names');
  }
  const seen = new Set<string>();
  const out: string[] = new Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const name = values[i];
    if (typeof name !== 'string' || name.length === 0) {
      throw new InputError(source, `${field}[${i}]`, 'must be a non-empty string');
    }
    if (seen.has(name)) throw new InputError(source, `${field}[${i}]`, `repeats "${name}"`);
    seen.add(name);
    out[i] = name;
  }
  return out;
}

/** Finite numbers copied into a plain array. */
function finiteArray(values: ArrayLike<number>, source: string, field: string): number[] {
  if (values === null || typeof values !== 'object' || typeof values.length !== 'number') {
    throw new InputError(source, field, 'must be an array of numbers');
  }
  const out: number[] = new Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new InputError(source, `${field}[${i}]`, `must be a finite number, got ${String(v)}`);
    }
    out[i] = v;
  }
  return out;
}

/** Empty (or absent), or exactly one finite value per joint. */
function perJoint(
  values: ArrayLike<number> | undefined,
  joints: number,
  source: string,
  field: string,
): number[] {
  if (values === undefined || values.length === 0) return [];
  if (values.length !== joints) {
    throw new InputError(source, field, `has ${values.length} values for ${joints} joints`);
  }
  return finiteArray(values, source, field);
}

function vector3(v: Vector3Input | undefined, source: string, field: string): Vector3Msg {
  const x = v?.x ?? 0;
  const y = v?.y ?? 0;
  const z = v?.z ?? 0;
  for (const [axis, value] of [
    ['x', x],
    ['y', y],
    ['z', z],
  ] as const) {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new InputError(
        source,
        `${field}.${axis}`,
        `must be a finite number, got ${String(value)}`,
      );
    }
  }
  return { x, y, z };
}

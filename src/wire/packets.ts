/**
 * Wire protocol v1: the packets that cross process boundaries. Each packet is a plain
 * MessagePack map with snake_case keys, readable from any language; n-d arrays follow
 * openpi's msgpack-numpy convention (see ndarray.ts). Stamps are integer nanoseconds
 * (int64 on the wire, bigint here): never epoch nanoseconds in a float64.
 *
 * Rules every packet obeys (validate.ts enforces them on decode and on encode): exactly the
 * keys below; `v` = 1; ids (`model_id`, `episode_id`, `software`) 1–128 characters without
 * control characters; `spec_id` 64 lowercase hex digits; stamps in [0, 2^63) ns; `seq` a
 * non-negative integer below 2^53; no NaN or ±Infinity anywhere.
 */

export const PROTOCOL_VERSION = 1;

export const PACKET_KINDS = [
  'hello',
  'tokens',
  'state',
  'estop',
  'frame',
  'joints',
  'instruction',
  'scene',
  'command',
] as const;
export type PacketKind = (typeof PACKET_KINDS)[number];

export const ROLES = ['brain', 'cerebellum'] as const;
export type Role = (typeof ROLES)[number];

export const MODES = ['run', 'hold', 'estop'] as const;
export type Mode = (typeof MODES)[number];

/** Sent by each side when it starts and every second after: who it is and what it speaks. */
export interface HelloPacket {
  v: typeof PROTOCOL_VERSION;
  kind: 'hello';
  role: Role;
  /** The ActionSpec's canonical JSON. */
  spec: string;
  /** SHA-256 of `spec`, hex; a hello whose spec does not hash to it is refused. */
  spec_id: string;
  model_id: string;
  /** pons version of the sender. */
  software: string;
}

/** Brain → cerebellum: one decision's action tokens. */
export interface TokensPacket {
  v: typeof PROTOCOL_VERSION;
  kind: 'tokens';
  spec_id: string;
  model_id: string;
  episode_id: string;
  /** Counts up by one per packet from each brain; restarts at 0 with the brain. */
  seq: number;
  /** Stamp of the observation the decision was made from; step k is due at this + k·dt. */
  obs_stamp_ns: bigint;
  emit_stamp_ns: bigint;
  /** Action token ids, step-major (`<u4`, shape [N], 1 ≤ N ≤ maxTokens). */
  tokens: Uint32Array;
  /**
   * Per-stage timings in milliseconds (preprocess, vision, prefill, decode, …): at most 32
   * finite, non-negative numbers named like `vision` (a letter, then `[A-Za-z0-9_.:/-]`, ≤ 32).
   */
  timings_ms: Record<string, number>;
}

/** Cerebellum → brain: the robot's state and the controller's mode. */
export interface StatePacket {
  v: typeof PROTOCOL_VERSION;
  kind: 'state';
  spec_id: string;
  seq: number;
  stamp_ns: bigint;
  /** Joint positions and velocities (`<f8`, shape [J] each, 0 ≤ J ≤ maxJoints, finite). */
  position: Float64Array;
  velocity: Float64Array;
  mode: Mode;
  /** Sequence number of the last token packet applied; -1 before the first. */
  last_token_seq: number;
}

/**
 * Any side → cerebellum, on the tokens channel: engage latches the e-stop (decelerate and
 * hold); only `engage: false`, an operator's explicit reset, releases it.
 */
export interface EstopPacket {
  v: typeof PROTOCOL_VERSION;
  kind: 'estop';
  engage: boolean;
  /** Who and why, for the log and diagnostics (1–128 characters). */
  reason: string;
  stamp_ns: bigint;
}

/*
 * The observation bus: what a simulator, a robot without ROS or a replay publishes for a
 * brain to see. Each packet is one sensor message, stamped when it was captured.
 */

/** Raw pixel layouts (sensor_msgs/Image encodings) and compressed formats a frame may carry. */
export const FRAME_ENCODINGS = ['rgb8', 'bgr8', 'rgba8', 'bgra8', 'mono8', 'jpeg', 'png'] as const;
export type FrameEncoding = (typeof FRAME_ENCODINGS)[number];

/** One camera image. */
export interface FramePacket {
  v: typeof PROTOCOL_VERSION;
  kind: 'frame';
  /** The camera's name in the robot profile (1–128 characters). */
  camera: string;
  seq: number;
  stamp_ns: bigint;
  encoding: FrameEncoding;
  /** Pixels of a raw frame (1–16384); 0 for jpeg and png, whose size is in their bytes. */
  width: number;
  height: number;
  /**
   * `|u1` n-d array, 1-D: raw encodings row-major without padding (width · height ·
   * channels bytes, channels 3, 4 or 1 as the encoding says); jpeg and png their bytes.
   */
  data: Uint8Array;
}

/** A sensor_msgs/JointState: names and positions, velocities empty or one per joint. */
export interface JointsPacket {
  v: typeof PROTOCOL_VERSION;
  kind: 'joints';
  seq: number;
  stamp_ns: bigint;
  name: string[];
  position: Float64Array;
  velocity: Float64Array;
}

/** What the robot should do, in words; it applies from the next decision. */
export interface InstructionPacket {
  v: typeof PROTOCOL_VERSION;
  kind: 'instruction';
  seq: number;
  stamp_ns: bigint;
  /** 1–2000 characters, not only spaces; no control characters but tab and newline. */
  text: string;
}

/**
 * Privileged simulator state, for scripted experts only: where every object is. A learned
 * brain never sees it.
 */
export interface ScenePacket {
  v: typeof PROTOCOL_VERSION;
  kind: 'scene';
  seq: number;
  stamp_ns: bigint;
  episode_id: string;
  /** Object names (1–128 characters, distinct). */
  name: string[];
  /** `<f8`, 1-D: x, y (m) and yaw (rad) per object, in the order of `name`. */
  pose: Float64Array;
}

export type ObservationPacket = FramePacket | JointsPacket | InstructionPacket | ScenePacket;

/**
 * Cerebellum → robot or simulator without ROS: one command, as it left the safety filter.
 * Carries the observation stamp of the chunk it executes, so frame → command latency can be
 * measured at the robot.
 */
export interface CommandPacket {
  v: typeof PROTOCOL_VERSION;
  kind: 'command';
  seq: number;
  /** When the command is due (the control tick). */
  stamp_ns: bigint;
  /** Observation stamp of the chunk being executed; 0 when none is (hold from rest). */
  obs_stamp_ns: bigint;
  mode: Mode;
  /** `<f8`, 1-D, one per joint, finite. */
  position: Float64Array;
  velocity: Float64Array;
}

export type Packet =
  | HelloPacket
  | TokensPacket
  | StatePacket
  | EstopPacket
  | FramePacket
  | JointsPacket
  | InstructionPacket
  | ScenePacket
  | CommandPacket;

/**
 * pons_msgs: the ROS 2 messages pons defines (ros/pons_msgs/msg/*.msg), kept here as text so the
 * MCAP recorder can write `ros2msg` schemas without a ROS installation, plus builders in
 * rclnodejs's JS shape. A test checks that this text equals the files in ros/pons_msgs/msg/.
 */
import { InputError } from '../contract/index.js';
import { type HeaderMsg, headerMsg } from './messages.js';
import { nsFromStamp, type RosTime, rosTime } from './time.js';

export const PONS_MSGS_PACKAGE = 'pons_msgs';

/** `pons_msgs/msg/ActionTokens`: one decision's action tokens (the wire `tokens` packet). */
export const ACTION_TOKENS_MSG = `# One decision of a pons brain: the action tokens of one chunk, as the tokens packet of the
# pons wire protocol (docs/wire-protocol.md) carries them.

# stamp: the stamp of the observation the decision was made from; step k of the chunk is due
# at stamp + k * dt (dt from the ActionSpec that spec_id names).
std_msgs/Header header

# SHA-256 (64 lowercase hex digits) of the ActionSpec's canonical JSON.
string spec_id
string model_id
string episode_id

# Counts up by one per packet from each brain; restarts at 0 with the brain.
uint64 seq

# When the brain sent the packet.
builtin_interfaces/Time emit_stamp

# Action token ids, step-major.
uint32[] tokens

# Per-stage timings in milliseconds (preprocess, vision, prefill, decode, ...):
# timing_ms[i] is the time spent in stage timing_names[i].
string[] timing_names
float64[] timing_ms
`;

/** `pons_msgs/msg/ActionChunk`: a decoded chunk of physical actions, step-major. */
export const ACTION_CHUNK_MSG = `# A decoded action chunk: physical actions for horizon steps dt seconds apart.

# stamp: the stamp of the observation the chunk was decided from; step k is due at
# stamp + k * dt.
std_msgs/Header header

# SHA-256 (64 lowercase hex digits) of the ActionSpec's canonical JSON.
string spec_id

# The action dimensions, in the ActionSpec's order (joint names for joint-space specs).
string[] dimension_names

# Steps in the chunk, and seconds between them.
uint32 horizon
float64 dt

# horizon * len(dimension_names) values, step-major: values[k * len(dimension_names) + j] is
# dimension j at step k, in the unit the ActionSpec gives for it.
float64[] values
`;

/** `pons_msgs/msg/EpisodeEvent`: the start or end of a recorded episode. */
export const EPISODE_EVENT_MSG = `# The start or the end of one recorded episode (\`pons sim collect\`), so that a reader of the
# recording knows where each episode begins and ends, what it was asked, and how it went.

# stamp: START: the episode's first observation; END: the time it ended.
std_msgs/Header header

uint8 START=0
uint8 END=1
uint8 event

string episode_id
# The task kind (reach, push) and the seed its scene was drawn from.
string task
uint32 seed
string instruction

# END only: whether the task succeeded, and the episode's length in seconds.
bool success
float64 duration
`;

/** `pons_msgs/msg/ControlInput`: an input the control thread applied, and at which tick. */
export const CONTROL_INPUT_MSG = `# One input the pons cerebellum's control thread applied, and the control tick that applied
# it; or ticks its clock skipped because it ran late. With the control setup the recording
# carries, these reproduce every command exactly (pons replay --verify).

# stamp: when the applying tick was due.
std_msgs/Header header

# The control tick that applied the input, counted from 0 when the control thread started.
uint64 tick

# Counts up by one per input sent to the control thread: a gap is an input missing here.
uint64 index

# "chunk", "measured", "estop", "reset", or "skip": ticks tick .. tick + values[0] - 1 never
# ran (index is then the next input's).
string kind

# chunk: the token packet's seq, and the stamp of the observation it was decided from.
int64 seq
builtin_interfaces/Time obs_stamp

# chunk: horizon * joints joint targets, step-major; measured: the joint positions.
float64[] values

# estop: why.
string reason
`;

/** The `.msg` text of each pons_msgs type, keyed by full ROS 2 type name. */
export const PONS_MSG_DEFINITIONS: Readonly<Record<string, string>> = Object.freeze({
  'pons_msgs/msg/ActionTokens': ACTION_TOKENS_MSG,
  'pons_msgs/msg/ActionChunk': ACTION_CHUNK_MSG,
  'pons_msgs/msg/EpisodeEvent': EPISODE_EVENT_MSG,
  'pons_msgs/msg/ControlInput': CONTROL_INPUT_MSG,
});

export const PONS_TYPES = {
  actionTokens: 'pons_msgs/msg/ActionTokens',
  actionChunk: 'pons_msgs/msg/ActionChunk',
  episodeEvent: 'pons_msgs/msg/EpisodeEvent',
  controlInput: 'pons_msgs/msg/ControlInput',
} as const;

// ---- message shapes ---------------------------------------------------------------------------

export interface ActionTokensMsg {
  header: HeaderMsg;
  spec_id: string;
  model_id: string;
  episode_id: string;
  /** uint64: a bigint, as rclnodejs and @foxglove/rosmsg2-serialization carry 64-bit integers. */
  seq: bigint;
  emit_stamp: RosTime;
  tokens: number[];
  timing_names: string[];
  timing_ms: number[];
}

export interface ControlInputMsg {
  header: HeaderMsg;
  tick: bigint;
  index: bigint;
  kind: ControlInputKind;
  seq: bigint;
  obs_stamp: RosTime;
  values: number[];
  reason: string;
}

export const CONTROL_INPUT_KINDS = ['chunk', 'measured', 'estop', 'reset', 'skip'] as const;
export type ControlInputKind = (typeof CONTROL_INPUT_KINDS)[number];

export interface ActionChunkMsg {
  header: HeaderMsg;
  spec_id: string;
  dimension_names: string[];
  horizon: number;
  dt: number;
  values: number[];
}

/** EpisodeEvent's `event` constants. */
export const EPISODE_EVENT = { start: 0, end: 1 } as const;

export interface EpisodeEventMsg {
  header: HeaderMsg;
  event: number;
  episode_id: string;
  task: string;
  seed: number;
  instruction: string;
  success: boolean;
  duration: number;
}

// ---- builders ---------------------------------------------------------------------------------

/**
 * What `actionTokensMsg` needs: the fields of a wire `tokens` packet (a TokensPacket can be
 * passed as it is; src/ros does not import src/wire).
 */
export interface ActionTokensInput {
  spec_id: string;
  model_id: string;
  episode_id: string;
  seq: number | bigint;
  obs_stamp_ns: bigint;
  emit_stamp_ns: bigint;
  tokens: ArrayLike<number>;
  timings_ms: Readonly<Record<string, number>>;
}

const UINT64_MAX = 2n ** 64n - 1n;

/** An ActionTokens message: header stamp = observation stamp, timings as parallel arrays. */
export function actionTokensMsg(packet: ActionTokensInput, frameId = ''): ActionTokensMsg {
  const source = PONS_TYPES.actionTokens;
  const seq =
    typeof packet.seq === 'number' && Number.isSafeInteger(packet.seq)
      ? BigInt(packet.seq)
      : packet.seq;
  if (typeof seq !== 'bigint' || seq < 0n || seq > UINT64_MAX) {
    throw new InputError(source, 'seq', `must be a uint64, got ${String(packet.seq)}`);
  }
  const tokens: number[] = new Array(packet.tokens.length);
  for (let i = 0; i < packet.tokens.length; i++) {
    const t = packet.tokens[i];
    if (typeof t !== 'number' || !Number.isInteger(t) || t < 0 || t > 0xffff_ffff) {
      throw new InputError(source, `tokens[${i}]`, `must be a uint32, got ${String(t)}`);
    }
    tokens[i] = t;
  }
  const timingNames: string[] = [];
  const timingMs: number[] = [];
  for (const [name, ms] of Object.entries(packet.timings_ms)) {
    if (typeof ms !== 'number' || !Number.isFinite(ms)) {
      throw new InputError(
        source,
        `timing_ms.${name}`,
        `must be a finite number, got ${String(ms)}`,
      );
    }
    timingNames.push(name);
    timingMs.push(ms);
  }
  return {
    header: headerMsg(packet.obs_stamp_ns, frameId, source),
    spec_id: str(packet.spec_id, source, 'spec_id'),
    model_id: str(packet.model_id, source, 'model_id'),
    episode_id: str(packet.episode_id, source, 'episode_id'),
    seq,
    emit_stamp: rosTime(packet.emit_stamp_ns, source, 'emit_stamp'),
    tokens,
    timing_names: timingNames,
    timing_ms: timingMs,
  };
}

/** An ActionTokens message as read back from a recording, stamps as int64 nanoseconds. */
export interface RecordedActionTokens {
  spec_id: string;
  model_id: string;
  episode_id: string;
  seq: bigint;
  obs_stamp_ns: bigint;
  emit_stamp_ns: bigint;
  tokens: Uint32Array;
  timings_ms: Record<string, number>;
}

/**
 * A decoded ActionTokens message (as @foxglove/rosmsg2-serialization gives it) checked field
 * by field: a recording's schema is the file's own, so its fields are not taken on trust.
 */
export function readActionTokensMsg(message: unknown, source: string): RecordedActionTokens {
  const m = (typeof message === 'object' && message !== null ? message : {}) as Record<
    string,
    unknown
  >;
  const stamp = (field: string, value: unknown) => {
    if (typeof value !== 'object' || value === null) {
      throw new InputError(source, field, 'is missing');
    }
    return nsFromStamp(value as RosTime, source, field);
  };
  const header = m.header as { stamp?: unknown } | undefined;
  if (typeof m.seq !== 'bigint') {
    throw new InputError(source, 'seq', `must be a uint64, got ${typeof m.seq}`);
  }
  if (!(m.tokens instanceof Uint32Array)) {
    throw new InputError(source, 'tokens', 'must be a uint32 array');
  }
  const names = m.timing_names;
  const ms = m.timing_ms;
  if (!Array.isArray(names) || !(ms instanceof Float64Array) || names.length !== ms.length) {
    throw new InputError(source, 'timing_ms', 'must be float64s, one per timing_names entry');
  }
  const timings: Record<string, number> = {};
  names.forEach((name, i) => {
    timings[str(name, source, `timing_names[${i}]`)] = ms[i] as number;
  });
  return {
    spec_id: str(m.spec_id, source, 'spec_id'),
    model_id: str(m.model_id, source, 'model_id'),
    episode_id: str(m.episode_id, source, 'episode_id'),
    seq: m.seq,
    obs_stamp_ns: stamp('header.stamp', header?.stamp),
    emit_stamp_ns: stamp('emit_stamp', m.emit_stamp),
    tokens: m.tokens,
    timings_ms: timings,
  };
}

export interface ActionChunkInput {
  /** Observation stamp the chunk was decided from, ROS time ns. */
  stampNs: bigint;
  frameId?: string;
  specId: string;
  dimensionNames: readonly string[];
  horizon: number;
  /** Seconds between steps. */
  dt: number;
  /** horizon × dimensionNames.length finite values, step-major. */
  values: ArrayLike<number>;
}

export function actionChunkMsg(input: ActionChunkInput): ActionChunkMsg {
  const source = PONS_TYPES.actionChunk;
  const dims = input.dimensionNames;
  if (!Array.isArray(dims) || dims.length === 0 || dims.some((d) => typeof d !== 'string' || !d)) {
    throw new InputError(source, 'dimension_names', 'must be a non-empty array of names');
  }
  const { horizon, dt } = input;
  if (!Number.isInteger(horizon) || horizon < 1 || horizon > 0xffff_ffff) {
    throw new InputError(source, 'horizon', `must be a positive uint32, got ${String(horizon)}`);
  }
  if (typeof dt !== 'number' || !Number.isFinite(dt) || dt <= 0) {
    throw new InputError(source, 'dt', `must be a positive number of seconds, got ${String(dt)}`);
  }
  const expected = horizon * dims.length;
  if (input.values.length !== expected) {
    throw new InputError(
      source,
      'values',
      `has ${input.values.length} values, horizon ${horizon} × ${dims.length} dimensions needs ${expected}`,
    );
  }
  const values: number[] = new Array(expected);
  for (let i = 0; i < expected; i++) {
    const v = input.values[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new InputError(source, `values[${i}]`, `must be a finite number, got ${String(v)}`);
    }
    values[i] = v;
  }
  return {
    header: headerMsg(input.stampNs, input.frameId, source),
    spec_id: str(input.specId, source, 'spec_id'),
    dimension_names: [...dims],
    horizon,
    dt,
    values,
  };
}

export interface ControlInputInput {
  /** When the applying tick was due, ns. */
  stampNs: bigint;
  tick: number;
  index: number;
  kind: ControlInputKind;
  seq?: number;
  obsStampNs?: bigint;
  values?: ArrayLike<number>;
  reason?: string;
}

export function controlInputMsg(input: ControlInputInput): ControlInputMsg {
  const source = PONS_TYPES.controlInput;
  for (const field of ['tick', 'index'] as const) {
    if (!Number.isSafeInteger(input[field]) || input[field] < 0)
      throw new InputError(source, field, `must be a uint64, got ${String(input[field])}`);
  }
  if (!CONTROL_INPUT_KINDS.includes(input.kind))
    throw new InputError(source, 'kind', `must be one of ${CONTROL_INPUT_KINDS.join(', ')}`);
  return {
    header: headerMsg(input.stampNs, '', source),
    tick: BigInt(input.tick),
    index: BigInt(input.index),
    kind: input.kind,
    seq: BigInt(input.seq ?? 0),
    obs_stamp: rosTime(input.obsStampNs ?? 0n, source, 'obs_stamp'),
    values: Array.from(input.values ?? []),
    reason: input.reason ?? '',
  };
}

function str(value: unknown, source: string, field: string): string {
  if (typeof value !== 'string') {
    throw new InputError(source, field, `must be a string, got ${typeof value}`);
  }
  return value;
}

export interface EpisodeEventInput {
  event: keyof typeof EPISODE_EVENT;
  stampNs: bigint;
  episodeId: string;
  task: string;
  seed: number;
  instruction: string;
  /** END only. */
  success?: boolean;
  /** END only: seconds. */
  duration?: number;
}

export function episodeEventMsg(input: EpisodeEventInput): EpisodeEventMsg {
  const source = PONS_TYPES.episodeEvent;
  const { seed, duration = 0 } = input;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffff_ffff) {
    throw new InputError(source, 'seed', `must be a uint32, got ${String(seed)}`);
  }
  if (!Number.isFinite(duration) || duration < 0) {
    throw new InputError(source, 'duration', `must be a non-negative number, got ${duration}`);
  }
  return {
    header: headerMsg(input.stampNs, '', source),
    event: EPISODE_EVENT[input.event],
    episode_id: str(input.episodeId, source, 'episode_id'),
    task: str(input.task, source, 'task'),
    seed,
    instruction: str(input.instruction, source, 'instruction'),
    success: input.success ?? false,
    duration,
  };
}

import { sha256Hex } from '../contract/index.js';
import { describe, isPlainObject, show } from './describe.js';
import { WireError } from './errors.js';
import type { WireLimits } from './limits.js';
import { readNdarray } from './ndarray.js';
import {
  type CommandPacket,
  type EstopPacket,
  FRAME_ENCODINGS,
  type FrameEncoding,
  type FramePacket,
  type HelloPacket,
  type InstructionPacket,
  type JointsPacket,
  MODES,
  type Mode,
  PACKET_KINDS,
  type Packet,
  type PacketKind,
  PROTOCOL_VERSION,
  ROLES,
  type Role,
  type ScenePacket,
  type StatePacket,
  type TokensPacket,
} from './packets.js';

/**
 * Strict validation of a decoded packet map (n-d arrays still as maps). Checks run in a fixed
 * order: map → `v` → `kind` → exact key set → each field in declaration order, so the first
 * problem found is the one reported. The packet returned is a new object: stamps as bigint,
 * counters as number, n-d arrays as aligned typed arrays.
 */

/** The exact keys of each packet kind, in the order they are written. */
export const PACKET_KEYS = {
  hello: ['v', 'kind', 'role', 'spec', 'spec_id', 'model_id', 'software'],
  tokens: [
    'v',
    'kind',
    'spec_id',
    'model_id',
    'episode_id',
    'seq',
    'obs_stamp_ns',
    'emit_stamp_ns',
    'tokens',
    'timings_ms',
  ],
  state: [
    'v',
    'kind',
    'spec_id',
    'seq',
    'stamp_ns',
    'position',
    'velocity',
    'mode',
    'last_token_seq',
  ],
  estop: ['v', 'kind', 'engage', 'reason', 'stamp_ns'],
  frame: ['v', 'kind', 'camera', 'seq', 'stamp_ns', 'encoding', 'width', 'height', 'data'],
  joints: ['v', 'kind', 'seq', 'stamp_ns', 'name', 'position', 'velocity'],
  instruction: ['v', 'kind', 'seq', 'stamp_ns', 'text'],
  scene: ['v', 'kind', 'seq', 'stamp_ns', 'episode_id', 'name', 'pose'],
  command: ['v', 'kind', 'seq', 'stamp_ns', 'obs_stamp_ns', 'mode', 'position', 'velocity'],
} as const satisfies Record<PacketKind, readonly string[]>;

/** Longest model, episode and software id, in UTF-16 code units. */
export const MAX_ID_LENGTH = 128;
/** Most entries in `timings_ms`. */
export const MAX_TIMINGS = 32;
/** Timing names: a letter, then letters, digits and `_ . : / -`, 32 characters at most. */
export const TIMING_KEY = /^[A-Za-z][A-Za-z0-9_.:/-]{0,31}$/;
const SPEC_ID = /^[0-9a-f]{64}$/;
const STAMP_END = 1n << 63n;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

const KEY_SETS: Readonly<Record<PacketKind, ReadonlySet<string>>> = {
  hello: new Set(PACKET_KEYS.hello),
  tokens: new Set(PACKET_KEYS.tokens),
  state: new Set(PACKET_KEYS.state),
  estop: new Set(PACKET_KEYS.estop),
  frame: new Set(PACKET_KEYS.frame),
  joints: new Set(PACKET_KEYS.joints),
  instruction: new Set(PACKET_KEYS.instruction),
  scene: new Set(PACKET_KEYS.scene),
  command: new Set(PACKET_KEYS.command),
};

/** Bytes per pixel of each raw frame encoding; compressed ones are absent. */
export const FRAME_CHANNELS: Readonly<Partial<Record<FrameEncoding, number>>> = {
  rgb8: 3,
  bgr8: 3,
  rgba8: 4,
  bgra8: 4,
  mono8: 1,
};
/** The widest or tallest raw frame accepted: beyond it, a header is corrupt. */
export const MAX_FRAME_SIDE = 16384;
/** Longest instruction, in UTF-16 code units. */
export const MAX_INSTRUCTION_LENGTH = 2000;

type Fields = Record<string, unknown>;

/** Validates a decoded packet map; throws WireError naming `source` and the field. */
export function validatePacket(
  value: unknown,
  source: string,
  limits: Readonly<WireLimits>,
): Packet {
  if (!isPlainObject(value)) {
    throw new WireError('not_map', source, '', `is ${describe(value)}, must be a map`);
  }
  const kind = checkHeader(value, source);
  checkKeys(value, kind, source);
  switch (kind) {
    case 'tokens':
      return tokensPacket(value, source, limits);
    case 'state':
      return statePacket(value, source, limits);
    case 'hello':
      return helloPacket(value, source, limits);
    case 'estop':
      return estopPacket(value, source);
    case 'frame':
      return framePacket(value, source, limits);
    case 'joints':
      return jointsPacket(value, source, limits);
    case 'instruction':
      return instructionPacket(value, source);
    case 'scene':
      return scenePacket(value, source, limits);
    case 'command':
      return commandPacket(value, source, limits);
  }
}

/** Checks `v` and `kind`, returning the kind. */
export function checkHeader(value: Fields, source: string): PacketKind {
  if (!Object.hasOwn(value, 'v')) throw new WireError('missing_field', source, 'v', 'is missing');
  const v = value.v;
  if (v !== PROTOCOL_VERSION) {
    throw new WireError(
      'version',
      source,
      'v',
      `is ${show(v)}; this side speaks wire protocol v${PROTOCOL_VERSION}`,
    );
  }
  if (!Object.hasOwn(value, 'kind'))
    throw new WireError('missing_field', source, 'kind', 'is missing');
  const kind = value.kind;
  if (typeof kind !== 'string' || !(PACKET_KINDS as readonly string[]).includes(kind)) {
    throw new WireError(
      'kind',
      source,
      'kind',
      `is ${show(kind)}, must be one of ${PACKET_KINDS.join(', ')}`,
    );
  }
  return kind as PacketKind;
}

/** Checks that `value` has exactly the keys of `kind`: missing ones first, then extra ones. */
export function checkKeys(value: object, kind: PacketKind, source: string): void {
  const keys = PACKET_KEYS[kind];
  for (const key of keys) {
    if (!Object.hasOwn(value, key)) throw new WireError('missing_field', source, key, 'is missing');
  }
  let count = 0;
  for (const _ in value) count++;
  if (count === keys.length) return;
  const known = KEY_SETS[kind];
  for (const key in value) {
    if (!known.has(key)) {
      throw new WireError('extra_field', source, clip(key), `is not a field of a ${kind} packet`);
    }
  }
}

function tokensPacket(value: Fields, source: string, limits: Readonly<WireLimits>): TokensPacket {
  const spec_id = specIdField(value, source);
  const model_id = idField(value, 'model_id', source);
  const episode_id = idField(value, 'episode_id', source);
  const seq = counterField(value, 'seq', 0, source);
  const obs_stamp_ns = stampField(value, 'obs_stamp_ns', source);
  const emit_stamp_ns = stampField(value, 'emit_stamp_ns', source);
  const tokens = readNdarray(value.tokens, '<u4', source, 'tokens', 1, limits.maxTokens);
  if (tokens.length === 0) {
    throw new WireError(
      'shape',
      source,
      'tokens.shape',
      'is [0]; a tokens packet carries at least one token',
    );
  }
  const timings_ms = timingsField(value, 'timings_ms', source);
  return {
    v: PROTOCOL_VERSION,
    kind: 'tokens',
    spec_id,
    model_id,
    episode_id,
    seq,
    obs_stamp_ns,
    emit_stamp_ns,
    tokens,
    timings_ms,
  };
}

function statePacket(value: Fields, source: string, limits: Readonly<WireLimits>): StatePacket {
  const spec_id = specIdField(value, source);
  const seq = counterField(value, 'seq', 0, source);
  const stamp_ns = stampField(value, 'stamp_ns', source);
  const [position, velocity] = jointArrays(value, source, limits);
  const mode = enumField(value, 'mode', MODES, source) as Mode;
  const last_token_seq = counterField(value, 'last_token_seq', -1, source);
  return {
    v: PROTOCOL_VERSION,
    kind: 'state',
    spec_id,
    seq,
    stamp_ns,
    position,
    velocity,
    mode,
    last_token_seq,
  };
}

function helloPacket(value: Fields, source: string, limits: Readonly<WireLimits>): HelloPacket {
  const role = enumField(value, 'role', ROLES, source) as Role;
  const spec = value.spec;
  if (typeof spec !== 'string') {
    throw new WireError('type', source, 'spec', `is ${describe(spec)}, must be a str`);
  }
  if (spec.length === 0) throw new WireError('range', source, 'spec', 'is empty');
  const specBytes = Buffer.byteLength(spec, 'utf8');
  if (specBytes > limits.maxSpecBytes) {
    throw new WireError(
      'oversize',
      source,
      'spec',
      `is ${specBytes} bytes, the limit is ${limits.maxSpecBytes}`,
    );
  }
  const spec_id = specIdField(value, source);
  const model_id = idField(value, 'model_id', source);
  const software = idField(value, 'software', source);
  const actual = sha256Hex(spec);
  if (actual !== spec_id) {
    throw new WireError(
      'spec_id',
      source,
      'spec_id',
      `is ${spec_id}, but the spec hashes to ${actual}`,
    );
  }
  return { v: PROTOCOL_VERSION, kind: 'hello', role, spec, spec_id, model_id, software };
}

function estopPacket(value: Fields, source: string): EstopPacket {
  const engage = value.engage;
  if (typeof engage !== 'boolean') {
    throw new WireError('type', source, 'engage', `is ${describe(engage)}, must be a bool`);
  }
  const reason = idField(value, 'reason', source);
  const stamp_ns = stampField(value, 'stamp_ns', source);
  return { v: PROTOCOL_VERSION, kind: 'estop', engage, reason, stamp_ns };
}

function framePacket(value: Fields, source: string, limits: Readonly<WireLimits>): FramePacket {
  const camera = idField(value, 'camera', source);
  const seq = counterField(value, 'seq', 0, source);
  const stamp_ns = stampField(value, 'stamp_ns', source);
  const encoding = enumField(value, 'encoding', FRAME_ENCODINGS, source) as FrameEncoding;
  const channels = FRAME_CHANNELS[encoding];
  const width = counterField(value, 'width', 0, source);
  const height = counterField(value, 'height', 0, source);
  for (const [key, n] of [
    ['width', width],
    ['height', height],
  ] as const) {
    const fits = channels === undefined ? n === 0 : n >= 1 && n <= MAX_FRAME_SIDE;
    if (!fits) {
      const must = channels === undefined ? `0 for ${encoding}` : `in [1, ${MAX_FRAME_SIDE}]`;
      throw new WireError('range', source, key, `is ${n}, must be ${must}`);
    }
  }
  const data = readNdarray(value.data, '|u1', source, 'data', 1, limits.maxBytes);
  if (data.length === 0) throw new WireError('shape', source, 'data.shape', 'is [0]');
  if (channels !== undefined && data.length !== width * height * channels) {
    throw new WireError(
      'shape',
      source,
      'data.shape',
      `is [${data.length}], a ${width}×${height} ${encoding} frame has ${width * height * channels} bytes`,
    );
  }
  return {
    v: PROTOCOL_VERSION,
    kind: 'frame',
    camera,
    seq,
    stamp_ns,
    encoding,
    width,
    height,
    data,
  };
}

function jointsPacket(value: Fields, source: string, limits: Readonly<WireLimits>): JointsPacket {
  const seq = counterField(value, 'seq', 0, source);
  const stamp_ns = stampField(value, 'stamp_ns', source);
  const name = namesField(value, source, limits.maxJoints);
  const position = readNdarray(value.position, '<f8', source, 'position', 1, limits.maxJoints);
  const velocity = readNdarray(value.velocity, '<f8', source, 'velocity', 1, limits.maxJoints);
  if (position.length !== name.length) {
    throw new WireError(
      'shape',
      source,
      'position.shape',
      `is [${position.length}], name has ${name.length} joints`,
    );
  }
  if (velocity.length !== 0 && velocity.length !== name.length) {
    throw new WireError(
      'shape',
      source,
      'velocity.shape',
      `is [${velocity.length}], must be [0] or [${name.length}]`,
    );
  }
  finiteArray(position, 'position', source);
  finiteArray(velocity, 'velocity', source);
  return { v: PROTOCOL_VERSION, kind: 'joints', seq, stamp_ns, name, position, velocity };
}

/** `name`: distinct ids, at most `max` of them. */
function namesField(value: Fields, source: string, max: number): string[] {
  const names = value.name;
  if (!Array.isArray(names)) {
    throw new WireError('type', source, 'name', `is ${describe(names)}, must be an array of str`);
  }
  if (names.length > max) {
    throw new WireError(
      'oversize',
      source,
      'name',
      `has ${names.length} entries, the limit is ${max}`,
    );
  }
  const name = names.map((_, i) =>
    idField(names as unknown as Fields, String(i), source, `name[${i}]`),
  );
  if (new Set(name).size !== name.length) {
    throw new WireError('range', source, 'name', 'names an entry twice');
  }
  return name;
}

function scenePacket(value: Fields, source: string, limits: Readonly<WireLimits>): ScenePacket {
  const seq = counterField(value, 'seq', 0, source);
  const stamp_ns = stampField(value, 'stamp_ns', source);
  const episode_id = idField(value, 'episode_id', source);
  const name = namesField(value, source, limits.maxJoints);
  const pose = readNdarray(value.pose, '<f8', source, 'pose', 1, 3 * limits.maxJoints);
  if (pose.length !== 3 * name.length) {
    throw new WireError(
      'shape',
      source,
      'pose.shape',
      `is [${pose.length}], ${name.length} objects need ${3 * name.length}`,
    );
  }
  finiteArray(pose, 'pose', source);
  return { v: PROTOCOL_VERSION, kind: 'scene', seq, stamp_ns, episode_id, name, pose };
}

function commandPacket(value: Fields, source: string, limits: Readonly<WireLimits>): CommandPacket {
  const seq = counterField(value, 'seq', 0, source);
  const stamp_ns = stampField(value, 'stamp_ns', source);
  const obs_stamp_ns = stampField(value, 'obs_stamp_ns', source);
  const mode = enumField(value, 'mode', MODES, source) as Mode;
  const [position, velocity] = jointArrays(value, source, limits);
  return {
    v: PROTOCOL_VERSION,
    kind: 'command',
    seq,
    stamp_ns,
    obs_stamp_ns,
    mode,
    position,
    velocity,
  };
}

function instructionPacket(value: Fields, source: string): InstructionPacket {
  const seq = counterField(value, 'seq', 0, source);
  const stamp_ns = stampField(value, 'stamp_ns', source);
  const text = value.text;
  if (typeof text !== 'string') {
    throw new WireError('type', source, 'text', `is ${describe(text)}, must be a str`);
  }
  if (text.trim() === '') throw new WireError('range', source, 'text', 'is empty');
  if (text.length > MAX_INSTRUCTION_LENGTH) {
    throw new WireError(
      'range',
      source,
      'text',
      `is ${text.length} characters long, at most ${MAX_INSTRUCTION_LENGTH}`,
    );
  }
  noControlCharacters(text, source, 'text', true);
  return { v: PROTOCOL_VERSION, kind: 'instruction', seq, stamp_ns, text };
}

function specIdField(value: Fields, source: string): string {
  const id = value.spec_id;
  if (typeof id !== 'string') {
    throw new WireError('type', source, 'spec_id', `is ${describe(id)}, must be a str`);
  }
  if (!SPEC_ID.test(id)) {
    throw new WireError(
      'spec_id',
      source,
      'spec_id',
      `is ${show(id)}, must be 64 lowercase hex digits`,
    );
  }
  return id;
}

/** A non-empty id of at most MAX_ID_LENGTH characters, none of them a control character. */
function idField(value: Fields, key: string, source: string, field = key): string {
  const id = value[key];
  if (typeof id !== 'string') {
    throw new WireError('type', source, field, `is ${describe(id)}, must be a str`);
  }
  if (id.length === 0) throw new WireError('range', source, field, 'is empty');
  if (id.length > MAX_ID_LENGTH) {
    throw new WireError(
      'range',
      source,
      field,
      `is ${id.length} characters long, at most ${MAX_ID_LENGTH}`,
    );
  }
  noControlCharacters(id, source, field, false);
  return id;
}

/** Refuses C0 and C1 control characters (tab and newline too, unless `whitespace`). */
function noControlCharacters(text: string, source: string, field: string, whitespace: boolean) {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (whitespace && (c === 0x09 || c === 0x0a)) continue;
    if (c < 0x20 || (c >= 0x7f && c < 0xa0)) {
      throw new WireError(
        'range',
        source,
        field,
        `holds a control character (U+${hex4(c)}) at ${i}`,
      );
    }
  }
}

/** An integer counter in [min, 2^53): MessagePack int of any width. */
function counterField(value: Fields, key: string, min: number, source: string): number {
  const n = value[key];
  if (typeof n === 'number') {
    if (!Number.isFinite(n)) throw new WireError('non_finite', source, key, `is ${n}`);
    if (!Number.isInteger(n))
      throw new WireError('type', source, key, `is ${n}, must be an integer`);
    if (n < min || n > Number.MAX_SAFE_INTEGER) {
      throw new WireError('range', source, key, `is ${n}, must be in [${min}, 2^53)`);
    }
    return n;
  }
  if (typeof n === 'bigint') {
    if (n < BigInt(min) || n > MAX_SAFE) {
      throw new WireError('range', source, key, `is ${n}, must be in [${min}, 2^53)`);
    }
    return Number(n);
  }
  throw new WireError('type', source, key, `is ${describe(n)}, must be an integer`);
}

/**
 * A stamp in integer nanoseconds, [0, 2^63): an int64 (bigint) or a small int. A float is
 * refused once it is past 2^53, where it can no longer hold every nanosecond.
 */
function stampField(value: Fields, key: string, source: string): bigint {
  const n = value[key];
  if (typeof n === 'bigint') {
    if (n < 0n || n >= STAMP_END) {
      throw new WireError('range', source, key, `is ${n}, must be in [0, 2^63) ns`);
    }
    return n;
  }
  if (typeof n === 'number') {
    if (!Number.isFinite(n)) throw new WireError('non_finite', source, key, `is ${n}`);
    if (!Number.isInteger(n))
      throw new WireError('type', source, key, `is ${n}, must be integer nanoseconds`);
    if (n < 0) throw new WireError('range', source, key, `is ${n}, must be in [0, 2^63) ns`);
    if (n > Number.MAX_SAFE_INTEGER) {
      throw new WireError('type', source, key, `is a float (${n}); stamps past 2^53 must be int64`);
    }
    return BigInt(n);
  }
  throw new WireError('type', source, key, `is ${describe(n)}, must be an integer (int64 ns)`);
}

function enumField(value: Fields, key: string, allowed: readonly string[], source: string): string {
  const s = value[key];
  if (typeof s !== 'string') {
    throw new WireError('type', source, key, `is ${describe(s)}, must be a str`);
  }
  if (!allowed.includes(s)) {
    throw new WireError(
      'range',
      source,
      key,
      `is ${show(s)}, must be one of ${allowed.join(', ')}`,
    );
  }
  return s;
}

/** At most MAX_TIMINGS finite, non-negative numbers under short names. */
function timingsField(value: Fields, key: string, source: string): Record<string, number> {
  const map = value[key];
  if (!isPlainObject(map)) {
    throw new WireError('type', source, key, `is ${describe(map)}, must be a map`);
  }
  let count = 0;
  for (const name in map) {
    if (++count > MAX_TIMINGS) {
      throw new WireError('range', source, key, `has more than ${MAX_TIMINGS} entries`);
    }
    if (!TIMING_KEY.test(name)) {
      throw new WireError(
        'range',
        source,
        key,
        `has the name ${show(name)}; names are a letter, then letters, digits or _ . : / -, 32 at most`,
      );
    }
    const ms = map[name];
    const field = `${key}.${name}`;
    if (typeof ms !== 'number') {
      throw new WireError('type', source, field, `is ${describe(ms)}, must be a number`);
    }
    if (!Number.isFinite(ms)) throw new WireError('non_finite', source, field, `is ${ms}`);
    if (ms < 0) throw new WireError('range', source, field, `is ${ms}, must be non-negative`);
  }
  return map as Record<string, number>;
}

/** `position` and `velocity`: `<f8` arrays of one length, at most maxJoints, all finite. */
function jointArrays(
  value: Fields,
  source: string,
  limits: Readonly<WireLimits>,
): [Float64Array, Float64Array] {
  const position = readNdarray(value.position, '<f8', source, 'position', 1, limits.maxJoints);
  const velocity = readNdarray(value.velocity, '<f8', source, 'velocity', 1, limits.maxJoints);
  if (velocity.length !== position.length) {
    throw new WireError(
      'shape',
      source,
      'velocity.shape',
      `is [${velocity.length}], position has ${position.length} joints`,
    );
  }
  finiteArray(position, 'position', source);
  finiteArray(velocity, 'velocity', source);
  return [position, velocity];
}

function finiteArray(values: Float64Array, field: string, source: string): void {
  for (let i = 0; i < values.length; i++) {
    const x = values[i] as number;
    // x - x is 0 for finite x and NaN for NaN and ±Infinity.
    if (x - x !== 0) throw new WireError('non_finite', source, `${field}[${i}]`, `is ${x}`);
  }
}

function clip(key: string): string {
  return key.length > 64 ? `${key.slice(0, 64)}…` : key;
}

function hex4(c: number): string {
  return c.toString(16).toUpperCase().padStart(4, '0');
}

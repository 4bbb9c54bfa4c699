import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  decodePacket,
  encodePacket,
  type FramePacket,
  type HelloPacket,
  type Packet,
  type StatePacket,
  type TokensPacket,
  WIRE_ERROR_CODES,
  WireError,
} from '../../src/wire/index.js';
import { nd, plainPack } from './samples.js';

/**
 * Random packets, random changes to their maps, and byte-level damage to their encodings.
 * Whatever the input, decodePacket either throws a WireError or returns a packet that passes
 * `assertValidPacket` below — an independent statement of the v1 rules, not the validator.
 */

// ---------------------------------------------------------------- independent invariant check

const KEYS = {
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
};
const RAW_CHANNELS: Record<string, number> = { rgb8: 3, bgr8: 3, rgba8: 4, bgra8: 4, mono8: 1 };
const INT64_END = 2n ** 63n;

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`accepted an invalid packet: ${what}`);
}

function isId(s: unknown): boolean {
  if (typeof s !== 'string' || s.length < 1 || s.length > 128) return false;
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    if (c < 32 || (c >= 127 && c < 160)) return false;
  }
  return true;
}

function isSpecId(s: unknown): boolean {
  return (
    typeof s === 'string' && s.length === 64 && [...s].every((c) => '0123456789abcdef'.includes(c))
  );
}

function isStamp(x: unknown): boolean {
  return typeof x === 'bigint' && x >= 0n && x < INT64_END;
}

function isCounter(x: unknown, min: number): boolean {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= min;
}

function assertValidPacket(p: unknown): asserts p is Packet {
  check(
    typeof p === 'object' && p !== null && Object.getPrototypeOf(p) === Object.prototype,
    'not an object',
  );
  const o = p as Record<string, unknown>;
  check(o.v === 1, 'v');
  const keys = (KEYS as Record<string, string[]>)[o.kind as string];
  check(keys !== undefined, 'kind');
  check(
    JSON.stringify(Object.keys(o).sort()) === JSON.stringify([...(keys as string[])].sort()),
    'keys',
  );
  if (o.kind === 'estop') {
    check(typeof o.engage === 'boolean', 'engage');
    check(isId(o.reason), 'reason');
    check(isStamp(o.stamp_ns), 'stamp');
    return;
  }
  if (['frame', 'joints', 'instruction', 'scene', 'command'].includes(o.kind as string)) {
    check(isCounter(o.seq, 0), 'seq');
    check(isStamp(o.stamp_ns), 'stamp');
    assertValidObservation(o);
    return;
  }
  check(isSpecId(o.spec_id), 'spec_id');
  if (o.kind === 'hello') {
    check(o.role === 'brain' || o.role === 'cerebellum', 'role');
    check(typeof o.spec === 'string' && o.spec.length > 0, 'spec');
    check(Buffer.byteLength(o.spec as string) <= 256 * 1024, 'spec size');
    check(
      createHash('sha256')
        .update(o.spec as string)
        .digest('hex') === o.spec_id,
      'spec hash',
    );
    check(isId(o.model_id) && isId(o.software), 'ids');
  } else if (o.kind === 'tokens') {
    check(isId(o.model_id) && isId(o.episode_id), 'ids');
    check(isCounter(o.seq, 0), 'seq');
    check(isStamp(o.obs_stamp_ns) && isStamp(o.emit_stamp_ns), 'stamps');
    const t = o.tokens;
    check(t instanceof Uint32Array, 'tokens type');
    const tokens = t as Uint32Array;
    check(tokens.length >= 1 && tokens.length <= 65_536, 'tokens length');
    check(tokens.byteOffset % 4 === 0, 'tokens aligned');
    const timings = o.timings_ms;
    check(
      typeof timings === 'object' && timings !== null && !Array.isArray(timings),
      'timings map',
    );
    const entries = Object.entries(timings as object);
    check(entries.length <= 32, 'timings count');
    for (const [k, v] of entries) {
      check(/^[A-Za-z][A-Za-z0-9_.:/-]{0,31}$/.test(k), `timing key ${k}`);
      check(typeof v === 'number' && Number.isFinite(v) && v >= 0, `timing ${k}`);
    }
  } else {
    check(isCounter(o.seq, 0), 'seq');
    check(isStamp(o.stamp_ns), 'stamp');
    const pos = o.position;
    const vel = o.velocity;
    check(pos instanceof Float64Array && vel instanceof Float64Array, 'joint arrays');
    const a = pos as Float64Array;
    const b = vel as Float64Array;
    check(a.length === b.length && a.length <= 256, 'joint counts');
    check(a.byteOffset % 8 === 0 && b.byteOffset % 8 === 0, 'joints aligned');
    check(a.every(Number.isFinite) && b.every(Number.isFinite), 'joints finite');
    check(['run', 'hold', 'estop'].includes(o.mode as string), 'mode');
    check(isCounter(o.last_token_seq, -1), 'last_token_seq');
  }
}

function assertValidObservation(o: Record<string, unknown>): void {
  if (o.kind === 'instruction') {
    const text = o.text as string;
    check(typeof text === 'string' && text.trim().length > 0 && text.length <= 2000, 'text');
    check(![...text].some((c) => isId(c) === false && c !== '\t' && c !== '\n'), 'text chars');
  } else if (o.kind === 'scene') {
    const names = o.name as unknown[];
    check(isId(o.episode_id), 'episode_id');
    check(
      Array.isArray(names) && names.every(isId) && new Set(names).size === names.length,
      'names',
    );
    const pose = o.pose as Float64Array;
    check(pose instanceof Float64Array && pose.length === 3 * names.length, 'pose');
    check(pose.every(Number.isFinite), 'pose finite');
  } else if (o.kind === 'command') {
    check(isStamp(o.obs_stamp_ns), 'obs stamp');
    check(['run', 'hold', 'estop'].includes(o.mode as string), 'mode');
    const pos = o.position as Float64Array;
    const vel = o.velocity as Float64Array;
    check(pos instanceof Float64Array && vel instanceof Float64Array, 'arrays');
    check(pos.length === vel.length && pos.length <= 256, 'lengths');
    check(pos.every(Number.isFinite) && vel.every(Number.isFinite), 'finite');
  } else if (o.kind === 'joints') {
    const names = o.name as unknown[];
    check(
      Array.isArray(names) && names.every(isId) && new Set(names).size === names.length,
      'names',
    );
    const pos = o.position as Float64Array;
    const vel = o.velocity as Float64Array;
    check(pos instanceof Float64Array && vel instanceof Float64Array, 'joint arrays');
    check(pos.length === names.length && (vel.length === 0 || vel.length === pos.length), 'counts');
    check(pos.every(Number.isFinite) && vel.every(Number.isFinite), 'joints finite');
  } else {
    check(isId(o.camera), 'camera');
    const data = o.data as Uint8Array;
    check(data instanceof Uint8Array && data.length > 0, 'data');
    const channels = RAW_CHANNELS[o.encoding as string];
    if (channels === undefined) {
      check(['jpeg', 'png'].includes(o.encoding as string), 'encoding');
      check(o.width === 0 && o.height === 0, 'compressed size');
    } else {
      const [w, h] = [o.width as number, o.height as number];
      check(
        [w, h].every((n) => Number.isInteger(n) && n >= 1 && n <= 16384),
        'size',
      );
      check(data.length === w * h * channels, 'raw length');
    }
  }
}

// ---------------------------------------------------------------- the harness

const CODES = new Set<string>(WIRE_ERROR_CODES);
const tally = { decoded: 0, accepted: 0, refused: new Map<string, number>() };

/** Decodes, and checks whichever way it goes. */
function probe(bytes: Uint8Array): Packet | undefined {
  tally.decoded++;
  let packet: Packet;
  try {
    packet = decodePacket(bytes, 'fuzz');
  } catch (err) {
    if (!(err instanceof WireError)) throw new Error(`decodePacket threw ${String(err)}`);
    if (!CODES.has(err.code) || err.source !== 'fuzz' || !err.message.startsWith('fuzz: ')) {
      throw new Error(`malformed WireError ${err.code}: ${err.message}`);
    }
    tally.refused.set(err.code, (tally.refused.get(err.code) ?? 0) + 1);
    return undefined;
  }
  tally.accepted++;
  assertValidPacket(packet);
  // What was accepted can be sent on and reads back the same.
  expect(decodePacket(encodePacket(packet), 'fuzz-again')).toEqual(packet);
  return packet;
}

afterAll(() => {
  if (process.env.WIRE_FUZZ_TALLY) console.log(tally);
  // The brief: at least 10,000 inputs in all.
  expect(tally.decoded).toBeGreaterThanOrEqual(10_000);
  expect(tally.accepted).toBeGreaterThan(100);
  expect(tally.refused.size).toBeGreaterThanOrEqual(10);
});

// ---------------------------------------------------------------- arbitraries

const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);
const id = fc
  .oneof(
    fc.string({ minLength: 1, maxLength: 128 }),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
  )
  .filter(isId);
const stamp = fc.oneof(
  fc.bigInt({ min: 0n, max: INT64_END - 1n }),
  fc.bigInt({ min: 1_700_000_000_000_000_000n, max: 1_900_000_000_000_000_000n }),
);
const seq = fc.oneof(fc.nat(1000), fc.maxSafeNat());
const timingKey = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_.:/-]{0,31}$/);
const timings = fc.dictionary(
  timingKey,
  fc.oneof(
    fc.double({ min: 0, max: 1e6, noNaN: true }).map((x) => x + 0),
    fc.nat(100_000),
  ),
  { maxKeys: 32 },
);
const finite = fc.double({ noNaN: true, noDefaultInfinity: true });

const tokensArb: fc.Arbitrary<TokensPacket> = fc.record({
  v: fc.constant(1 as const),
  kind: fc.constant('tokens' as const),
  spec_id: hex64,
  model_id: id,
  episode_id: id,
  seq,
  obs_stamp_ns: stamp,
  emit_stamp_ns: stamp,
  tokens: fc.uint32Array({ minLength: 1, maxLength: 400 }),
  timings_ms: timings,
});

const stateArb: fc.Arbitrary<StatePacket> = fc.integer({ min: 0, max: 32 }).chain((n) =>
  fc.record({
    v: fc.constant(1 as const),
    kind: fc.constant('state' as const),
    spec_id: hex64,
    seq,
    stamp_ns: stamp,
    position: fc.array(finite, { minLength: n, maxLength: n }).map((a) => Float64Array.from(a)),
    velocity: fc.array(finite, { minLength: n, maxLength: n }).map((a) => Float64Array.from(a)),
    mode: fc.constantFrom('run' as const, 'hold' as const, 'estop' as const),
    last_token_seq: fc.oneof(fc.constant(-1), seq),
  }),
);

const helloArb: fc.Arbitrary<HelloPacket> = fc
  .record({
    role: fc.constantFrom('brain' as const, 'cerebellum' as const),
    spec: fc
      .oneof(fc.json(), fc.string({ unit: 'binary', minLength: 1, maxLength: 300 }))
      .filter((s) => s.length > 0),
    model_id: id,
    software: id,
  })
  .map((h) => ({
    v: 1 as const,
    kind: 'hello' as const,
    role: h.role,
    spec: h.spec,
    spec_id: createHash('sha256').update(h.spec).digest('hex'),
    model_id: h.model_id,
    software: h.software,
  }));

const estopArb: fc.Arbitrary<Packet> = fc
  .record({
    engage: fc.boolean(),
    reason: id,
    stamp_ns: fc.bigInt({ min: 0n, max: INT64_END - 1n }),
  })
  .map((e) => ({ v: 1 as const, kind: 'estop' as const, ...e }));

const frameArb: fc.Arbitrary<Packet> = fc
  .record({
    camera: id,
    seq,
    stamp_ns: stamp,
    encoding: fc.constantFrom('rgb8', 'bgr8', 'rgba8', 'bgra8', 'mono8', 'jpeg', 'png'),
    width: fc.integer({ min: 1, max: 12 }),
    height: fc.integer({ min: 1, max: 12 }),
    fill: fc.nat(255),
  })
  .map(({ fill, ...f }) => {
    const channels = RAW_CHANNELS[f.encoding];
    const size = channels === undefined ? [0, 0] : [f.width, f.height];
    const length = channels === undefined ? f.width * f.height : f.width * f.height * channels;
    return {
      v: 1 as const,
      kind: 'frame' as const,
      ...f,
      encoding: f.encoding as FramePacket['encoding'],
      width: size[0] as number,
      height: size[1] as number,
      data: new Uint8Array(length).fill(fill),
    };
  });

const jointsArb: fc.Arbitrary<Packet> = fc.uniqueArray(id, { maxLength: 8 }).chain((name) =>
  fc.record({
    v: fc.constant(1 as const),
    kind: fc.constant('joints' as const),
    seq,
    stamp_ns: stamp,
    name: fc.constant(name),
    position: fc
      .array(finite, { minLength: name.length, maxLength: name.length })
      .map((a) => Float64Array.from(a)),
    velocity: fc
      .oneof(fc.constant([]), fc.array(finite, { minLength: name.length, maxLength: name.length }))
      .map((a) => Float64Array.from(a)),
  }),
);

const instructionArb: fc.Arbitrary<Packet> = fc.record({
  v: fc.constant(1 as const),
  kind: fc.constant('instruction' as const),
  seq,
  stamp_ns: stamp,
  text: fc.stringMatching(/^[a-z][a-z <>\n]{0,60}$/),
});

const sceneArb: fc.Arbitrary<Packet> = fc.uniqueArray(id, { maxLength: 6 }).chain((name) =>
  fc.record({
    v: fc.constant(1 as const),
    kind: fc.constant('scene' as const),
    seq,
    stamp_ns: stamp,
    episode_id: id,
    name: fc.constant(name),
    pose: fc
      .array(finite, { minLength: 3 * name.length, maxLength: 3 * name.length })
      .map((a) => Float64Array.from(a)),
  }),
);

const commandArb: fc.Arbitrary<Packet> = fc.integer({ min: 0, max: 8 }).chain((n) =>
  fc.record({
    v: fc.constant(1 as const),
    kind: fc.constant('command' as const),
    seq,
    stamp_ns: stamp,
    obs_stamp_ns: stamp,
    mode: fc.constantFrom('run' as const, 'hold' as const, 'estop' as const),
    position: fc.array(finite, { minLength: n, maxLength: n }).map((a) => Float64Array.from(a)),
    velocity: fc.array(finite, { minLength: n, maxLength: n }).map((a) => Float64Array.from(a)),
  }),
);

const packetArb: fc.Arbitrary<Packet> = fc.oneof(
  tokensArb,
  stateArb,
  helloArb,
  estopArb,
  frameArb,
  jointsArb,
  instructionArb,
  sceneArb,
  commandArb,
);

/** The packet's map with n-d arrays as maps, built without the codec. */
function wireOf(p: Packet): Record<string, unknown> {
  switch (p.kind) {
    case 'tokens':
      return { ...p, tokens: nd(p.tokens, '<u4', Uint32Array), timings_ms: { ...p.timings_ms } };
    case 'state':
      return {
        ...p,
        position: nd(p.position, '<f8', Float64Array),
        velocity: nd(p.velocity, '<f8', Float64Array),
      };
    case 'joints':
      return {
        ...p,
        name: [...p.name],
        position: nd(p.position, '<f8', Float64Array),
        velocity: nd(p.velocity, '<f8', Float64Array),
      };
    case 'frame':
      return { ...p, data: nd(p.data, '|u1', Uint8Array) };
    case 'scene':
      return { ...p, name: [...p.name], pose: nd(p.pose, '<f8', Float64Array) };
    case 'command':
      return {
        ...p,
        position: nd(p.position, '<f8', Float64Array),
        velocity: nd(p.velocity, '<f8', Float64Array),
      };
    case 'hello':
    case 'estop':
    case 'instruction':
      return { ...p };
  }
}

const nastyNumber = fc.constantFrom(
  Number.NaN,
  Infinity,
  -Infinity,
  -1,
  -0,
  0.5,
  2 ** 32,
  2 ** 53,
  2 ** 64,
  -(2 ** 63),
  1e308,
  -1n,
  2n ** 63n,
  2n ** 64n - 1n,
  -(2n ** 63n),
);
const dtypeArb = fc.constantFrom(
  '<u4',
  '<f8',
  '>f8',
  '>u4',
  '<f4',
  '|u1',
  '<i8',
  '',
  'float64',
  '<u4 ',
);
const ndarrayArb = fc.record(
  {
    __ndarray__: fc.oneof(fc.constant(true), fc.anything()),
    data: fc.oneof(
      fc.uint8Array({ maxLength: 80 }).map((a) => Buffer.from(a)),
      fc.anything(),
    ),
    dtype: fc.oneof(dtypeArb, fc.anything()),
    shape: fc.oneof(fc.array(fc.oneof(fc.nat(30), nastyNumber), { maxLength: 4 }), fc.anything()),
    extra: fc.anything(),
  },
  { requiredKeys: [] },
);
const valueArb: fc.Arbitrary<unknown> = fc.oneof(
  nastyNumber,
  fc.anything({ withBigInt: true, withTypedArray: false, maxDepth: 3 }),
  ndarrayArb,
  hex64,
  id,
  fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }),
  fc.constantFrom('a\u0085b', '\u007f', 'x\u0000', 'ok\u009f', '', ' '.repeat(129)),
  fc.constantFrom('tokens', 'state', 'hello', 'run', 'brain', 'estop', 1, true, null),
  fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
  timings,
);
const fieldArb = fc.constantFrom(
  ...new Set([...KEYS.tokens, ...KEYS.state, ...KEYS.hello, 'extra', '']),
);

type Edit =
  | { op: 'set'; key: string; value: unknown }
  | { op: 'delete'; key: string }
  | { op: 'nd'; key: string; sub: string; value: unknown }
  | { op: 'timing'; key: string; value: unknown };
const editArb: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ op: fc.constant('set' as const), key: fieldArb, value: valueArb }),
  fc.record({ op: fc.constant('delete' as const), key: fieldArb }),
  fc.record({
    op: fc.constant('nd' as const),
    key: fc.constantFrom('tokens', 'position', 'velocity'),
    sub: fc.constantFrom('__ndarray__', 'data', 'dtype', 'shape', 'order'),
    value: fc.oneof(valueArb, dtypeArb, fc.array(fc.nat(70), { maxLength: 3 })),
  }),
  fc.record({
    op: fc.constant('timing' as const),
    key: fc.oneof(timingKey, fc.string({ maxLength: 40 })),
    value: fc.oneof(nastyNumber, fc.double(), fc.anything()),
  }),
);

function applyEdit(wire: Record<string, unknown>, edit: Edit): void {
  switch (edit.op) {
    case 'set':
      wire[edit.key] = edit.value;
      break;
    case 'delete':
      delete wire[edit.key];
      break;
    case 'nd': {
      const m = wire[edit.key];
      if (typeof m === 'object' && m !== null)
        (m as Record<string, unknown>)[edit.sub] = edit.value;
      break;
    }
    case 'timing': {
      const t = wire.timings_ms;
      if (typeof t === 'object' && t !== null)
        (t as Record<string, unknown>)[edit.key] = edit.value;
      break;
    }
  }
}

/** Packs with a plain msgpackr, or undefined for a value it cannot pack (a symbol, say). */
function tryPack(value: unknown): Uint8Array | undefined {
  try {
    return plainPack(value);
  } catch {
    return undefined;
  }
}

// Header bytes whose length fields invite trouble: str/bin/array/map of every width.
const HEADERS = [0xc4, 0xc5, 0xc6, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0x8f, 0x9f, 0xbf];
const TYPE_BYTES = [
  0xc0,
  0xc1,
  0xc2,
  0xc3,
  0xc7,
  0xca,
  0xcb,
  0xcc,
  0xcf,
  0xd0,
  0xd3,
  0xd4,
  0xd6,
  0xd8,
  0xa0,
  0x80,
  0x90,
  0x00,
  0x7f,
  0xe0,
  0xff,
  ...HEADERS,
];

type Damage =
  | { op: 'flip'; at: number[]; bits: number[] }
  | { op: 'truncate'; at: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'delete'; at: number; n: number }
  | { op: 'type'; at: number; byte: number }
  | { op: 'length'; at: number; header: number; fill: number[] }
  | { op: 'splice'; at: number; otherAt: number }
  | { op: 'repeat'; at: number; n: number };

const damageArb: fc.Arbitrary<Damage> = fc.oneof(
  fc.record({
    op: fc.constant('flip' as const),
    at: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
    bits: fc.array(fc.nat(7), { minLength: 4, maxLength: 4 }),
  }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    op: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 12 }),
  }),
  fc.record({
    op: fc.constant('delete' as const),
    at: fc.nat(),
    n: fc.integer({ min: 1, max: 16 }),
  }),
  fc.record({
    op: fc.constant('type' as const),
    at: fc.nat(),
    byte: fc.constantFrom(...TYPE_BYTES),
  }),
  fc.record({
    op: fc.constant('length' as const),
    at: fc.nat(),
    header: fc.constantFrom(...HEADERS),
    fill: fc.array(fc.oneof(fc.constant(0xff), fc.constant(0x7f), fc.nat(255)), {
      minLength: 4,
      maxLength: 4,
    }),
  }),
  fc.record({ op: fc.constant('splice' as const), at: fc.nat(), otherAt: fc.nat() }),
  fc.record({
    op: fc.constant('repeat' as const),
    at: fc.nat(),
    n: fc.integer({ min: 1, max: 24 }),
  }),
);

function damage(bytes: Uint8Array, d: Damage, other: Uint8Array): Uint8Array {
  const out: Uint8Array = Uint8Array.from(bytes);
  const n = out.length;
  const at = (i: number) => i % Math.max(n, 1);
  switch (d.op) {
    case 'flip':
      d.at.forEach((i, k) => {
        out[at(i)] = (out[at(i)] as number) ^ (1 << (d.bits[k] as number));
      });
      return out;
    case 'truncate':
      return out.subarray(0, at(d.at));
    case 'insert':
      return Uint8Array.from([...out.subarray(0, at(d.at)), ...d.bytes, ...out.subarray(at(d.at))]);
    case 'delete':
      return Uint8Array.from([...out.subarray(0, at(d.at)), ...out.subarray(at(d.at) + d.n)]);
    case 'type':
      out[at(d.at)] = d.byte;
      return out;
    case 'length': {
      const i = at(d.at);
      out[i] = d.header;
      d.fill.forEach((b, k) => {
        if (i + 1 + k < n) out[i + 1 + k] = b;
      });
      return out;
    }
    case 'splice': {
      // The front of one packet with the back of another: fields from both, headers disagreeing.
      const j = d.otherAt % Math.max(other.length, 1);
      return Uint8Array.from([...out.subarray(0, at(d.at)), ...other.subarray(j)]);
    }
    case 'repeat': {
      const i = at(d.at);
      const slice = out.subarray(i, i + d.n);
      return Uint8Array.from([...out.subarray(0, i + d.n), ...slice, ...out.subarray(i + d.n)]);
    }
  }
}

const fixtureDir = fileURLToPath(new URL('../fixtures/wire/', import.meta.url));
const pythonBytes = ['tokens', 'state', 'hello'].map((k) =>
  Uint8Array.from(readFileSync(`${fixtureDir}${k}.msgpack`)),
);

// ---------------------------------------------------------------- properties

describe('fuzz', { timeout: 15_000 }, () => {
  it('random valid packets round trip exactly', () => {
    fc.assert(
      fc.property(packetArb, (p) => {
        const back = probe(encodePacket(p));
        expect(back).toEqual(p);
      }),
      { numRuns: 1500 },
    );
  });

  it('random edits to packet maps are refused or give valid packets', () => {
    fc.assert(
      fc.property(packetArb, fc.array(editArb, { minLength: 1, maxLength: 3 }), (p, edits) => {
        const wire = wireOf(p);
        for (const e of edits) applyEdit(wire, e);
        const bytes = tryPack(wire);
        if (bytes !== undefined) probe(bytes);
      }),
      { numRuns: 3000 },
    );
  });

  it('byte-level damage to valid encodings is refused or gives valid packets', () => {
    const sources = fc.oneof(
      packetArb.map((p) => Uint8Array.from(encodePacket(p))),
      fc.constantFrom(...pythonBytes),
    );
    fc.assert(
      fc.property(
        sources,
        sources,
        fc.array(damageArb, { minLength: 1, maxLength: 3 }),
        (a, b, ds) => {
          let bytes: Uint8Array = a;
          for (const d of ds) bytes = damage(bytes, d, b);
          probe(bytes);
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('random bytes, bare and behind a map header', () => {
    fc.assert(
      fc.property(
        fc.constantFrom([], [0x8a], [0xde, 0x00, 0x0a], [0x89, 0xa1, 0x76, 0x01]),
        fc.uint8Array({ maxLength: 200 }),
        (prefix, rest) => {
          probe(Uint8Array.from([...prefix, ...rest]));
        },
      ),
      { numRuns: 1000 },
    );
  });
});

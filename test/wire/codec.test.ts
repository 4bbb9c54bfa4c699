import { Packr } from 'msgpackr';
import { afterAll, describe, expect, it } from 'vitest';
import {
  decodePacket,
  encodePacket,
  PACKET_KEYS,
  type Packet,
  resolveWireLimits,
  type StatePacket,
  type TokensPacket,
  WIRE_ERROR_CODES,
  WireError,
  type WireErrorCode,
  type WireLimits,
} from '../../src/wire/index.js';
import {
  BIG_STAMP,
  helloPacket,
  helloWire,
  nd,
  plainDecode,
  plainPack,
  SPEC_ID,
  statePacket,
  stateWire,
  tokensPacket,
  tokensWire,
} from './samples.js';

const SOURCE = 'test-peer';

function catchWire(fn: () => unknown): WireError {
  try {
    fn();
  } catch (err) {
    if (err instanceof WireError) return err;
    throw new Error(`threw a non-WireError: ${String(err)}`);
  }
  throw new Error('did not throw');
}

function expectRefused(
  bytes: Uint8Array,
  code: WireErrorCode,
  field: string,
  limits?: Partial<WireLimits>,
): WireError {
  const err = catchWire(() => decodePacket(bytes, SOURCE, limits));
  expect({ code: err.code, field: err.field }).toEqual({ code, field });
  expect(err.source).toBe(SOURCE);
  expect(err.message.startsWith(`${SOURCE}: ${field || '(root)'}: `)).toBe(true);
  expect(err.reason.length).toBeGreaterThan(0);
  return err;
}

function with_(wire: Record<string, unknown>, changes: Record<string, unknown>) {
  return { ...wire, ...changes };
}

function without(wire: Record<string, unknown>, key: string) {
  const copy = { ...wire };
  delete copy[key];
  return copy;
}

/** Replaces the first occurrence of `find` in `bytes` (which must hold it). */
function patch(bytes: Uint8Array, find: number[], replace: number[]): Uint8Array {
  const out = Uint8Array.from(bytes);
  for (let i = 0; i + find.length <= out.length; i++) {
    if (find.every((b, j) => out[i + j] === b)) {
      out.set(replace, i);
      return out;
    }
  }
  throw new Error(`pattern ${find} not found`);
}

const ascii = (s: string): number[] => [...Buffer.from(s, 'utf8')];

describe('round trips', () => {
  it('tokens: bigint stamps beyond 2^53 survive exactly', () => {
    const p = tokensPacket();
    const back = decodePacket(encodePacket(p), SOURCE) as TokensPacket;
    expect(back).toEqual(p);
    expect(back.obs_stamp_ns).toBe(1_764_000_000_123_456_789n);
    expect(back.emit_stamp_ns).toBe(BIG_STAMP + 85_000_001n);
    expect(back.tokens).toBeInstanceOf(Uint32Array);
    expect(typeof back.seq).toBe('number');
    expect(Object.keys(back)).toEqual([...PACKET_KEYS.tokens]);
  });

  it('state: float64 joints bit for bit, last_token_seq -1', () => {
    const p = statePacket();
    p.position[0] = -0;
    p.velocity[1] = Number.MIN_VALUE;
    const back = decodePacket(encodePacket(p), SOURCE) as StatePacket;
    expect(back).toEqual(p);
    expect(Object.is(back.position[0], -0)).toBe(true);
    expect(back.velocity[1]).toBe(Number.MIN_VALUE);
    expect(back.last_token_seq).toBe(-1);
    expect(Object.keys(back)).toEqual([...PACKET_KEYS.state]);
  });

  it('state with no joints', () => {
    const p = { ...statePacket(), position: new Float64Array(0), velocity: new Float64Array(0) };
    expect(decodePacket(encodePacket(p), SOURCE)).toEqual(p);
  });

  it('hello: spec and spec id', () => {
    const p = helloPacket();
    expect(decodePacket(encodePacket(p), SOURCE)).toEqual(p);
  });

  it('estop: engage and release, with a reason', () => {
    for (const engage of [true, false]) {
      const p = {
        v: 1,
        kind: 'estop',
        engage,
        reason: 'operator: red button',
        stamp_ns: 2n ** 62n,
      } as const;
      expect(decodePacket(encodePacket(p), 'test')).toEqual(p);
    }
    const bad = plainPack({ v: 1, kind: 'estop', engage: 1, reason: 'x', stamp_ns: 1 });
    expect(() => decodePacket(bad, 'test')).toThrow(/engage: is an integer, must be a bool/);
  });

  it('extreme but valid values', () => {
    const p: TokensPacket = {
      ...tokensPacket(),
      model_id: 'm'.repeat(128),
      episode_id: 'épisode ✓ 🤖',
      seq: Number.MAX_SAFE_INTEGER,
      obs_stamp_ns: 0n,
      emit_stamp_ns: (1n << 63n) - 1n,
      tokens: new Uint32Array([0, 0xffff_ffff]),
      timings_ms: {},
    };
    expect(decodePacket(encodePacket(p), SOURCE)).toEqual(p);
    const s: StatePacket = { ...statePacket(), seq: 2 ** 40, last_token_seq: 2 ** 33 };
    expect(decodePacket(encodePacket(s), SOURCE)).toEqual(s);
  });

  it('accepts stamps and counters in any integer width (small ints from Python, int64 counters)', () => {
    const wire = with_(stateWire(), { stamp_ns: 2_500_000_000, seq: 5n, last_token_seq: 0 });
    const back = decodePacket(plainPack(wire), SOURCE) as StatePacket;
    expect(back.stamp_ns).toBe(2_500_000_000n);
    expect(back.seq).toBe(5);
    expect(back.last_token_seq).toBe(0);
  });

  it('decodes from a pooled Buffer and from a plain Uint8Array', () => {
    const bytes = encodePacket(tokensPacket());
    expect(decodePacket(Buffer.from(bytes), SOURCE)).toEqual(tokensPacket());
    expect(decodePacket(Uint8Array.from(bytes), SOURCE)).toEqual(tokensPacket());
  });

  it('encoded bytes stay valid after later encodes', () => {
    const first = encodePacket(tokensPacket());
    const copy = Uint8Array.from(first);
    for (let i = 0; i < 2000; i++) encodePacket(statePacket());
    expect(Buffer.compare(first, copy)).toBe(0);
  });
});

describe('encoding is plain cross-language MessagePack', () => {
  it.each([
    ['tokens', tokensPacket()],
    ['state', statePacket()],
    ['hello', helloPacket()],
  ] as [string, Packet][])(
    '%s: a map16 of str keys, no msgpackr records or extensions',
    (kind, p) => {
      const bytes = encodePacket(p);
      expect(bytes[0]).toBe(0xde); // map 16, written by msgpackr whatever the size
      const plain = plainDecode(bytes) as Map<unknown, unknown>;
      expect(plain).toBeInstanceOf(Map);
      expect([...plain.keys()]).toEqual([...PACKET_KEYS[kind as Packet['kind']]]);
      expect(plain.get('v')).toBe(1);
    },
  );

  it('stamps and large counters go as int64, never as float64', () => {
    const bytes = encodePacket({ ...tokensPacket(), seq: 2 ** 40, obs_stamp_ns: 7n });
    const plain = plainDecode(bytes) as Map<string, unknown>;
    expect(plain.get('obs_stamp_ns')).toBe(7n);
    expect(plain.get('emit_stamp_ns')).toBe(BIG_STAMP + 85_000_001n);
    expect(plain.get('seq')).toBe(BigInt(2 ** 40));
    const state = plainDecode(encodePacket(statePacket())) as Map<string, unknown>;
    expect(state.get('seq')).toBe(3);
    expect(state.get('last_token_seq')).toBe(-1);
  });

  it('n-d arrays are the openpi four-key map with little-endian bytes', () => {
    const plain = plainDecode(encodePacket(tokensPacket())) as Map<string, unknown>;
    const tokens = plain.get('tokens') as Map<string, unknown>;
    expect([...tokens.keys()]).toEqual(['__ndarray__', 'data', 'dtype', 'shape']);
    expect(tokens.get('__ndarray__')).toBe(true);
    expect(tokens.get('dtype')).toBe('<u4');
    expect(tokens.get('shape')).toEqual([56]);
    const data = tokens.get('data') as Uint8Array;
    expect(data.length).toBe(56 * 4);
    expect(new DataView(data.buffer, data.byteOffset).getUint32(0, true)).toBe(4095);
  });

  it("reads n-d arrays whose keys are bytes, as openpi's msgpack_numpy writes them", () => {
    const wire = tokensWire();
    const nd = wire.tokens as Record<string, unknown>;
    const openpi = new Map<unknown, unknown>(
      Object.entries(nd).map(([k, v]) => [Buffer.from(k), v]),
    );
    const decoded = decodePacket(plainPack({ ...wire, tokens: openpi }), 'openpi peer');
    expect(decoded).toEqual(decodePacket(plainPack(wire), 'str keys'));
  });

  it("msgpackr's record extension (its default Packr) is refused", () => {
    const recordBytes = new Packr().pack(tokensWire());
    expect(() => plainDecode(recordBytes)).toThrow(/not plain MessagePack/);
    const err = expectRefused(recordBytes, 'msgpack', '');
    expect(err.reason).toMatch(/extension/);
  });
});

describe('n-d array alignment', () => {
  it('decodes data at every byte offset: a view when aligned, a copy when not', () => {
    const p = statePacket();
    const bytes = encodePacket(p);
    let views = 0;
    let copies = 0;
    for (let offset = 0; offset < 8; offset++) {
      const host = new Uint8Array(bytes.length + offset);
      host.set(bytes, offset);
      const back = decodePacket(host.subarray(offset), SOURCE) as StatePacket;
      expect(back.position).toEqual(p.position);
      expect(back.velocity).toEqual(p.velocity);
      expect(back.position.byteOffset % 8).toBe(0);
      expect(back.velocity.byteOffset % 8).toBe(0);
      if (back.position.buffer === host.buffer) views++;
      else copies++;
    }
    expect(views).toBe(1);
    expect(copies).toBe(7);
  });

  it('tokens at an odd offset', () => {
    const p = tokensPacket();
    const bytes = encodePacket(p);
    const host = new Uint8Array(bytes.length + 3);
    host.set(bytes, 3);
    const back = decodePacket(host.subarray(3), SOURCE) as TokensPacket;
    expect(back.tokens).toEqual(p.tokens);
    expect(back.tokens.byteOffset % 4).toBe(0);
  });
});

describe('every error code names its field', () => {
  const seen = new Set<WireErrorCode>();
  afterAll(() => {
    expect([...seen].sort()).toEqual([...WIRE_ERROR_CODES].sort());
  });

  const tokens = tokensWire;
  const state = stateWire;
  const hello = helloWire;
  const timings = (t: Record<string, unknown>) => with_(tokens(), { timings_ms: t });
  const tokensNd = (changes: Record<string, unknown>) =>
    with_(tokens(), { tokens: { ...(tokens().tokens as object), ...changes } });

  type Case = [string, () => unknown, WireErrorCode, string, Partial<WireLimits>?];
  const cases: Case[] = [
    // oversize
    ['packet over maxBytes', tokens, 'oversize', '', { maxBytes: 200 }],
    ['tokens over maxTokens', tokens, 'oversize', 'tokens', { maxTokens: 55 }],
    ['joints over maxJoints', state, 'oversize', 'position', { maxJoints: 2 }],
    ['spec over maxSpecBytes', hello, 'oversize', 'spec', { maxSpecBytes: 100 }],
    // not_map
    ['a list', () => [1, 'tokens'], 'not_map', ''],
    ['a str', () => 'tokens', 'not_map', ''],
    ['nil', () => null, 'not_map', ''],
    // version
    ['v = 2', () => with_(tokens(), { v: 2 }), 'version', 'v'],
    ['v = "1"', () => with_(tokens(), { v: '1' }), 'version', 'v'],
    ['v missing', () => without(tokens(), 'v'), 'missing_field', 'v'],
    // kind
    ['unknown kind', () => with_(tokens(), { kind: 'tokenz' }), 'kind', 'kind'],
    ['kind not a str', () => with_(tokens(), { kind: 1 }), 'kind', 'kind'],
    ['kind missing', () => without(tokens(), 'kind'), 'missing_field', 'kind'],
    // missing / extra
    ['tokens without seq', () => without(tokens(), 'seq'), 'missing_field', 'seq'],
    ['state without mode', () => without(state(), 'mode'), 'missing_field', 'mode'],
    ['hello without spec', () => without(hello(), 'spec'), 'missing_field', 'spec'],
    ['extra key', () => with_(tokens(), { extra: 1 }), 'extra_field', 'extra'],
    ['hello with tokens', () => with_(hello(), { tokens: 1 }), 'extra_field', 'tokens'],
    [
      '__proto__ key (an extra field, never a prototype)',
      () => ({ ...JSON.parse('{"__proto__": 1}'), ...tokens() }),
      'extra_field',
      '__proto__',
    ],
    [
      'n-d array without dtype',
      () =>
        with_(tokens(), { tokens: without(tokens().tokens as Record<string, unknown>, 'dtype') }),
      'missing_field',
      'tokens.dtype',
    ],
    ['n-d array extra key', () => tokensNd({ order: 'C' }), 'extra_field', 'tokens.order'],
    // type
    ['seq a float', () => with_(tokens(), { seq: 1.5 }), 'type', 'seq'],
    ['seq a str', () => with_(tokens(), { seq: '1' }), 'type', 'seq'],
    ['model_id a number', () => with_(tokens(), { model_id: 5 }), 'type', 'model_id'],
    ['spec_id bin', () => with_(tokens(), { spec_id: Buffer.from(SPEC_ID) }), 'type', 'spec_id'],
    ['stamp a str', () => with_(tokens(), { obs_stamp_ns: '1' }), 'type', 'obs_stamp_ns'],
    [
      'stamp a big float',
      () => with_(tokens(), { obs_stamp_ns: 1.764e18 }),
      'type',
      'obs_stamp_ns',
    ],
    ['stamp a fraction', () => with_(state(), { stamp_ns: 0.5 }), 'type', 'stamp_ns'],
    ['tokens as a list', () => with_(tokens(), { tokens: [1, 2, 3] }), 'type', 'tokens'],
    ['tokens data a str', () => tokensNd({ data: 'abcd' }), 'type', 'tokens.data'],
    ['__ndarray__ false', () => tokensNd({ __ndarray__: false }), 'type', 'tokens.__ndarray__'],
    ['timings a list', () => timings([1] as never), 'type', 'timings_ms'],
    ['timing a str', () => timings({ vision: '3' }), 'type', 'timings_ms.vision'],
    ['timing a bool', () => timings({ vision: true }), 'type', 'timings_ms.vision'],
    ['mode a number', () => with_(state(), { mode: 0 }), 'type', 'mode'],
    // dtype
    ['tokens <i4', () => tokensNd({ dtype: '<i4' }), 'dtype', 'tokens.dtype'],
    ['tokens <u8', () => tokensNd({ dtype: '<u8' }), 'dtype', 'tokens.dtype'],
    [
      'position big-endian',
      () => with_(state(), { position: { ...nd([1, 2, 3], '>f8', Float64Array) } }),
      'dtype',
      'position.dtype',
    ],
    [
      'position <f4',
      () => with_(state(), { position: nd([1, 2, 3], '<f4', Float32Array) }),
      'dtype',
      'position.dtype',
    ],
    // shape
    ['tokens 2-d', () => tokensNd({ shape: [2, 28] }), 'shape', 'tokens.shape'],
    ['shape vs data', () => tokensNd({ shape: [57] }), 'shape', 'tokens.shape'],
    ['negative dim', () => tokensNd({ shape: [-56] }), 'shape', 'tokens.shape[0]'],
    ['fractional dim', () => tokensNd({ shape: [5.5] }), 'shape', 'tokens.shape[0]'],
    ['shape not a list', () => tokensNd({ shape: 56 }), 'shape', 'tokens.shape'],
    ['huge dims', () => tokensNd({ shape: [2 ** 40, 2 ** 40] }), 'shape', 'tokens.shape'],
    [
      'no tokens',
      () => with_(tokens(), { tokens: nd([], '<u4', Uint32Array) }),
      'shape',
      'tokens.shape',
    ],
    [
      'velocity length differs',
      () => with_(state(), { velocity: nd([1, 2], '<f8', Float64Array) }),
      'shape',
      'velocity.shape',
    ],
    // non_finite
    [
      'NaN position',
      () => with_(state(), { position: nd([0, Number.NaN, 0], '<f8', Float64Array) }),
      'non_finite',
      'position[1]',
    ],
    [
      'Infinity velocity',
      () => with_(state(), { velocity: nd([0, 0, -Infinity], '<f8', Float64Array) }),
      'non_finite',
      'velocity[2]',
    ],
    ['NaN timing', () => timings({ decode: Number.NaN }), 'non_finite', 'timings_ms.decode'],
    ['Infinity timing', () => timings({ decode: Infinity }), 'non_finite', 'timings_ms.decode'],
    ['NaN stamp', () => with_(state(), { stamp_ns: Number.NaN }), 'non_finite', 'stamp_ns'],
    ['Infinity seq', () => with_(state(), { seq: Infinity }), 'non_finite', 'seq'],
    // range
    ['negative stamp', () => with_(tokens(), { obs_stamp_ns: -1 }), 'range', 'obs_stamp_ns'],
    [
      'negative int64 stamp',
      () => with_(tokens(), { emit_stamp_ns: -5n }),
      'range',
      'emit_stamp_ns',
    ],
    ['stamp 2^63 (uint64)', () => with_(state(), { stamp_ns: 1n << 63n }), 'range', 'stamp_ns'],
    ['negative seq', () => with_(tokens(), { seq: -1 }), 'range', 'seq'],
    ['seq past 2^53', () => with_(tokens(), { seq: 1n << 53n }), 'range', 'seq'],
    ['last_token_seq -2', () => with_(state(), { last_token_seq: -2 }), 'range', 'last_token_seq'],
    ['unknown mode', () => with_(state(), { mode: 'fly' }), 'range', 'mode'],
    ['unknown role', () => with_(hello(), { role: 'robot' }), 'range', 'role'],
    ['empty model_id', () => with_(tokens(), { model_id: '' }), 'range', 'model_id'],
    ['model_id of 129', () => with_(tokens(), { model_id: 'm'.repeat(129) }), 'range', 'model_id'],
    ['control char', () => with_(tokens(), { episode_id: 'a\nb' }), 'range', 'episode_id'],
    ['empty software', () => with_(hello(), { software: '' }), 'range', 'software'],
    ['empty spec', () => with_(hello(), { spec: '' }), 'range', 'spec'],
    [
      '33 timings',
      () => timings(Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`t${i}`, i]))),
      'range',
      'timings_ms',
    ],
    ['timing name with a space', () => timings({ 'a b': 1 }), 'range', 'timings_ms'],
    ['timing name too long', () => timings({ [`t${'x'.repeat(32)}`]: 1 }), 'range', 'timings_ms'],
    ['negative timing', () => timings({ vision: -0.5 }), 'range', 'timings_ms.vision'],
    // spec_id
    [
      'spec_id upper case',
      () => with_(tokens(), { spec_id: SPEC_ID.toUpperCase() }),
      'spec_id',
      'spec_id',
    ],
    ['spec_id short', () => with_(state(), { spec_id: SPEC_ID.slice(1) }), 'spec_id', 'spec_id'],
    [
      'hello spec changed',
      () => with_(hello(), { spec: `${helloPacket().spec} ` }),
      'spec_id',
      'spec_id',
    ],
    [
      'hello spec_id of another spec',
      () => with_(hello(), { spec_id: 'a'.repeat(64) }),
      'spec_id',
      'spec_id',
    ],
  ];

  it.each(cases)('%s', (_name, make, code, field, limits) => {
    expectRefused(plainPack(make()), code, field, limits);
    seen.add(code);
  });

  describe('bytes that are not one plain MessagePack value', () => {
    const good = () => plainPack(tokensWire());
    const bytesCases: [string, () => Uint8Array, RegExp][] = [
      ['empty', () => new Uint8Array(0), /empty/],
      ['truncated', () => good().subarray(0, 100), /ends early|declares/],
      ['trailing byte', () => Uint8Array.from([...good(), 0xc0]), /after the packet/],
      ['two packets', () => Uint8Array.from([...good(), ...good()]), /after the packet/],
      ['reserved 0xc1', () => Uint8Array.from([0x81, 0xa1, 0x76, 0xc1]), /0xc1/],
      [
        'a Date (timestamp extension)',
        () => plainPack(timingsOf({ vision: new Date(0) })),
        /extension/,
      ],
      [
        'a Set (msgpackr extension)',
        () =>
          new Packr({ useRecords: false, moreTypes: true }).pack(
            timingsOf({ vision: new Set([1]) }),
          ),
        /extension/,
      ],
      [
        'an int map key',
        () =>
          plainPack(
            new Map<unknown, unknown>([
              ['v', 1],
              [1, 'x'],
            ]),
          ),
        /map key/,
      ],
      [
        'a bin key that is not UTF-8',
        () => plainPack(new Map<unknown, unknown>([[Buffer.from([0x76, 0xff]), 1]])),
        /not UTF-8/,
      ],
      [
        'a repeated key',
        () =>
          patch(
            plainPack(with_(tokensWire(), { sex: 1 })),
            [0xa3, ...ascii('sex')],
            [0xa3, ...ascii('seq')],
          ),
        /repeats the map key "seq"/,
      ],
      [
        'invalid UTF-8',
        () => patch(good(), ascii('tiny-vla'), [0x74, 0xff, 0xfe, 0x79]),
        /not UTF-8/,
      ],
      [
        'a UTF-16 surrogate in UTF-8',
        () => patch(good(), ascii('tiny-vla'), [0xed, 0xa0, 0x80]),
        /not UTF-8/,
      ],
      ['nested too deep', () => plainPack(timingsOf({ vision: [[[[[[[[[1]]]]]]]]] })), /deeper/],
      [
        'array32 of 2^32-1 items',
        () => Uint8Array.from([0xdd, 0xff, 0xff, 0xff, 0xff, 0x00]),
        /declares 4294967295/,
      ],
      ['map32 header', () => Uint8Array.from([0xdf, 0x7f, 0xff, 0xff, 0xff]), /declares/],
      ['bin32 of 4 GiB', () => Uint8Array.from([0xc6, 0xff, 0xff, 0xff, 0xff, 1, 2]), /declares/],
      ['str32 too long', () => Uint8Array.from([0xdb, 0x00, 0x01, 0x00, 0x00, 0x41]), /declares/],
      [
        'too many values',
        () => plainPack(Array.from({ length: 5000 }, () => 0)),
        /more than 4096 values/,
      ],
    ];
    it.each(bytesCases)('%s', (_name, make, reason) => {
      const err = expectRefused(make(), 'msgpack', '');
      expect(err.reason).toMatch(reason);
      seen.add('msgpack');
    });
  });

  it('maxBytes is checked before decoding', () => {
    const garbage = new Uint8Array(2000).fill(0xc1);
    expectRefused(garbage, 'oversize', '', { maxBytes: 1999 });
    expectRefused(garbage, 'msgpack', '', { maxBytes: 2000 });
    // The default is 1 MiB.
    expectRefused(new Uint8Array(1024 * 1024 + 1), 'oversize', '');
  });

  it('the message names source, field and reason', () => {
    const err = expectRefused(plainPack(with_(stateWire(), { mode: 'fly' })), 'range', 'mode');
    expect(err.message).toBe(`${SOURCE}: mode: is "fly", must be one of run, hold, estop`);
    expect(err.name).toBe('WireError');
  });
});

function timingsOf(t: Record<string, unknown>) {
  return with_(tokensWire(), { timings_ms: t });
}

describe('encodePacket refuses what a receiver would refuse', () => {
  const cases: [string, () => unknown, WireErrorCode, string][] = [
    [
      'NaN timing',
      () => ({ ...tokensPacket(), timings_ms: { vision: Number.NaN } }),
      'non_finite',
      'timings_ms.vision',
    ],
    [
      'Float32Array position',
      () => ({ ...statePacket(), position: new Float32Array(3) }),
      'type',
      'position',
    ],
    ['number[] tokens', () => ({ ...tokensPacket(), tokens: [1, 2] }), 'type', 'tokens'],
    ['extra key', () => ({ ...statePacket(), note: 'x' }), 'extra_field', 'note'],
    ['missing key', () => without({ ...statePacket() }, 'mode'), 'missing_field', 'mode'],
    ['stamp past int64', () => ({ ...statePacket(), stamp_ns: 1n << 64n }), 'range', 'stamp_ns'],
    ['float stamp', () => ({ ...statePacket(), stamp_ns: 1.5 }), 'type', 'stamp_ns'],
    ['wrong spec id', () => ({ ...helloPacket(), spec_id: 'b'.repeat(64) }), 'spec_id', 'spec_id'],
    ['unknown kind', () => ({ ...helloPacket(), kind: 'bye' }), 'kind', 'kind'],
    ['not an object', () => 'hello', 'not_map', ''],
  ];
  it.each(cases)('%s', (_name, make, code, field) => {
    const err = catchWire(() => encodePacket(make() as Packet));
    expect({ code: err.code, field: err.field, source: err.source }).toEqual({
      code,
      field,
      source: 'encodePacket',
    });
  });

  it('number stamps that are safe integers are sent as int64', () => {
    const p = { ...statePacket(), stamp_ns: 12 as unknown as bigint };
    const plain = plainDecode(encodePacket(p)) as Map<string, unknown>;
    expect(plain.get('stamp_ns')).toBe(12n);
  });

  it('over maxBytes', () => {
    const err = catchWire(() => encodePacket(tokensPacket(), { maxBytes: 64 }));
    expect(err.code).toBe('oversize');
  });
});

describe('limits', () => {
  it('fills defaults and refuses nonsense', () => {
    expect(resolveWireLimits()).toEqual({
      maxBytes: 1048576,
      maxTokens: 65536,
      maxJoints: 256,
      maxSpecBytes: 262144,
    });
    expect(resolveWireLimits({ maxTokens: 10 }).maxTokens).toBe(10);
    expect(() => resolveWireLimits({ maxBytes: Number.NaN })).toThrow(RangeError);
    expect(() => resolveWireLimits({ maxJoints: 0 })).toThrow(RangeError);
    expect(() => decodePacket(new Uint8Array(1), SOURCE, { maxTokens: -1 })).toThrow(RangeError);
  });

  it('a full 65,536-token packet fits the default 1 MiB', () => {
    const p = { ...tokensPacket(), tokens: new Uint32Array(65_536).fill(7) };
    expect((decodePacket(encodePacket(p), SOURCE) as TokensPacket).tokens.length).toBe(65_536);
    const over = { ...tokensPacket(), tokens: new Uint32Array(65_537) };
    expect(catchWire(() => encodePacket(over)).code).toBe('oversize');
  });

  it('decodePacket takes bytes only', () => {
    expect(() => decodePacket('x' as unknown as Uint8Array, SOURCE)).toThrow(TypeError);
  });
});

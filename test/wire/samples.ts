import { fileURLToPath } from 'node:url';
import { Packr } from 'msgpackr';
import { loadActionSpec, specId, specJson } from '../../src/contract/index.js';
import type { HelloPacket, StatePacket, TokensPacket } from '../../src/wire/index.js';

/** Shared material for the wire tests: sample packets, a plain packer and a plain decoder. */

const specPath = fileURLToPath(
  new URL('../../calibration/planar-arm/action_spec.yaml', import.meta.url),
);
const spec = loadActionSpec(specPath);
export const SPEC_JSON = specJson(spec);
export const SPEC_ID = specId(spec);

export const BIG_STAMP = 1_764_000_000_123_456_789n;

export function tokensPacket(): TokensPacket {
  const tokens = new Uint32Array(56);
  for (let i = 0; i < tokens.length; i++) tokens[i] = 4095 - ((i * 37) % 256);
  return {
    v: 1,
    kind: 'tokens',
    spec_id: SPEC_ID,
    model_id: 'tiny-vla',
    episode_id: 'episode-0001',
    seq: 12,
    obs_stamp_ns: BIG_STAMP,
    emit_stamp_ns: BIG_STAMP + 85_000_001n,
    tokens,
    timings_ms: { preprocess: 0.8, vision: 11.25, prefill: 31, decode: 7.5 },
  };
}

export function statePacket(): StatePacket {
  return {
    v: 1,
    kind: 'state',
    spec_id: SPEC_ID,
    seq: 3,
    stamp_ns: BIG_STAMP + 5n,
    position: new Float64Array([0.1, -0.2, Math.PI / 2]),
    velocity: new Float64Array([0, 0.5, -1e-3]),
    mode: 'run',
    last_token_seq: -1,
  };
}

export function helloPacket(): HelloPacket {
  return {
    v: 1,
    kind: 'hello',
    role: 'cerebellum',
    spec: SPEC_JSON,
    spec_id: SPEC_ID,
    model_id: 'planar-arm-sim',
    software: '0.1.0',
  };
}

/** n-d array map built by hand (not by toNdarray), for crafting wire maps. */
export function nd(
  values: ArrayLike<number>,
  dtype: string,
  ctor: { new (v: ArrayLike<number>): ArrayBufferView },
  shape?: unknown,
): Record<string, unknown> {
  const typed = new ctor(values);
  return {
    __ndarray__: true,
    data: new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength),
    dtype,
    shape: shape ?? [values.length],
  };
}

/** The wire maps of the three sample packets, built independently of the codec. */
export function tokensWire(): Record<string, unknown> {
  const p = tokensPacket();
  return { ...p, tokens: nd(p.tokens, '<u4', Uint32Array), timings_ms: { ...p.timings_ms } };
}

export function stateWire(): Record<string, unknown> {
  const p = statePacket();
  return {
    ...p,
    position: nd(p.position, '<f8', Float64Array),
    velocity: nd(p.velocity, '<f8', Float64Array),
  };
}

export function helloWire(): Record<string, unknown> {
  return { ...helloPacket() };
}

const plain = new Packr({ useRecords: false, variableMapSize: true });

/** Packs any value as plain MessagePack (maps, no records), whatever it holds. */
export function plainPack(value: unknown): Uint8Array {
  return Uint8Array.from(plain.pack(value));
}

/**
 * A small independent MessagePack decoder: standard types only (it throws on extension types
 * and 0xc1), maps as Map, strings strictly UTF-8, 64-bit integers as bigint.
 */
export function plainDecode(bytes: Uint8Array): unknown {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = new TextDecoder('utf-8', { fatal: true });
  let pos = 0;
  const take = (n: number): number => {
    if (pos + n > bytes.length) throw new Error(`truncated at ${pos}`);
    const at = pos;
    pos += n;
    return at;
  };
  const str = (n: number): string => text.decode(bytes.subarray(take(n), pos));
  const bin = (n: number): Uint8Array => bytes.slice(take(n), pos);
  const list = (n: number): unknown[] => Array.from({ length: n }, () => read());
  const map = (n: number): Map<unknown, unknown> => {
    const m = new Map<unknown, unknown>();
    for (let i = 0; i < n; i++) {
      const k = read();
      if (m.has(k)) throw new Error(`repeated key ${String(k)}`);
      m.set(k, read());
    }
    return m;
  };
  const read = (): unknown => {
    const b = bytes[take(1)] as number;
    if (b <= 0x7f) return b;
    if (b >= 0xe0) return b - 0x100;
    if (b <= 0x8f) return map(b & 0x0f);
    if (b <= 0x9f) return list(b & 0x0f);
    if (b <= 0xbf) return str(b & 0x1f);
    switch (b) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xc4:
        return bin(view.getUint8(take(1)));
      case 0xc5:
        return bin(view.getUint16(take(2)));
      case 0xc6:
        return bin(view.getUint32(take(4)));
      case 0xca:
        return view.getFloat32(take(4));
      case 0xcb:
        return view.getFloat64(take(8));
      case 0xcc:
        return view.getUint8(take(1));
      case 0xcd:
        return view.getUint16(take(2));
      case 0xce:
        return view.getUint32(take(4));
      case 0xcf:
        return view.getBigUint64(take(8));
      case 0xd0:
        return view.getInt8(take(1));
      case 0xd1:
        return view.getInt16(take(2));
      case 0xd2:
        return view.getInt32(take(4));
      case 0xd3:
        return view.getBigInt64(take(8));
      case 0xd9:
        return str(view.getUint8(take(1)));
      case 0xda:
        return str(view.getUint16(take(2)));
      case 0xdb:
        return str(view.getUint32(take(4)));
      case 0xdc:
        return list(view.getUint16(take(2)));
      case 0xdd:
        return list(view.getUint32(take(4)));
      case 0xde:
        return map(view.getUint16(take(2)));
      case 0xdf:
        return map(view.getUint32(take(4)));
      default:
        throw new Error(`not plain MessagePack: byte 0x${b.toString(16)} at ${pos - 1}`);
    }
  };
  const value = read();
  if (pos !== bytes.length) throw new Error(`${bytes.length - pos} trailing bytes`);
  return value;
}

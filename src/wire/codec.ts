import { Packr } from 'msgpackr';
import { describe } from './describe.js';
import { WireError } from './errors.js';
import { resolveWireLimits, type WireLimits } from './limits.js';
import { readMsgpack } from './msgpack-read.js';
import { type NdarrayMap, type NdTypedArray, toNdarray } from './ndarray.js';
import type { Packet } from './packets.js';
import { checkHeader, checkKeys, validatePacket } from './validate.js';

/**
 * Encoding goes through msgpackr; decoding through the strict reader in msgpack-read.ts.
 * One msgpackr instance for every packet, configured for plain cross-language MessagePack:
 * - `useRecords: false`: objects are written as maps (map16 headers), never as msgpackr's
 *   record extension, which no other language reads;
 * - `mapsAsObjects: true`: maps decode to plain objects;
 * - `int64AsType: 'bigint'`: int64/uint64 decode to bigint (stamps); smaller ints to number;
 * - `moreTypes: false`: typed arrays are written as bin, not as msgpackr's typed-array extension.
 * A bigint is always written as int64 (0xd3). msgpackr writes an integer number outside the
 * 32-bit ranges as float64, so counters that large are handed to it as bigint (see `intOut`).
 */
const packr = new Packr({
  useRecords: false,
  mapsAsObjects: true,
  int64AsType: 'bigint',
  moreTypes: false,
  structuredClone: false,
  bundleStrings: false,
  variableMapSize: false,
});

const ENCODE_SOURCE = 'encodePacket';

/**
 * Encodes a packet as one MessagePack map. The packet is validated first by the same rules as
 * {@link decodePacket} (a WireError with source `encodePacket` names the bad field), so a
 * sender never puts on the wire what a receiver must refuse.
 *
 * The bytes returned are a view into msgpackr's shared output buffer; later calls do not
 * overwrite them.
 */
export function encodePacket(p: Packet, limits?: Partial<WireLimits>): Uint8Array {
  const lim = resolveWireLimits(limits);
  const wire = toWire(p);
  validatePacket(wire, ENCODE_SOURCE, lim);
  const bytes: Uint8Array = packr.pack(wire);
  checkSize(bytes, lim, ENCODE_SOURCE);
  return bytes;
}

/**
 * Decodes and strictly validates one packet. Whatever the bytes, it throws only
 * {@link WireError}: its message names `source`, the field and the reason, and `code` says which
 * rule failed. (A TypeError for a non-Uint8Array or a RangeError for a nonsense limit is a
 * programming error, not bad input.) `limits.maxBytes` is checked before anything is decoded.
 *
 * The typed arrays of the packet returned view `bytes`' memory when their data is aligned
 * (and are copies otherwise): do not reuse `bytes` while the packet is in use.
 */
export function decodePacket(
  bytes: Uint8Array,
  source: string,
  limits?: Partial<WireLimits>,
): Packet {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(
      `decodePacket(${source}): bytes must be a Uint8Array, got ${describe(bytes)}`,
    );
  }
  const lim = resolveWireLimits(limits);
  checkSize(bytes, lim, source);
  if (bytes.byteLength === 0) throw new WireError('msgpack', source, '', 'is empty');
  return validatePacket(readMsgpack(bytes, source), source, lim);
}

function checkSize(bytes: Uint8Array, lim: Readonly<WireLimits>, source: string): void {
  if (bytes.byteLength > lim.maxBytes) {
    throw new WireError(
      'oversize',
      source,
      '',
      `is ${bytes.byteLength} bytes, the limit is ${lim.maxBytes}`,
    );
  }
}

/** The packet as the map that goes on the wire: keys in declaration order, arrays as n-d maps. */
function toWire(p: Packet): Record<string, unknown> {
  if (typeof p !== 'object' || p === null) {
    throw new WireError('not_map', ENCODE_SOURCE, '', `is ${describe(p)}, must be a packet object`);
  }
  const kind = checkHeader(p as unknown as Record<string, unknown>, ENCODE_SOURCE);
  checkKeys(p, kind, ENCODE_SOURCE);
  switch (p.kind) {
    case 'hello':
      return {
        v: p.v,
        kind: p.kind,
        role: p.role,
        spec: p.spec,
        spec_id: p.spec_id,
        model_id: p.model_id,
        software: p.software,
      };
    case 'estop':
      return {
        v: p.v,
        kind: p.kind,
        engage: p.engage,
        reason: p.reason,
        stamp_ns: stampOut(p.stamp_ns),
      };
    case 'tokens':
      return {
        v: p.v,
        kind: p.kind,
        spec_id: p.spec_id,
        model_id: p.model_id,
        episode_id: p.episode_id,
        seq: intOut(p.seq),
        obs_stamp_ns: stampOut(p.obs_stamp_ns),
        emit_stamp_ns: stampOut(p.emit_stamp_ns),
        tokens: arrayOut(p.tokens, Uint32Array, 'tokens'),
        timings_ms: p.timings_ms,
      };
    case 'state':
      return {
        v: p.v,
        kind: p.kind,
        spec_id: p.spec_id,
        seq: intOut(p.seq),
        stamp_ns: stampOut(p.stamp_ns),
        position: arrayOut(p.position, Float64Array, 'position'),
        velocity: arrayOut(p.velocity, Float64Array, 'velocity'),
        mode: p.mode,
        last_token_seq: intOut(p.last_token_seq),
      };
    case 'frame':
      return {
        v: p.v,
        kind: p.kind,
        camera: p.camera,
        seq: intOut(p.seq),
        stamp_ns: stampOut(p.stamp_ns),
        encoding: p.encoding,
        width: p.width,
        height: p.height,
        data: arrayOut(p.data, Uint8Array, 'data'),
      };
    case 'joints':
      return {
        v: p.v,
        kind: p.kind,
        seq: intOut(p.seq),
        stamp_ns: stampOut(p.stamp_ns),
        name: p.name,
        position: arrayOut(p.position, Float64Array, 'position'),
        velocity: arrayOut(p.velocity, Float64Array, 'velocity'),
      };
    case 'instruction':
      return {
        v: p.v,
        kind: p.kind,
        seq: intOut(p.seq),
        stamp_ns: stampOut(p.stamp_ns),
        text: p.text,
      };
    case 'scene':
      return {
        v: p.v,
        kind: p.kind,
        seq: intOut(p.seq),
        stamp_ns: stampOut(p.stamp_ns),
        episode_id: p.episode_id,
        name: p.name,
        pose: arrayOut(p.pose, Float64Array, 'pose'),
      };
    case 'command':
      return {
        v: p.v,
        kind: p.kind,
        seq: intOut(p.seq),
        stamp_ns: stampOut(p.stamp_ns),
        obs_stamp_ns: stampOut(p.obs_stamp_ns),
        mode: p.mode,
        position: arrayOut(p.position, Float64Array, 'position'),
        velocity: arrayOut(p.velocity, Float64Array, 'velocity'),
      };
  }
}

/** An integer beyond the 32-bit ranges goes as int64, not as the float64 msgpackr would write. */
function intOut(n: unknown): unknown {
  return typeof n === 'number' && Number.isSafeInteger(n) && (n > 0xffff_ffff || n < -0x8000_0000)
    ? BigInt(n)
    : n;
}

/** Stamps always go as int64, even when a caller hands over a (safe integer) number. */
function stampOut(n: unknown): unknown {
  return typeof n === 'number' && Number.isSafeInteger(n) ? BigInt(n) : n;
}

function arrayOut(
  value: unknown,
  type: typeof Uint32Array | typeof Float64Array | typeof Uint8Array,
  field: string,
): NdarrayMap | unknown {
  if (!(value instanceof type)) {
    throw new WireError(
      'type',
      ENCODE_SOURCE,
      field,
      `is ${describe(value)}, must be a ${type.name}`,
    );
  }
  return toNdarray(value as NdTypedArray);
}

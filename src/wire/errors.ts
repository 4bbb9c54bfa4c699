import { InputError } from '../contract/index.js';

/**
 * Why a packet was refused. Every code means the whole packet is dropped.
 *
 * - `oversize`: over a {@link WireLimits} bound (bytes, tokens, joints, spec bytes).
 * - `msgpack`: not one well-formed standard MessagePack value (truncated, trailing bytes,
 *   extension types, non-str map keys, repeated keys, invalid UTF-8, too deep).
 * - `not_map`: the top-level value is not a map.
 * - `version`: `v` is not this build's protocol version.
 * - `kind`: `kind` is not a known packet kind.
 * - `missing_field` / `extra_field`: the map's keys are not exactly the kind's keys.
 * - `type`: a field has the wrong MessagePack type (a float where an integer belongs, …).
 * - `dtype`: an n-d array has the wrong (or a big-endian) dtype.
 * - `shape`: an n-d array's shape is malformed, disagrees with its data, or has the wrong rank.
 * - `non_finite`: NaN or ±Infinity where a finite number belongs.
 * - `range`: the right type, but a value outside what is allowed (negative stamp, unknown mode,
 *   empty or overlong string, too many timings).
 * - `spec_id`: a spec id that is not 64 lowercase hex digits, or a hello whose spec does not
 *   hash to its spec id.
 */
export const WIRE_ERROR_CODES = [
  'oversize',
  'msgpack',
  'not_map',
  'version',
  'kind',
  'missing_field',
  'extra_field',
  'type',
  'dtype',
  'shape',
  'non_finite',
  'range',
  'spec_id',
] as const;
export type WireErrorCode = (typeof WIRE_ERROR_CODES)[number];

/** A refused packet: names the source, the field and the reason, plus a machine-readable code. */
export class WireError extends InputError {
  constructor(
    readonly code: WireErrorCode,
    source: string,
    field: string,
    reason: string,
  ) {
    super(source, field, reason);
    this.name = 'WireError';
  }
}

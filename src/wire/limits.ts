/** Bounds on what a packet may hold; anything over them is refused with code `oversize`. */
export interface WireLimits {
  /** Encoded packet size in bytes, checked before any decoding. */
  maxBytes: number;
  /** Action tokens in one `tokens` packet. */
  maxTokens: number;
  /** Joints (entries of `position` / `velocity`) in one `state` packet. */
  maxJoints: number;
  /** UTF-8 bytes of a `hello` packet's spec. */
  maxSpecBytes: number;
}

export const DEFAULT_WIRE_LIMITS: Readonly<WireLimits> = Object.freeze({
  maxBytes: 1024 * 1024,
  maxTokens: 65_536,
  maxJoints: 256,
  maxSpecBytes: 256 * 1024,
});

/**
 * Fills unset limits with the defaults. A limit that is not a positive safe integer is a
 * programming error (a NaN limit would let everything through), so it throws a RangeError.
 */
export function resolveWireLimits(limits?: Partial<WireLimits>): Readonly<WireLimits> {
  if (limits === undefined) return DEFAULT_WIRE_LIMITS;
  return {
    maxBytes: pick(limits, 'maxBytes'),
    maxTokens: pick(limits, 'maxTokens'),
    maxJoints: pick(limits, 'maxJoints'),
    maxSpecBytes: pick(limits, 'maxSpecBytes'),
  };
}

function pick(limits: Partial<WireLimits>, key: keyof WireLimits): number {
  const value = limits[key];
  if (value === undefined) return DEFAULT_WIRE_LIMITS[key];
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`wire limit ${key} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

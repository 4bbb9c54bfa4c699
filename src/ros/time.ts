/**
 * ROS time values. pons keeps stamps as int64 nanoseconds (bigint) everywhere; ROS messages
 * carry `builtin_interfaces/Time` and `builtin_interfaces/Duration`: `{sec, nanosec}` with
 * `sec` an int32 and `nanosec` a uint32 in [0, 1e9). The conversions here are integer-exact
 * over the whole int64 range: they never pass through a float64 of nanoseconds.
 */
import { InputError } from '../contract/index.js';

/** `builtin_interfaces/msg/Time` (and `Duration`, which has the same fields) in rclnodejs's shape. */
export interface RosTime {
  sec: number;
  nanosec: number;
}

export type RosDuration = RosTime;

const NS_PER_S = 1_000_000_000n;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/**
 * Splits int64 nanoseconds into `{sec, nanosec}` with `nanosec` in [0, 1e9) (floor division,
 * as rclcpp does for negative times). Exact for every int64; `sec` may exceed int32 here
 * (2^63−1 ns is 9223372036 s); `rosTime`/`rosDuration` check the message range.
 */
export function stampFromNs(ns: bigint): RosTime {
  if (typeof ns !== 'bigint' || ns < INT64_MIN || ns > INT64_MAX) {
    throw new InputError('stampFromNs', 'ns', `must be an int64 bigint, got ${describe(ns)}`);
  }
  let sec = ns / NS_PER_S;
  let nanosec = ns % NS_PER_S;
  if (nanosec < 0n) {
    sec -= 1n;
    nanosec += NS_PER_S;
  }
  return { sec: Number(sec), nanosec: Number(nanosec) };
}

/** The inverse of `stampFromNs`: `sec·1e9 + nanosec` as a bigint, checked to fit int64. */
export function nsFromStamp(stamp: RosTime, source = 'nsFromStamp', field = 'stamp'): bigint {
  const { sec, nanosec } = stamp;
  if (!Number.isSafeInteger(sec)) {
    throw new InputError(source, `${field}.sec`, `must be an integer, got ${describe(sec)}`);
  }
  if (!Number.isInteger(nanosec) || nanosec < 0 || nanosec >= 1e9) {
    throw new InputError(
      source,
      `${field}.nanosec`,
      `must be an integer in [0, 1e9), got ${describe(nanosec)}`,
    );
  }
  const ns = BigInt(sec) * NS_PER_S + BigInt(nanosec);
  if (ns < INT64_MIN || ns > INT64_MAX) {
    throw new InputError(source, field, `is outside the int64 nanosecond range`);
  }
  return ns;
}

/**
 * A `builtin_interfaces/Time` for a message: non-negative, with `sec` inside int32 (stamps up
 * to 2038-01-19). A stamp the message cannot hold is refused rather than wrapped.
 */
export function rosTime(ns: bigint, source: string, field: string): RosTime {
  if (typeof ns !== 'bigint') {
    throw new InputError(source, field, `must be a bigint of nanoseconds, got ${describe(ns)}`);
  }
  if (ns < 0n) throw new InputError(source, field, `must not be negative, got ${ns} ns`);
  const t = ns > INT64_MAX ? undefined : stampFromNs(ns);
  if (t === undefined || t.sec > INT32_MAX) {
    throw new InputError(
      source,
      field,
      `${ns} ns does not fit builtin_interfaces/Time (int32 seconds, until 2038-01-19)`,
    );
  }
  return t;
}

/** A `builtin_interfaces/Duration` for a message: `sec` inside int32, `nanosec` in [0, 1e9). */
export function rosDuration(ns: bigint, source: string, field: string): RosDuration {
  if (typeof ns !== 'bigint') {
    throw new InputError(source, field, `must be a bigint of nanoseconds, got ${describe(ns)}`);
  }
  if (ns < INT64_MIN || ns > INT64_MAX) {
    throw new InputError(source, field, `must be an int64 of nanoseconds, got ${ns}`);
  }
  const t = stampFromNs(ns);
  if (t.sec < INT32_MIN || t.sec > INT32_MAX) {
    throw new InputError(
      source,
      field,
      `${ns} ns does not fit builtin_interfaces/Duration (int32 seconds)`,
    );
  }
  return t;
}

function describe(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'number') return String(value);
  return typeof value;
}

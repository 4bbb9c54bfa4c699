import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/contract/index.js';
import { nsFromStamp, rosDuration, rosTime, stampFromNs } from '../../src/ros/index.js';

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

describe('stampFromNs / nsFromStamp', () => {
  const cases: [bigint, number, number][] = [
    [0n, 0, 0],
    [1n, 0, 1],
    [999_999_999n, 0, 999_999_999],
    [1_000_000_000n, 1, 0],
    [1_767_225_600_123_456_789n, 1_767_225_600, 123_456_789],
    [INT64_MAX, 9_223_372_036, 854_775_807],
    [-1n, -1, 999_999_999],
    [-1_000_000_000n, -1, 0],
    [INT64_MIN, -9_223_372_037, 145_224_192],
  ];
  for (const [ns, sec, nanosec] of cases) {
    it(`${ns} ns ⇄ {sec: ${sec}, nanosec: ${nanosec}}`, () => {
      expect(stampFromNs(ns)).toEqual({ sec, nanosec });
      expect(nsFromStamp({ sec, nanosec })).toBe(ns);
    });
  }

  it('is exact at 2^63−1 ns, where a float64 is not', () => {
    expect(Number(INT64_MAX)).toBe(2 ** 63); // the float64 detour rounds up
    expect(nsFromStamp(stampFromNs(INT64_MAX))).toBe(INT64_MAX);
    expect(nsFromStamp(stampFromNs(INT64_MAX - 1n))).toBe(INT64_MAX - 1n);
  });

  it('round-trips every int64 exactly, with nanosec in [0, 1e9)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: INT64_MIN, max: INT64_MAX }), (ns) => {
        const t = stampFromNs(ns);
        return (
          t.nanosec >= 0 && t.nanosec < 1e9 && Number.isSafeInteger(t.sec) && nsFromStamp(t) === ns
        );
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses what is not an int64 or not a valid stamp', () => {
    expect(() => stampFromNs(INT64_MAX + 1n)).toThrow(InputError);
    expect(() => stampFromNs(INT64_MIN - 1n)).toThrow(InputError);
    expect(() => stampFromNs(1 as unknown as bigint)).toThrow(/must be an int64 bigint, got 1/);
    expect(() => nsFromStamp({ sec: 1, nanosec: 1e9 })).toThrow(
      /nanosec: must be an integer in \[0, 1e9\)/,
    );
    expect(() => nsFromStamp({ sec: 1, nanosec: -1 })).toThrow(InputError);
    expect(() => nsFromStamp({ sec: 1.5, nanosec: 0 })).toThrow(/sec: must be an integer/);
    expect(() => nsFromStamp({ sec: 9_223_372_036, nanosec: 854_775_808 })).toThrow(/int64/);
  });
});

describe('rosTime / rosDuration (what a message can hold)', () => {
  const lastTime = (2n ** 31n - 1n) * 1_000_000_000n + 999_999_999n;

  it('accepts stamps up to int32 seconds', () => {
    expect(rosTime(lastTime, 'T', 'stamp')).toEqual({ sec: 2 ** 31 - 1, nanosec: 999_999_999 });
    expect(rosTime(0n, 'T', 'stamp')).toEqual({ sec: 0, nanosec: 0 });
  });

  it('refuses stamps a builtin_interfaces/Time cannot hold instead of wrapping them', () => {
    expect(() => rosTime(lastTime + 1n, 'T', 'header.stamp')).toThrow(
      /^T: header\.stamp: 2147483648000000000 ns does not fit builtin_interfaces\/Time/,
    );
    expect(() => rosTime(INT64_MAX, 'T', 'stamp')).toThrow(InputError);
    expect(() => rosTime(-1n, 'T', 'stamp')).toThrow(/must not be negative/);
    expect(() => rosTime(5 as unknown as bigint, 'T', 'stamp')).toThrow(/must be a bigint/);
  });

  it('durations may be negative, within int32 seconds', () => {
    expect(rosDuration(-1n, 'D', 'd')).toEqual({ sec: -1, nanosec: 999_999_999 });
    expect(rosDuration(-(2n ** 31n) * 1_000_000_000n, 'D', 'd')).toEqual({
      sec: -(2 ** 31),
      nanosec: 0,
    });
    expect(() => rosDuration(-(2n ** 31n) * 1_000_000_000n - 1n, 'D', 'd')).toThrow(/Duration/);
  });
});

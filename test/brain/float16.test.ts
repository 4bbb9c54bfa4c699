import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHalfBits, toHalfBits } from '../../src/brain/float16.js';

describe('float16 conversion', () => {
  it('converts exactly representable values both ways', () => {
    const cases: [number, number][] = [
      [0, 0x0000],
      [1, 0x3c00],
      [-2, 0xc000],
      [65504, 0x7bff], // largest half
      [2 ** -14, 0x0400], // smallest normal
      [2 ** -24, 0x0001], // smallest subnormal
      [0.333251953125, 0x3555],
    ];
    for (const [value, bits] of cases) {
      expect(toHalfBits(value)).toBe(bits);
      expect(fromHalfBits(bits)).toBe(value);
    }
    expect(toHalfBits(-0)).toBe(0x8000);
  });

  it('overflows to infinity, underflows to zero and keeps NaN', () => {
    expect(toHalfBits(1e6)).toBe(0x7c00);
    expect(toHalfBits(-1e6)).toBe(0xfc00);
    expect(toHalfBits(2 ** -26)).toBe(0);
    expect(Number.isNaN(fromHalfBits(toHalfBits(Number.NaN)))).toBe(true);
    expect(fromHalfBits(0x7c00)).toBe(Number.POSITIVE_INFINITY);
  });

  it('rounds to the nearest half, ties to even', () => {
    // 1 + 2^-11 lies halfway between 1 and 1 + 2^-10: ties go to the even mantissa (1).
    expect(toHalfBits(1 + 2 ** -11)).toBe(0x3c00);
    expect(toHalfBits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(toHalfBits(1 + 2 ** -11 + 2 ** -20)).toBe(0x3c01);
  });

  it('round trips every half and picks the nearest half for any float', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const value = fromHalfBits(bits);
      if (Number.isNaN(value)) continue;
      expect(toHalfBits(value)).toBe(bits);
    }
    fc.assert(
      fc.property(fc.float({ min: -60000, max: 60000, noNaN: true }), (x) => {
        const back = fromHalfBits(toHalfBits(x));
        // No other half is nearer: the error is at most half a unit in the last place.
        const ulp = 2 ** (Math.max(Math.floor(Math.log2(Math.abs(x) || 2 ** -24)), -14) - 10);
        return Math.abs(back - x) <= ulp / 2 + 1e-12;
      }),
    );
  });
});

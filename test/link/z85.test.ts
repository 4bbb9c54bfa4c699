import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { curveKeyPair } from 'zeromq';
import { isCurveKey, z85Decode, z85Encode } from '../../src/link/index.js';

const ALPHABET =
  '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';

describe('Z85 (ZeroMQ RFC 32)', () => {
  const helloBytes = new Uint8Array([0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b]);

  it('encodes the RFC test vector to "HelloWorld"', () => {
    expect(z85Encode(helloBytes)).toBe('HelloWorld');
  });

  it('decodes "HelloWorld" to the RFC test vector', () => {
    expect(Array.from(z85Decode('HelloWorld'))).toEqual(Array.from(helloBytes));
  });

  it('maps the extremes of a group to the ends of the alphabet', () => {
    expect(z85Encode(new Uint8Array(4))).toBe('00000');
    expect(z85Encode(new Uint8Array([0xff, 0xff, 0xff, 0xff]))).toBe('%nSc0');
    expect(Array.from(z85Decode('%nSc0'))).toEqual([0xff, 0xff, 0xff, 0xff]);
    // Big-endian: the last byte is the least significant digit.
    expect(z85Encode(new Uint8Array([0, 0, 0, 1]))).toBe('00001');
    expect(z85Encode(new Uint8Array([0, 0, 0, 85]))).toBe('00010');
  });

  it('encodes the empty input as the empty string and back', () => {
    expect(z85Encode(new Uint8Array(0))).toBe('');
    expect(z85Decode('')).toHaveLength(0);
  });

  it('round-trips random 32-byte keys', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (bytes) => {
        const text = z85Encode(bytes);
        expect(text).toHaveLength(40);
        for (const ch of text) expect(ALPHABET).toContain(ch);
        expect(Array.from(z85Decode(text))).toEqual(Array.from(bytes));
      }),
      { numRuns: 500 },
    );
  });

  it('round-trips any alphabet text whose groups fit in 32 bits', () => {
    const group = fc
      .array(fc.constantFrom(...ALPHABET), { minLength: 5, maxLength: 5 })
      .map((chars) => chars.join(''))
      .filter((g) => [...g].reduce((v, ch) => v * 85 + ALPHABET.indexOf(ch), 0) <= 0xffffffff);
    fc.assert(
      fc.property(fc.array(group, { minLength: 1, maxLength: 8 }), (groups) => {
        const text = groups.join('');
        expect(z85Encode(z85Decode(text))).toBe(text);
      }),
    );
  });

  it('rejects text whose length is not a multiple of 5', () => {
    for (const text of ['H', 'Hell', 'HelloW', 'HelloWorl', 'HelloWorld!']) {
      expect(() => z85Decode(text), text).toThrow(RangeError);
    }
  });

  it('rejects bytes whose length is not a multiple of 4', () => {
    for (const n of [1, 2, 3, 5, 31, 33]) {
      expect(() => z85Encode(new Uint8Array(n)), String(n)).toThrow(RangeError);
    }
  });

  it('rejects characters outside the alphabet', () => {
    for (const bad of [' ', '"', "'", ',', ';', '\\', '_', '`', '|', '~', '\u00e9', '\u0000']) {
      const text = `Hell${bad}World`;
      expect(() => z85Decode(text), JSON.stringify(bad)).toThrow(/not a Z85 character/);
    }
  });

  it('rejects a group that overflows 32 bits', () => {
    // '%nSc0' is 0xffffffff; '%nSc1' is one more.
    expect(() => z85Decode('%nSc1')).toThrow(RangeError);
    expect(() => z85Decode('#####')).toThrow(RangeError);
  });
});

describe('isCurveKey', () => {
  it('accepts keys from libzmq', () => {
    const { publicKey, secretKey } = curveKeyPair();
    expect(isCurveKey(publicKey)).toBe(true);
    expect(isCurveKey(secretKey)).toBe(true);
  });

  it('accepts any encoded 32-byte key', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (bytes) => {
        expect(isCurveKey(z85Encode(bytes))).toBe(true);
      }),
    );
  });

  it('rejects strings that are not 40 Z85 characters', () => {
    const key = curveKeyPair().publicKey;
    const bad = [
      '',
      'HelloWorld',
      key.slice(0, 35),
      key.slice(0, 39),
      `${key}0`,
      `${key}00000`,
      `${key.slice(0, 39)} `,
      `${key.slice(0, 39)}_`,
      `"${key.slice(0, 38)}"`,
      '#'.repeat(40),
    ];
    for (const text of bad) expect(isCurveKey(text), JSON.stringify(text)).toBe(false);
  });
});

describe('agreement with libzmq', () => {
  it("decodes libzmq's keys to 32 bytes that re-encode to the same text", () => {
    for (let i = 0; i < 50; i++) {
      const { publicKey, secretKey } = curveKeyPair();
      for (const key of [publicKey, secretKey]) {
        const bytes = z85Decode(key);
        expect(bytes).toHaveLength(32);
        expect(z85Encode(bytes)).toBe(key);
      }
    }
  });
});

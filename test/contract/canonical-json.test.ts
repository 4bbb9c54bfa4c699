import { describe, expect, it } from 'vitest';
import { canonicalJson, sha256Hex } from '../../src/contract/index.js';

describe('canonicalJson', () => {
  it('sorts keys, so key order does not matter', () => {
    expect(canonicalJson({ b: 1, a: 2, c: 3 })).toBe('{"a":2,"b":1,"c":3}');
    expect(canonicalJson({ c: 3, a: 2, b: 1 })).toBe(canonicalJson({ a: 2, b: 1, c: 3 }));
  });

  it('sorts nested objects, including inside arrays, and keeps array order', () => {
    const one = {
      z: [
        { y: 1, x: [3, 2, 1] },
        { b: null, a: true },
      ],
      m: { q: 's', p: { k: 0, j: -1 } },
    };
    const two = {
      m: { p: { j: -1, k: 0 }, q: 's' },
      z: [
        { x: [3, 2, 1], y: 1 },
        { a: true, b: null },
      ],
    };
    const text = '{"m":{"p":{"j":-1,"k":0},"q":"s"},"z":[{"x":[3,2,1],"y":1},{"a":true,"b":null}]}';
    expect(canonicalJson(one)).toBe(text);
    expect(canonicalJson(two)).toBe(text);
    expect(canonicalJson([2, 1])).not.toBe(canonicalJson([1, 2]));
  });

  it('orders keys by UTF-16 code units, as RFC 8785 does', () => {
    // U+1F600 is a surrogate pair starting 0xD83D, which sorts before U+FFFF and after 'é'.
    expect(canonicalJson({ '\uffff': 1, '😀': 2, é: 3, Z: 4, a: 5, '': 6 })).toBe(
      '{"":6,"Z":4,"a":5,"é":3,"😀":2,"\uffff":1}',
    );
  });

  it('writes numbers in their shortest round-trip form, without whitespace', () => {
    expect(canonicalJson({ a: [0.1, 1e21, 1e-7, 5e-324, -0, 2.6, 100] })).toBe(
      '{"a":[0.1,1e+21,1e-7,5e-324,0,2.6,100]}',
    );
    expect(canonicalJson('quote " and \n')).toBe('"quote \\" and \\n"');
  });

  it('drops undefined members as JSON does', () => {
    expect(canonicalJson({ a: 1, b: undefined })).toBe('{"a":1}');
  });

  it('rejects NaN and infinities wherever they are', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expect(() => canonicalJson(bad)).toThrow(TypeError);
      expect(() => canonicalJson({ a: { b: [1, bad] } })).toThrow(/cannot hold/);
    }
  });

  it('rejects values JSON has no form for', () => {
    expect(() => canonicalJson({ f: () => 1 })).toThrow(TypeError);
    expect(() => canonicalJson({ n: 1n })).toThrow(TypeError);
  });
});

describe('sha256Hex', () => {
  it('hashes UTF-8 text to lowercase hex', () => {
    expect(sha256Hex('abc')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    expect(sha256Hex(canonicalJson({ b: 1, a: 2 }))).toBe(sha256Hex('{"a":2,"b":1}'));
  });
});

import { unpack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import {
  DTYPES,
  type Dtype,
  dtypeOf,
  type NdTypedArray,
  readNdarray,
  toNdarray,
  WireError,
} from '../../src/wire/index.js';
import { plainPack } from './samples.js';

const samples: [Dtype, NdTypedArray][] = [
  ['<u4', new Uint32Array([0, 1, 0xffff_ffff, 123_456])],
  ['<f8', new Float64Array([0, -0, Math.PI, -1e308, 5e-324, Number.NaN])],
  ['<f4', new Float32Array([0, 1.5, -2.25, 3.4e38])],
  ['|u1', new Uint8Array([0, 1, 255, 7])],
  ['<i4', new Int32Array([0, -1, 0x7fff_ffff, -0x8000_0000])],
  ['<u2', new Uint16Array([0, 1, 0xffff, 513])],
];

/** What msgpackr hands back: the map decoded from plain MessagePack, data a Buffer slice. */
function overTheWire(value: unknown): unknown {
  return unpack(plainPack(value));
}

function refused(fn: () => unknown): WireError {
  try {
    fn();
  } catch (err) {
    if (err instanceof WireError) return err;
    throw err;
  }
  throw new Error('did not throw');
}

describe('toNdarray / readNdarray', () => {
  it('covers every dtype', () => {
    expect(samples.map(([d]) => d).sort()).toEqual([...DTYPES].sort());
  });

  it.each(samples)('%s round trips through MessagePack', (dtype, typed) => {
    expect(dtypeOf(typed)).toBe(dtype);
    const map = toNdarray(typed);
    expect(Object.keys(map)).toEqual(['__ndarray__', 'data', 'dtype', 'shape']);
    expect(map).toMatchObject({ __ndarray__: true, dtype, shape: [typed.length] });
    expect(map.data.byteLength).toBe(typed.byteLength);
    const back = readNdarray(overTheWire(map), dtype, 'test', 'x', 1);
    expect(back.constructor).toBe(typed.constructor);
    expect(back).toEqual(typed);
  });

  it('a Buffer is written as |u1 and read back as a plain Uint8Array', () => {
    const map = toNdarray(Buffer.from([1, 2, 3]));
    expect(map.dtype).toBe('|u1');
    const back = readNdarray(overTheWire(map), '|u1', 'test', 'x');
    expect(back.constructor).toBe(Uint8Array);
    expect([...back]).toEqual([1, 2, 3]);
  });

  it('n-d shapes, including zero-sized and 0-d', () => {
    const image = new Uint8Array(2 * 3 * 4).map((_, i) => i);
    const map = toNdarray(image, [2, 3, 4]);
    const wire = overTheWire(map) as { shape: number[] };
    expect(readNdarray(wire, '|u1', 'test', 'image', 3)).toEqual(image);
    expect(wire.shape).toEqual([2, 3, 4]);
    expect(
      readNdarray(overTheWire(toNdarray(new Float64Array(0), [5, 0])), '<f8', 't', 'f'),
    ).toEqual(new Float64Array(0));
    expect(readNdarray(overTheWire(toNdarray(new Int32Array([9]), [])), '<i4', 't', 'f')).toEqual(
      new Int32Array([9]),
    );
  });

  it('views a subarray without copying it', () => {
    const big = new Float64Array([1, 2, 3, 4, 5]);
    const map = toNdarray(big.subarray(1, 4));
    expect(map.data.buffer).toBe(big.buffer);
    expect(map.data.byteOffset).toBe(8);
    expect(readNdarray(overTheWire(map), '<f8', 't', 'f')).toEqual(new Float64Array([2, 3, 4]));
  });

  it.each(samples.filter(([d]) => d !== '|u1'))(
    '%s at every misaligned offset is copied into an aligned array',
    (dtype, typed) => {
      const bytes = new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
      for (let offset = 0; offset < 8; offset++) {
        const host = new Uint8Array(bytes.length + offset);
        host.set(bytes, offset);
        const map = {
          __ndarray__: true,
          data: host.subarray(offset),
          dtype,
          shape: [typed.length],
        };
        const back = readNdarray(map, dtype, 't', 'f');
        expect(back).toEqual(typed);
        expect(back.byteOffset % typed.BYTES_PER_ELEMENT).toBe(0);
        expect(back.buffer === host.buffer).toBe(offset % typed.BYTES_PER_ELEMENT === 0);
      }
    },
  );

  it('toNdarray refuses misuse with TypeError / RangeError', () => {
    expect(() => toNdarray(new Int8Array(2) as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => toNdarray(new BigInt64Array(2) as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => toNdarray(new Uint8Array(6), [4, 2])).toThrow(RangeError);
    expect(() => toNdarray(new Uint8Array(6), [-2, -3])).toThrow(RangeError);
    expect(() => toNdarray(new Uint8Array(6), [2.5, 2])).toThrow(RangeError);
  });
});

describe('readNdarray is strict', () => {
  const good = () =>
    ({ ...(toNdarray(new Float64Array([1, 2])) as object) }) as Record<string, unknown>;
  const cases: [string, () => unknown, string, string][] = [
    ['not a map', () => [1, 2], 'type', 'f'],
    ['a Map object', () => new Map(), 'type', 'f'],
    [
      'missing data, extra key',
      () => ({ ...good(), data: undefined, __x: 1 }),
      'missing_field',
      'f.data',
    ],
    ['extra key', () => ({ ...good(), fortran_order: false }), 'extra_field', 'f.fortran_order'],
    ['__ndarray__ 1', () => ({ ...good(), __ndarray__: 1 }), 'type', 'f.__ndarray__'],
    ['dtype bin', () => ({ ...good(), dtype: Buffer.from('<f8') }), 'type', 'f.dtype'],
    ['big-endian', () => ({ ...good(), dtype: '>f8' }), 'dtype', 'f.dtype'],
    ['other dtype', () => ({ ...good(), dtype: '<f4' }), 'dtype', 'f.dtype'],
    ['object dtype', () => ({ ...good(), dtype: '|O' }), 'dtype', 'f.dtype'],
    ['data as list', () => ({ ...good(), data: [1, 2] }), 'type', 'f.data'],
    ['data as str', () => ({ ...good(), data: 'ab' }), 'type', 'f.data'],
    ['shape as tuple str', () => ({ ...good(), shape: '(2,)' }), 'shape', 'f.shape'],
    ['wrong rank', () => ({ ...good(), shape: [1, 2] }), 'shape', 'f.shape'],
    ['shape too big', () => ({ ...good(), shape: [3] }), 'shape', 'f.shape'],
    ['shape too small', () => ({ ...good(), shape: [1] }), 'shape', 'f.shape'],
    ['negative', () => ({ ...good(), shape: [-2] }), 'shape', 'f.shape[0]'],
    ['float dim', () => ({ ...good(), shape: [2.0000001] }), 'shape', 'f.shape[0]'],
    ['bigint dim', () => ({ ...good(), shape: [2n] }), 'shape', 'f.shape[0]'],
    ['str dim', () => ({ ...good(), shape: ['2'] }), 'shape', 'f.shape[0]'],
    ['ragged bytes', () => ({ ...good(), data: new Uint8Array(15) }), 'shape', 'f.shape'],
  ];
  it.each(cases)('%s', (_name, make, code, field) => {
    const value = make();
    if (
      typeof value === 'object' &&
      value !== null &&
      'data' in value &&
      value.data === undefined
    ) {
      delete (value as { data?: unknown }).data;
    }
    const err = refused(() => readNdarray(value, '<f8', 'src', 'f', 1));
    expect({ code: err.code, field: err.field, source: err.source }).toEqual({
      code,
      field,
      source: 'src',
    });
  });

  it('missing key', () => {
    const value = good();
    delete value.shape;
    const err = refused(() => readNdarray(value, '<f8', 'src', 'f'));
    expect({ code: err.code, field: err.field }).toEqual({
      code: 'missing_field',
      field: 'f.shape',
    });
  });

  it('maxElements', () => {
    const err = refused(() => readNdarray(good(), '<f8', 'src', 'f', 1, 1));
    expect({ code: err.code, field: err.field }).toEqual({ code: 'oversize', field: 'f' });
    expect(readNdarray(good(), '<f8', 'src', 'f', 1, 2).length).toBe(2);
  });
});

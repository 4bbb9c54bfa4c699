import { describe, isPlainObject, show } from './describe.js';
import { WireError } from './errors.js';

/**
 * openpi's msgpack-numpy convention for n-d arrays: a map of exactly four keys,
 * `{"__ndarray__": true, "data": <bin>, "dtype": <numpy dtype.str>, "shape": [..]}`,
 * where `data` is the C-order bytes (`ndarray.tobytes()`). Python reads one back with
 * `np.frombuffer(m["data"], dtype=m["dtype"]).reshape(m["shape"])`.
 *
 * openpi's own `msgpack_numpy.py` writes these four keys as *bytes* (`b"__ndarray__"`,
 * MessagePack bin); pons writes them as str, which every MessagePack library reads as a
 * plain string-keyed map, and reads either (see msgpack-read.ts).
 */

/** The dtypes pons reads and writes, spelled as numpy's `dtype.str` on a little-endian host. */
export const DTYPES = ['<u4', '<f8', '<f4', '|u1', '<i4', '<u2'] as const;
export type Dtype = (typeof DTYPES)[number];

/** The typed array each dtype becomes. */
export interface DtypeArrays {
  '<u4': Uint32Array;
  '<f8': Float64Array;
  '<f4': Float32Array;
  '|u1': Uint8Array;
  '<i4': Int32Array;
  '<u2': Uint16Array;
}
export type NdTypedArray = DtypeArrays[Dtype];

/** The map as it sits in a packet. */
export interface NdarrayMap {
  __ndarray__: true;
  data: Uint8Array;
  dtype: Dtype;
  shape: number[];
}

export const NDARRAY_KEYS = ['__ndarray__', 'data', 'dtype', 'shape'] as const;

const ITEM_SIZE: Readonly<Record<Dtype, number>> = {
  '<u4': 4,
  '<f8': 8,
  '<f4': 4,
  '|u1': 1,
  '<i4': 4,
  '<u2': 2,
};

// Typed arrays use the host's byte order, and every dtype above is little-endian.
if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error('pons wire needs a little-endian host: n-d arrays are read as host-order views');
}

/** The dtype a typed array is written as, or undefined for a kind pons does not carry. */
export function dtypeOf(typed: ArrayBufferView): Dtype | undefined {
  if (typed instanceof Uint32Array) return '<u4';
  if (typed instanceof Float64Array) return '<f8';
  if (typed instanceof Float32Array) return '<f4';
  if (typed instanceof Uint8Array) return '|u1';
  if (typed instanceof Int32Array) return '<i4';
  if (typed instanceof Uint16Array) return '<u2';
  return undefined;
}

/**
 * Wraps a typed array as an n-d array map (shape defaults to 1-D). `data` is a byte view of
 * the same memory, not a copy: pack it before changing the array. Misuse (an unsupported
 * array kind, a shape that does not match the length) is a programming error and throws
 * TypeError / RangeError.
 */
export function toNdarray(typed: NdTypedArray, shape?: readonly number[]): NdarrayMap {
  const dtype = dtypeOf(typed);
  if (dtype === undefined) {
    throw new TypeError(`toNdarray: unsupported array type ${describe(typed)}`);
  }
  let dims: number[];
  if (shape === undefined) {
    dims = [typed.length];
  } else {
    let count = 1;
    for (const n of shape) {
      if (!Number.isSafeInteger(n) || n < 0) {
        throw new RangeError(
          `toNdarray: shape [${shape.join(', ')}] must hold non-negative integers`,
        );
      }
      count *= n;
    }
    if (count !== typed.length) {
      throw new RangeError(
        `toNdarray: shape [${shape.join(', ')}] holds ${count} elements, the array ${typed.length}`,
      );
    }
    dims = [...shape];
  }
  const data =
    typed instanceof Uint8Array
      ? typed
      : new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
  return { __ndarray__: true, data, dtype, shape: dims };
}

/**
 * Reads an n-d array map strictly: exactly the four keys, `__ndarray__: true`, `dtype` equal to
 * `expectedDtype`, `shape` a list of non-negative integers (of length `ndim` when given) whose
 * product × item size is the data's byte length, at most `maxElements` elements when given.
 *
 * Returns a typed array of the expected kind. It views `data`'s memory (and so the decoded
 * packet's bytes) when `data` is aligned for the item size, and copies otherwise. The shape is
 * `value.shape`, checked, once this returns. Throws {@link WireError} naming `field`.
 */
export function readNdarray<D extends Dtype>(
  value: unknown,
  expectedDtype: D,
  source: string,
  field: string,
  ndim?: number,
  maxElements?: number,
): DtypeArrays[D] {
  if (!isPlainObject(value)) {
    throw new WireError('type', source, field, `is ${describe(value)}, must be an n-d array map`);
  }
  for (const key of NDARRAY_KEYS) {
    if (!Object.hasOwn(value, key)) {
      throw new WireError('missing_field', source, `${field}.${key}`, 'is missing');
    }
  }
  let keys = 0;
  for (const _ in value) keys++;
  if (keys !== NDARRAY_KEYS.length) {
    for (const key in value) {
      if (key !== '__ndarray__' && key !== 'data' && key !== 'dtype' && key !== 'shape') {
        const name = key.length > 64 ? `${key.slice(0, 64)}…` : key;
        throw new WireError('extra_field', source, `${field}.${name}`, 'is not an n-d array key');
      }
    }
  }
  if (value.__ndarray__ !== true) {
    throw new WireError('type', source, `${field}.__ndarray__`, 'must be true');
  }
  const dtype = value.dtype;
  if (typeof dtype !== 'string') {
    throw new WireError('type', source, `${field}.dtype`, `is ${describe(dtype)}, must be a str`);
  }
  if (dtype !== expectedDtype) {
    const reason = dtype.startsWith('>')
      ? `is big-endian ${show(dtype)}; pons reads little-endian only, here ${expectedDtype}`
      : `is ${show(dtype)}, must be ${expectedDtype}`;
    throw new WireError('dtype', source, `${field}.dtype`, reason);
  }
  const data = value.data;
  if (!(data instanceof Uint8Array)) {
    throw new WireError('type', source, `${field}.data`, `is ${describe(data)}, must be bin`);
  }
  const shape = value.shape;
  if (!Array.isArray(shape)) {
    throw new WireError('shape', source, `${field}.shape`, `is ${describe(shape)}, must be a list`);
  }
  if (ndim !== undefined && shape.length !== ndim) {
    throw new WireError(
      'shape',
      source,
      `${field}.shape`,
      `has ${shape.length} dimensions, must have ${ndim}`,
    );
  }
  const itemSize = ITEM_SIZE[expectedDtype];
  let count = 1;
  for (let i = 0; i < shape.length; i++) {
    const n: unknown = shape[i];
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
      throw new WireError(
        'shape',
        source,
        `${field}.shape[${i}]`,
        `is ${show(n)}, must be a non-negative integer`,
      );
    }
    // A float product: past 2^53 it is inexact (even Infinity), but then it is far past any
    // data length too. A zero dimension makes it exactly 0 whatever came before.
    count = n === 0 || count === 0 ? 0 : count * n;
  }
  const need = count * itemSize;
  if (need !== data.byteLength) {
    const dims = shape.length <= 8 ? `[${shape.join(', ')}]` : `${shape.length}-d`;
    const bytes = Number.isSafeInteger(need) ? String(need) : 'more than 2^53';
    throw new WireError(
      'shape',
      source,
      `${field}.shape`,
      `${dims} of ${expectedDtype} needs ${bytes} bytes, data has ${data.byteLength}`,
    );
  }
  if (maxElements !== undefined && count > maxElements) {
    throw new WireError(
      'oversize',
      source,
      field,
      `holds ${count} elements, the limit is ${maxElements}`,
    );
  }
  return view(data, expectedDtype, count) as DtypeArrays[D];
}

function view(data: Uint8Array, dtype: Dtype, count: number): NdTypedArray {
  let bytes = data;
  if (data.byteOffset % ITEM_SIZE[dtype] !== 0) {
    bytes = new Uint8Array(data.byteLength);
    bytes.set(data);
  }
  const { buffer, byteOffset } = bytes;
  switch (dtype) {
    case '<u4':
      return new Uint32Array(buffer, byteOffset, count);
    case '<f8':
      return new Float64Array(buffer, byteOffset, count);
    case '<f4':
      return new Float32Array(buffer, byteOffset, count);
    case '|u1':
      // A plain Uint8Array even when msgpackr handed back a Buffer.
      return new Uint8Array(buffer, byteOffset, count);
    case '<i4':
      return new Int32Array(buffer, byteOffset, count);
    case '<u2':
      return new Uint16Array(buffer, byteOffset, count);
  }
}

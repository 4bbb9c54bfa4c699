import { WireError } from './errors.js';

/**
 * A strict MessagePack reader for packets: one pass over the bytes that checks and builds
 * at once. Only plain, cross-language MessagePack is accepted: no extension types (so no
 * msgpackr records, typed arrays, dates…), str (or UTF-8 bin) map keys only, no repeated keys, valid
 * UTF-8, nesting and value counts bounded, every declared length checked against the bytes
 * present, nothing after the value. A general decoder (msgpackr) accepts far more, and its
 * larger code costs tens of microseconds when a packet arrives at an idle CPU; this one
 * reads exactly what a packet may hold.
 *
 * int 64/uint 64 become bigint (stamps); smaller integers and floats become numbers; bin
 * becomes a Uint8Array viewing `bytes`; maps become plain objects.
 */

/** Containers nested deeper than this are refused (a v1 packet needs 3). */
const MAX_DEPTH = 8;
/** Values (keys included) in one packet; a v1 packet holds well under 200. */
const MAX_VALUES = 4096;

const utf8 = new TextDecoder('utf-8', { fatal: true });

class Reader {
  pos = 0;
  values = 0;
  readonly view: DataView;

  constructor(
    readonly bytes: Uint8Array,
    readonly source: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  fail(reason: string): never {
    throw new WireError('msgpack', this.source, '', `is not plain MessagePack: ${reason}`);
  }

  /** Advances over `n` bytes, returning where they start. */
  take(n: number, at: number): number {
    const start = this.pos;
    if (n > this.bytes.length - start) {
      this.fail(`declares ${n} bytes at byte ${at}, has ${this.bytes.length - start}`);
    }
    this.pos = start + n;
    return start;
  }

  length(size: 1 | 2 | 4, at: number): number {
    const p = this.take(size, at);
    return size === 1
      ? (this.view.getUint8(p) as number)
      : size === 2
        ? this.view.getUint16(p)
        : this.view.getUint32(p);
  }

  str(n: number, at: number): string {
    const start = this.take(n, at);
    const end = start + n;
    const b = this.bytes;
    // Short ASCII strings (keys, kinds) are cheapest built directly; the rest go through
    // TextDecoder, which also refuses invalid UTF-8.
    let ascii = n <= 16;
    for (let i = start; ascii && i < end; i++) ascii = (b[i] as number) < 0x80;
    if (ascii) {
      let s = '';
      for (let i = start; i < end; i++) s += String.fromCharCode(b[i] as number);
      return s;
    }
    try {
      return utf8.decode(b.subarray(start, end));
    } catch {
      return this.fail(`holds a str that is not UTF-8 at byte ${at}`);
    }
  }

  value(depth: number): unknown {
    if (++this.values > MAX_VALUES) this.fail(`holds more than ${MAX_VALUES} values`);
    const at = this.pos;
    if (at >= this.bytes.length) this.fail(`ends early at byte ${at}`);
    const b = this.bytes[this.pos++] as number;
    if (b <= 0x7f) return b;
    if (b >= 0xe0) return b - 0x100;
    if (b <= 0x8f) return this.map(b & 0x0f, depth, at);
    if (b <= 0x9f) return this.array(b & 0x0f, depth, at);
    if (b <= 0xbf) return this.str(b & 0x1f, at);
    const v = this.view;
    switch (b) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xc4:
      case 0xc5:
      case 0xc6: {
        const n = this.length((1 << (b - 0xc4)) as 1 | 2 | 4, at);
        const start = this.take(n, at);
        return this.bytes.subarray(start, start + n);
      }
      case 0xca:
        return v.getFloat32(this.take(4, at));
      case 0xcb:
        return v.getFloat64(this.take(8, at));
      case 0xcc:
        return v.getUint8(this.take(1, at));
      case 0xcd:
        return v.getUint16(this.take(2, at));
      case 0xce:
        return v.getUint32(this.take(4, at));
      case 0xcf:
        return v.getBigUint64(this.take(8, at));
      case 0xd0:
        return v.getInt8(this.take(1, at));
      case 0xd1:
        return v.getInt16(this.take(2, at));
      case 0xd2:
        return v.getInt32(this.take(4, at));
      case 0xd3:
        return v.getBigInt64(this.take(8, at));
      case 0xd9:
        return this.str(this.length(1, at), at);
      case 0xda:
        return this.str(this.length(2, at), at);
      case 0xdb:
        return this.str(this.length(4, at), at);
      case 0xdc:
        return this.array(this.length(2, at), depth, at);
      case 0xdd:
        return this.array(this.length(4, at), depth, at);
      case 0xde:
        return this.map(this.length(2, at), depth, at);
      case 0xdf:
        return this.map(this.length(4, at), depth, at);
      case 0xc1:
        return this.fail(`uses the reserved byte 0xc1 at byte ${at}`);
      default:
        return this.fail(`uses a MessagePack extension type (0x${b.toString(16)}) at byte ${at}`);
    }
  }

  array(n: number, depth: number, at: number): unknown[] {
    this.enter(n, 1, depth, at, 'list items');
    const out = new Array<unknown>(n);
    for (let i = 0; i < n; i++) out[i] = this.value(depth + 1);
    return out;
  }

  map(n: number, depth: number, at: number): Record<string, unknown> {
    this.enter(n, 2, depth, at, 'map entries');
    const out: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
      const keyAt = this.pos;
      const b = keyAt < this.bytes.length ? (this.bytes[keyAt] as number) : -1;
      let key: string;
      if (b >= 0xa0 && b <= 0xbf) {
        this.pos++;
        key = this.str(b & 0x1f, keyAt);
      } else if (b >= 0xd9 && b <= 0xdb) {
        this.pos++;
        key = this.str(this.length((1 << (b - 0xd9)) as 1 | 2 | 4, keyAt), keyAt);
      } else if (b >= 0xc4 && b <= 0xc6) {
        // openpi's msgpack_numpy writes its n-d array keys as bytes (b"__ndarray__", …):
        // a bin key is read as its UTF-8 text, so such peers are understood as they are.
        this.pos++;
        key = this.str(this.length((1 << (b - 0xc4)) as 1 | 2 | 4, keyAt), keyAt);
      } else {
        return this.fail(
          `has a map key at byte ${keyAt} that is ${b < 0 ? 'missing' : 'not a str'}, must be a str`,
        );
      }
      this.values++;
      if (Object.hasOwn(out, key)) {
        this.fail(`repeats the map key ${JSON.stringify(key.slice(0, 40))} at byte ${keyAt}`);
      }
      const item = this.value(depth + 1);
      // A `__proto__` key stays an ordinary (and, for packets, extra) field.
      if (key === '__proto__') {
        Object.defineProperty(out, key, {
          value: item,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      } else out[key] = item;
    }
    return out;
  }

  /** Refuses a container before building it if it is too deep or longer than the bytes left. */
  enter(n: number, minBytesEach: number, depth: number, at: number, what: string): void {
    if (depth >= MAX_DEPTH) this.fail(`nests deeper than ${MAX_DEPTH} levels at byte ${at}`);
    if (n * minBytesEach > this.bytes.length - this.pos) {
      this.fail(
        `declares ${n} ${what} at byte ${at}, has ${this.bytes.length - this.pos} bytes left`,
      );
    }
  }
}

/** Reads exactly one plain MessagePack value from `bytes`; throws WireError('msgpack'). */
export function readMsgpack(bytes: Uint8Array, source: string): unknown {
  const reader = new Reader(bytes, source);
  const value = reader.value(0);
  if (reader.pos !== bytes.length)
    reader.fail(`has ${bytes.length - reader.pos} bytes after the packet`);
  return value;
}

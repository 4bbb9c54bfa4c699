import { isUtf8 } from 'node:buffer';
import { WireError } from './errors.js';

/**
 * A structural pass over MessagePack bytes, run before msgpackr builds any value.
 *
 * msgpackr decodes more than standard MessagePack: its own record extension (0xd4 0x72 …),
 * typed arrays, bigints, Sets, Errors, RegExps, Dates and structured-clone references arrive as
 * extension types; non-str map keys are stringified (`{1: x}` becomes `{"1": x}`); repeated keys
 * silently keep the last value; invalid UTF-8 turns into U+FFFD. A v1 packet is plain
 * cross-language MessagePack, so this pass refuses all of that, and also bounds nesting depth,
 * the number of values, and every declared length against the bytes actually present (a
 * 4-byte "array of 2^32 items" costs nothing here).
 *
 * Allocation-free except for a subarray when a string holds non-ASCII bytes.
 */

/** Containers nested deeper than this are refused (a v1 packet needs 3). */
export const MAX_DEPTH = 8;
/** Values (keys included) in one packet; a v1 packet holds well under 200. */
export const MAX_VALUES = 4096;
/** Keys per map checked for repeats; larger maps fail validation anyway (at most 32 in v1). */
const TRACKED_KEYS = 64;

// Scratch state, reused: decoding is synchronous and never re-entrant.
const remaining = new Float64Array(MAX_DEPTH + 1);
const mapFrame = new Uint8Array(MAX_DEPTH + 1);
const keyCount = new Int32Array(MAX_DEPTH + 1);
const keyStart = new Int32Array((MAX_DEPTH + 1) * TRACKED_KEYS);
const keyEnd = new Int32Array((MAX_DEPTH + 1) * TRACKED_KEYS);

const NONE = 0;
const ARRAY = 1;
const MAP = 2;
const STR = 3;

/** Throws WireError('msgpack') unless `bytes` is exactly one plain MessagePack value. */
export function scanMsgpack(bytes: Uint8Array, source: string): void {
  const end = bytes.length;
  let pos = 0;
  let depth = 0;
  let values = 0;
  let started = false;
  for (;;) {
    while (depth > 0 && remaining[depth] === 0) depth--;
    if (depth === 0 && started) break;
    started = true;
    const isKey = depth > 0 && mapFrame[depth] === 1 && (remaining[depth] as number) % 2 === 0;
    if (depth > 0) (remaining[depth] as number)--;
    if (pos >= end) fail(source, `ends early at byte ${pos}`);
    if (++values > MAX_VALUES) fail(source, `holds more than ${MAX_VALUES} values`);
    const at = pos;
    const b = bytes[pos++] as number;
    let kind = NONE;
    let length = 0;
    if (b <= 0x7f || b >= 0xe0) {
      // positive / negative fixint
    } else if (b <= 0x8f) {
      kind = MAP;
      length = b & 0x0f;
    } else if (b <= 0x9f) {
      kind = ARRAY;
      length = b & 0x0f;
    } else if (b <= 0xbf) {
      kind = STR;
      length = b & 0x1f;
    } else {
      let lengthBytes = 0;
      switch (b) {
        case 0xc0: // nil
        case 0xc2: // false
        case 0xc3: // true
          break;
        case 0xc1:
          fail(source, `uses the reserved byte 0xc1 at byte ${at}`);
          break;
        case 0xc4: // bin 8/16/32: a payload to skip
        case 0xc5:
        case 0xc6:
          lengthBytes = 1 << (b - 0xc4);
          length = readLength(bytes, pos, lengthBytes, source);
          pos += lengthBytes;
          if (isKey) fail(source, keyReason(at, 'bin'));
          if (length > end - pos)
            fail(source, `declares ${length} bin bytes at byte ${at}, has ${end - pos}`);
          pos += length;
          break;
        case 0xc7: // ext 8/16/32
        case 0xc8:
        case 0xc9:
        case 0xd4: // fixext 1/2/4/8/16
        case 0xd5:
        case 0xd6:
        case 0xd7:
        case 0xd8:
          fail(source, `uses a MessagePack extension type (0x${b.toString(16)}) at byte ${at}`);
          break;
        case 0xca: // float 32
        case 0xce: // uint 32
        case 0xd2: // int 32
          pos += 4;
          break;
        case 0xcb: // float 64
        case 0xcf: // uint 64
        case 0xd3: // int 64
          pos += 8;
          break;
        case 0xcc: // uint 8
        case 0xd0: // int 8
          pos += 1;
          break;
        case 0xcd: // uint 16
        case 0xd1: // int 16
          pos += 2;
          break;
        case 0xd9: // str 8/16/32
        case 0xda:
        case 0xdb:
          lengthBytes = 1 << (b - 0xd9);
          kind = STR;
          length = readLength(bytes, pos, lengthBytes, source);
          pos += lengthBytes;
          break;
        case 0xdc: // array 16/32
        case 0xdd:
          lengthBytes = b === 0xdc ? 2 : 4;
          kind = ARRAY;
          length = readLength(bytes, pos, lengthBytes, source);
          pos += lengthBytes;
          break;
        case 0xde: // map 16/32
        case 0xdf:
          lengthBytes = b === 0xde ? 2 : 4;
          kind = MAP;
          length = readLength(bytes, pos, lengthBytes, source);
          pos += lengthBytes;
          break;
      }
      if (pos > end) fail(source, `ends early at byte ${end} inside the value at byte ${at}`);
    }
    if (kind === STR) {
      if (length > end - pos)
        fail(source, `declares a str of ${length} bytes at byte ${at}, has ${end - pos}`);
      const start = pos;
      pos += length;
      if (!utf8(bytes, start, pos)) fail(source, `holds a str that is not UTF-8 at byte ${at}`);
      if (isKey) checkRepeat(bytes, depth, start, pos, source);
    } else if (isKey) {
      fail(source, keyReason(at, kind === MAP ? 'a map' : kind === ARRAY ? 'a list' : 'not a str'));
    } else if (kind !== NONE && length > 0) {
      const minBytes = kind === MAP ? 2 * length : length;
      if (minBytes > end - pos) {
        fail(
          source,
          `declares ${length} ${kind === MAP ? 'map entries' : 'list items'} at byte ${at}, has ${end - pos} bytes left`,
        );
      }
      if (depth === MAX_DEPTH) fail(source, `nests deeper than ${MAX_DEPTH} levels at byte ${at}`);
      depth++;
      remaining[depth] = minBytes;
      mapFrame[depth] = kind === MAP ? 1 : 0;
      keyCount[depth] = 0;
    }
  }
  if (pos !== end) fail(source, `has ${end - pos} bytes after the packet`);
}

function readLength(bytes: Uint8Array, pos: number, size: number, source: string): number {
  if (pos + size > bytes.length) fail(source, `ends early at byte ${bytes.length}`);
  let n = 0;
  for (let i = 0; i < size; i++) n = n * 256 + (bytes[pos + i] as number);
  return n;
}

function utf8(bytes: Uint8Array, start: number, end: number): boolean {
  if (end - start > 64) return isUtf8(bytes.subarray(start, end));
  for (let i = start; i < end; i++) {
    if ((bytes[i] as number) >= 0x80) return isUtf8(bytes.subarray(start, end));
  }
  return true;
}

function checkRepeat(
  bytes: Uint8Array,
  depth: number,
  start: number,
  end: number,
  source: string,
): void {
  const n = keyCount[depth] as number;
  if (n >= TRACKED_KEYS) return;
  const base = depth * TRACKED_KEYS;
  const length = end - start;
  for (let j = 0; j < n; j++) {
    const s = keyStart[base + j] as number;
    if ((keyEnd[base + j] as number) - s !== length) continue;
    let same = true;
    for (let i = 0; i < length; i++) {
      if (bytes[s + i] !== bytes[start + i]) {
        same = false;
        break;
      }
    }
    if (same) {
      const key = new TextDecoder().decode(bytes.subarray(start, Math.min(end, start + 40)));
      fail(source, `repeats the map key ${JSON.stringify(key)} at byte ${start}`);
    }
  }
  keyStart[base + n] = start;
  keyEnd[base + n] = end;
  keyCount[depth] = n + 1;
}

function keyReason(at: number, what: string): string {
  const hint =
    what === 'bin' ? " (openpi's msgpack_numpy writes bytes keys; v1 needs str keys)" : '';
  return `has a map key at byte ${at} that is ${what}, must be a str${hint}`;
}

function fail(source: string, reason: string): never {
  throw new WireError('msgpack', source, '', `is not plain MessagePack: ${reason}`);
}

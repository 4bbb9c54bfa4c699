/**
 * Checks a message object against its ROS 2 definition: every field the definition has, no
 * field it lacks, each value of the right kind (recursively), then a CDR round trip through
 * @foxglove/rosmsg2-serialization. The CDR writer alone would not notice a missing field (it
 * writes a default) or an extra one (it ignores it); `shapeProblems` does.
 */
import { MessageReader, MessageWriter } from '@foxglove/rosmsg2-serialization';
import { expect } from 'vitest';
import {
  type MessageDefinition,
  type MessageField,
  messageDefinitions,
  type RosDistro,
} from '../../src/ros/index.js';

const INT_RANGES: Record<string, [number, number]> = {
  int8: [-(2 ** 7), 2 ** 7 - 1],
  uint8: [0, 2 ** 8 - 1],
  int16: [-(2 ** 15), 2 ** 15 - 1],
  uint16: [0, 2 ** 16 - 1],
  int32: [-(2 ** 31), 2 ** 31 - 1],
  uint32: [0, 2 ** 32 - 1],
};
const BIGINT_RANGES: Record<string, [bigint, bigint]> = {
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
};

/** Everything wrong with `value` as a message of the definitions' root type; [] when none. */
export function shapeProblemsAgainst(value: unknown, definitions: MessageDefinition[]): string[] {
  const byName = new Map(definitions.map((d) => [d.name ?? '', d]));
  const root = definitions[0];
  if (!root) throw new Error('no definitions');
  const problems: string[] = [];
  checkStruct(value, root, byName, root.name ?? '(root)', problems);
  return problems;
}

/** `shapeProblemsAgainst` with the definitions src/ros resolves for `type`. */
export function shapeProblems(value: unknown, type: string, distro: RosDistro = 'jazzy'): string[] {
  return shapeProblemsAgainst(value, messageDefinitions(type, distro));
}

function checkStruct(
  value: unknown,
  def: MessageDefinition,
  byName: Map<string, MessageDefinition>,
  path: string,
  problems: string[],
): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    problems.push(`${path}: expected a ${def.name ?? 'message'} object, got ${kind(value)}`);
    return;
  }
  const fields = def.definitions.filter((f) => f.isConstant !== true);
  const names = new Set(fields.map((f) => f.name));
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!names.has(key)) problems.push(`${path}.${key}: extra field (not in ${def.name})`);
  }
  for (const field of fields) {
    const at = `${path}.${field.name}`;
    if (!(field.name in record) || record[field.name] === undefined) {
      problems.push(`${at}: missing field`);
      continue;
    }
    checkField(record[field.name], field, byName, at, problems);
  }
}

function checkField(
  value: unknown,
  field: MessageField,
  byName: Map<string, MessageDefinition>,
  path: string,
  problems: string[],
): void {
  if (field.isArray === true) {
    const isList =
      Array.isArray(value) || (ArrayBuffer.isView(value) && !(value instanceof DataView));
    if (!isList) {
      problems.push(`${path}: expected an array of ${field.type}, got ${kind(value)}`);
      return;
    }
    const list = value as ArrayLike<unknown>;
    if (field.arrayLength !== undefined && list.length !== field.arrayLength) {
      problems.push(`${path}: expected ${field.arrayLength} items, got ${list.length}`);
    }
    for (let i = 0; i < list.length; i++) {
      checkOne(list[i], field, byName, `${path}[${i}]`, problems);
    }
    return;
  }
  checkOne(value, field, byName, path, problems);
}

function checkOne(
  value: unknown,
  field: MessageField,
  byName: Map<string, MessageDefinition>,
  path: string,
  problems: string[],
): void {
  if (field.isComplex === true) {
    const def = byName.get(field.type);
    if (!def) {
      problems.push(`${path}: no definition for ${field.type}`);
      return;
    }
    checkStruct(value, def, byName, path, problems);
    return;
  }
  const type = field.type;
  if (type === 'time' || type === 'duration') {
    const t = value as Record<string, unknown> | null;
    const keys = t && typeof t === 'object' ? Object.keys(t).sort().join(',') : '';
    if (keys !== 'nanosec,sec') {
      problems.push(`${path}: expected {sec, nanosec}, got ${kind(value)} with keys [${keys}]`);
      return;
    }
    checkOne(t?.sec, { name: 'sec', type: 'int32' }, byName, `${path}.sec`, problems);
    checkOne(t?.nanosec, { name: 'nanosec', type: 'uint32' }, byName, `${path}.nanosec`, problems);
    if (typeof t?.nanosec === 'number' && t.nanosec >= 1e9) {
      problems.push(`${path}.nanosec: ${t.nanosec} is not below 1e9`);
    }
    return;
  }
  if (type === 'string') {
    if (typeof value !== 'string') problems.push(`${path}: expected a string, got ${kind(value)}`);
    return;
  }
  if (type === 'bool') {
    if (typeof value !== 'boolean')
      problems.push(`${path}: expected a boolean, got ${kind(value)}`);
    return;
  }
  if (type === 'float32' || type === 'float64') {
    if (typeof value !== 'number') problems.push(`${path}: expected a number, got ${kind(value)}`);
    return;
  }
  const bigRange = BIGINT_RANGES[type];
  if (bigRange) {
    if (typeof value !== 'bigint' || value < bigRange[0] || value > bigRange[1]) {
      problems.push(`${path}: expected a ${type} bigint, got ${kind(value)} ${String(value)}`);
    }
    return;
  }
  const range = INT_RANGES[type];
  if (range) {
    if (
      typeof value !== 'number' ||
      !Number.isInteger(value) ||
      value < range[0] ||
      value > range[1]
    ) {
      problems.push(`${path}: expected a ${type}, got ${kind(value)} ${String(value)}`);
    }
    return;
  }
  problems.push(`${path}: unknown primitive type ${type}`);
}

function kind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (ArrayBuffer.isView(value)) return value.constructor.name;
  return typeof value;
}

/** Typed arrays → plain arrays, recursively, so a read-back message compares with a built one. */
export function plain(value: unknown): unknown {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    return Array.from(value as unknown as ArrayLike<unknown>);
  }
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

/**
 * The whole check: the object matches the definition field for field, serializes to CDR, reads
 * back equal (every field, every value), and the reader consumed exactly the bytes written.
 */
export function expectCdrRoundTrip(
  message: unknown,
  type: string,
  distro: RosDistro = 'jazzy',
): Uint8Array {
  const definitions = messageDefinitions(type, distro);
  expect(shapeProblemsAgainst(message, definitions)).toEqual([]);
  const bytes = new MessageWriter(definitions).writeMessage(message);
  const reader = new MessageReader(definitions);
  const back = reader.readMessage(bytes);
  expect(reader.lastReadHadTrailingBytes()).toBe(false);
  expect(reader.lastReadByteLength()).toBe(bytes.byteLength);
  // The read-back object has exactly the definition's fields: compare both ways.
  expect(shapeProblemsAgainst(back, definitions)).toEqual([]);
  expect(plain(back)).toStrictEqual(plain(message));
  return bytes;
}

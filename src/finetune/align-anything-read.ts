import { existsSync, readFileSync } from 'node:fs';
import { parquetReadObjects } from 'hyparquet';
import { InputError } from '../contract/index.js';
import { ALIGN_ANYTHING_COLUMNS } from './align-anything.js';

/**
 * An Align-Anything split (`train.parquet`, `validation.parquet`, as `pons dataset export
 * --format align-anything` writes them) read back with hyparquet, every cell checked: the
 * fine-tuning command's input.
 */

export interface AlignAnythingRow {
  prompt: string;
  response: string;
  /** The frame's encoded bytes (PNG or JPEG) and its file name. */
  image: { bytes: Uint8Array; path: string };
  /** Joint positions in the spec's dimensions. */
  state: Float64Array;
  instruction: string;
  episode_id: string;
  task: string;
  seed: number;
  step: number;
  spec_id: string;
  /** `<file> row <i>`, for errors. */
  source: string;
}

export async function readAlignAnything(path: string): Promise<AlignAnythingRow[]> {
  if (!existsSync(path)) throw new InputError(path, '', 'no such file');
  const buf = readFileSync(path);
  const file = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
  let rows: Record<string, unknown>[];
  try {
    rows = (await parquetReadObjects({ file, utf8: false })) as Record<string, unknown>[];
  } catch (err) {
    throw new InputError(path, '', `is not a readable parquet file: ${(err as Error).message}`);
  }
  return rows.map((raw, i) => checkRow(raw, `${path} row ${i}`));
}

const decoder = new TextDecoder('utf-8', { fatal: true });

function checkRow(raw: Record<string, unknown>, source: string): AlignAnythingRow {
  for (const column of ALIGN_ANYTHING_COLUMNS) {
    if (raw[column] === undefined || raw[column] === null) {
      throw new InputError(source, column, 'is missing');
    }
  }
  const text = (column: string): string => {
    const v = raw[column];
    if (typeof v === 'string') return v;
    if (v instanceof Uint8Array) return decoder.decode(v);
    throw new InputError(source, column, 'is not a string');
  };
  const integer = (column: string): number => {
    const v = raw[column];
    const n = typeof v === 'bigint' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
      throw new InputError(source, column, `is ${String(v)}, not a non-negative integer`);
    }
    return n;
  };
  const image = raw.image as { bytes?: unknown; path?: unknown };
  if (!(image.bytes instanceof Uint8Array) || image.bytes.length === 0) {
    throw new InputError(source, 'image.bytes', 'is not an encoded image');
  }
  const state = raw.state;
  if (!Array.isArray(state) || !state.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw new InputError(source, 'state', 'is not a list of finite numbers');
  }
  const path = image.path instanceof Uint8Array ? decoder.decode(image.path) : image.path;
  return {
    prompt: text('prompt'),
    response: text('response'),
    image: { bytes: image.bytes, path: typeof path === 'string' ? path : '' },
    state: Float64Array.from(state as number[]),
    instruction: text('instruction'),
    episode_id: text('episode_id'),
    task: text('task'),
    seed: integer('seed'),
    step: integer('step'),
    spec_id: text('spec_id'),
    source,
  };
}

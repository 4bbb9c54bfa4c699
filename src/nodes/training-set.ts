import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { type Frame, ImagePreprocessor, type ModelPackage, PromptEncoder } from '../brain/index.js';
import { InputError } from '../contract/index.js';

/**
 * The compact training set the PyTorch trainer (models/training/finetune_tiny_vla.py) reads:
 * each decision's prompt ids and image bytes made by the runtime's own prompt encoder and
 * preprocessor, so training sees exactly what inference sees. Python needs no parquet,
 * tokenizer or image library for it.
 *
 *   meta.json    format, counts, the image shape, the rescale/normalize lookup tables, the
 *                action id range and tokens per step, and per row: prompt offset/length, image start, episode,
 *                task, seed, step
 *   pixels.u8    rows × H × W × 3 bytes (resized and cropped RGB, HWC)
 *   prompts.i32  every row's prompt ids (image token expanded), concatenated, little-endian
 *   actions.i32  rows × count action token ids, little-endian
 */

export const TRAINING_SET_FORMAT = 'pons-training-set/1';

export interface TrainingRow {
  image: Frame;
  instruction: string;
  /** Joint positions in the spec's dimensions (in the prompt where it holds `{state}`). */
  state: Float64Array;
  /** The decision's action token ids (the spec's count, inside the package's action range). */
  actions: readonly number[];
  episode: string;
  task: string;
  seed: number;
  step: number;
  /** Where the row came from, for errors (`train.parquet row 12`). */
  source: string;
}

export interface TrainingSetRowMeta {
  prompt_offset: number;
  prompt_length: number;
  image_start: number;
  instruction: string;
  state: number[];
  episode: string;
  task: string;
  seed: number;
  step: number;
}

export class TrainingSetWriter {
  private readonly preprocessor: ImagePreprocessor;
  private readonly prompt: PromptEncoder;
  private readonly pixels: number;
  private readonly prompts: number;
  private readonly actions: number;
  private readonly rows: TrainingSetRowMeta[] = [];
  private promptIds = 0;
  private closed = false;

  constructor(
    private readonly pkg: ModelPackage,
    readonly dir: string,
  ) {
    mkdirSync(dir, { recursive: true });
    this.preprocessor = new ImagePreprocessor(pkg.preprocessor);
    this.prompt = new PromptEncoder(pkg);
    this.pixels = openSync(join(dir, 'pixels.u8'), 'w');
    this.prompts = openSync(join(dir, 'prompts.i32'), 'w');
    this.actions = openSync(join(dir, 'actions.i32'), 'w');
  }

  get count(): number {
    return this.rows.length;
  }

  async add(row: TrainingRow): Promise<void> {
    const { count, first_id, last_id } = this.pkg.manifest.action_tokens;
    if (row.actions.length !== count) {
      throw new InputError(
        row.source,
        'response',
        `has ${row.actions.length} action tokens, ${this.pkg.dir} decides ${count}`,
      );
    }
    const bad = row.actions.findIndex(
      (id) => !(Number.isInteger(id) && id >= first_id && id <= last_id),
    );
    if (bad >= 0) {
      throw new InputError(
        row.source,
        `response[${bad}]`,
        `token ${row.actions[bad]} is outside the action ids ${first_id}..${last_id}`,
      );
    }
    const encoded = this.prompt.encode(row.instruction, `${row.source} instruction`, row.state);
    const rgb = await this.preprocessor.rgb(row.image, `${row.source} image`);
    writeSync(this.pixels, rgb);
    writeSync(this.prompts, int32Bytes(Array.from(encoded.ids, Number)));
    writeSync(this.actions, int32Bytes(row.actions));
    this.rows.push({
      prompt_offset: this.promptIds,
      prompt_length: encoded.ids.length,
      image_start: encoded.imageStart,
      instruction: row.instruction,
      state: Array.from(row.state),
      episode: row.episode,
      task: row.task,
      seed: row.seed,
      step: row.step,
    });
    this.promptIds += encoded.ids.length;
  }

  /** Closes the binary files and writes meta.json; returns its path. */
  close(extra: Record<string, unknown> = {}): string {
    if (this.closed) throw new Error('training set already closed');
    this.closed = true;
    for (const fd of [this.pixels, this.prompts, this.actions]) closeSync(fd);
    const { height, width } = this.preprocessor;
    const meta = {
      format: TRAINING_SET_FORMAT,
      package: this.pkg.dir,
      ...extra,
      count: this.rows.length,
      image: { height, width, channels: 3 },
      pixel_tables: this.preprocessor.tables.map((t) => Array.from(t)),
      image_token_id: this.pkg.dims.imageTokenId,
      image_tokens: this.pkg.dims.imageTokens,
      action_tokens: this.pkg.manifest.action_tokens,
      /** Tokens per chunk step: the ActionSpec's dimensions. */
      action_dimensions: this.pkg.spec.dimensions.length,
      rows: this.rows,
    };
    const path = join(this.dir, 'meta.json');
    writeFileSync(path, `${JSON.stringify(meta)}\n`);
    return path;
  }
}

function int32Bytes(values: readonly number[]): Uint8Array {
  const out = new Int32Array(values.length);
  out.set(values);
  // Every platform Node runs on is little-endian, as the format says.
  return new Uint8Array(out.buffer);
}

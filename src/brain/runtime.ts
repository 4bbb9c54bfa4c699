import * as ort from 'onnxruntime-node';
import { InputError } from '../contract/index.js';
import {
  checkTensor,
  createSession,
  type ProviderFallback,
  type SessionOptions,
  type TensorExpectation,
} from '../onnx/index.js';
import { fromHalf, toHalf } from './float16.js';
import {
  atInputSize,
  type DecodingMode,
  GRAPHS,
  type GraphName,
  loadModelPackage,
  type ModelPackage,
  type Variant,
} from './model-package.js';
import { type Frame, ImagePreprocessor } from './preprocess.js';
import { type EncodedPrompt, PromptEncoder } from './prompt.js';

/**
 * The brain runtime: camera frame + instruction → N action token ids, through the three
 * graphs of a model package. Preprocess, vision encoder (projector included), prompt
 * embedding with the image features written over the image positions, then either a
 * prefill and N−1 KV-cache steps (autoregressive) or one pass over N placeholders
 * (parallel). Every token is the argmax over the action id range only.
 */

export interface BrainOptions extends SessionOptions {
  variant?: Variant;
  /**
   * Frames come already resized and cropped to the model's image size (a trainer's own
   * pixels, for a parity check): the preprocessor then only rescales and normalizes them.
   */
  framesAtModelSize?: boolean;
}

export interface StageTimings {
  preprocess_ms: number;
  vision_ms: number;
  /** Prompt embedding and the first decoder pass (it yields token 0, or all in parallel). */
  prefill_ms: number;
  /** One entry per KV-cache step (tokens 1 … N−1); empty in parallel mode. */
  tokens_ms: number[];
  total_ms: number;
}

export interface Decision {
  tokens: Uint32Array;
  mode: DecodingMode;
  /** Prompt length in tokens, image positions included. */
  promptTokens: number;
  timings: StageTimings;
  /** The action-range logits of the first `keepLogits` tokens, when asked for (parity checks). */
  logits?: Float32Array[];
}

type FloatType = 'float32' | 'float16';
const FLOAT_TYPES: readonly ort.Tensor.Type[] = ['float32', 'float16'];

interface Graph {
  session: ort.InferenceSession;
  path: string;
  provider: string;
}

export class BrainRuntime {
  readonly providers: Record<GraphName, string>;
  readonly fallbacks: readonly (ProviderFallback & { graph: GraphName })[];
  readonly tokensPerDecision: number;
  private readonly preprocessor: ImagePreprocessor;
  private readonly prompt: PromptEncoder;
  private readonly pixels: Float32Array;
  private readonly firstId: number;
  private readonly lastId: number;
  private readonly types: { pixels: FloatType; embeds: FloatType; past: FloatType };
  private readonly emptyPast: Record<string, ort.Tensor>;
  private readonly useCacheBranch: boolean;
  private busy = false;
  private closed = false;

  private constructor(
    readonly pkg: ModelPackage,
    private readonly graphs: Record<GraphName, Graph>,
    fallbacks: (ProviderFallback & { graph: GraphName })[],
  ) {
    this.providers = {
      vision_encoder: graphs.vision_encoder.provider,
      embed_tokens: graphs.embed_tokens.provider,
      decoder_model_merged: graphs.decoder_model_merged.provider,
    };
    this.fallbacks = fallbacks;
    this.types = checkGraphs(pkg, graphs);
    this.tokensPerDecision = pkg.manifest.action_tokens.count;
    this.firstId = pkg.manifest.action_tokens.first_id;
    this.lastId = pkg.manifest.action_tokens.last_id;
    this.preprocessor = new ImagePreprocessor(pkg.preprocessor);
    this.prompt = new PromptEncoder(pkg);
    this.pixels = new Float32Array(3 * this.preprocessor.height * this.preprocessor.width);
    const { layers, kvHeads, headDim } = pkg.dims;
    this.emptyPast = {};
    for (let i = 0; i < layers; i++) {
      for (const part of ['key', 'value']) {
        this.emptyPast[`past_key_values.${i}.${part}`] = floatTensor(
          this.types.past,
          new Float32Array(0),
          [1, kvHeads, 0, headDim],
        );
      }
    }
    this.useCacheBranch =
      graphs.decoder_model_merged.session.inputNames.includes('use_cache_branch');
  }

  /** The provider the decoder (where nearly all the time goes) runs on. */
  get provider(): string {
    return this.providers.decoder_model_merged;
  }

  get modes(): readonly DecodingMode[] {
    return this.pkg.manifest.decoding.modes;
  }

  /**
   * Opens the package in `dir`. Each graph gets the first provider in `options.providers`
   * that loads it (default cuda, then cpu); the ones skipped are in `fallbacks`.
   */
  static async open(dir: string, options: BrainOptions = {}): Promise<BrainRuntime> {
    const loaded = loadModelPackage(dir, options.variant);
    const size = loaded.dims.imageSize;
    const pkg = options.framesAtModelSize ? atInputSize(loaded, size, size, dir) : loaded;
    const sessionOptions: SessionOptions = {
      providers: options.providers ?? ['cuda', 'cpu'],
      intraOpThreads: options.intraOpThreads ?? 0,
    };
    const graphs: Partial<Record<GraphName, Graph>> = {};
    const fallbacks: (ProviderFallback & { graph: GraphName })[] = [];
    try {
      for (const graph of GRAPHS) {
        const path = pkg.graphs[graph];
        const opened = await createSession(path, path, sessionOptions);
        graphs[graph] = { session: opened.session, path, provider: opened.provider };
        fallbacks.push(...opened.fallbacks.map((f) => ({ ...f, graph })));
      }
      return new BrainRuntime(pkg, graphs as Record<GraphName, Graph>, fallbacks);
    } catch (err) {
      await Promise.all(Object.values(graphs).map((g) => g.session.release()));
      throw err;
    }
  }

  /** The package's prompt holds the joint state: `decide` needs `state`. */
  get needsState(): boolean {
    return this.prompt.needsState;
  }

  /** Renders and tokenizes an instruction (cached): a bad one fails here, before any model run. */
  encodeInstruction(instruction: string, source?: string): EncodedPrompt {
    // Checking the instruction needs some state where the prompt holds one: mid-range will do.
    const state = this.needsState ? new Float64Array(this.pkg.spec.dimensions.length) : undefined;
    return this.prompt.encode(instruction, source, state);
  }

  /**
   * One decision. A bad frame or instruction throws an InputError naming `source`; the
   * runtime stays usable. Calls must not overlap (the brain node runs one at a time).
   */
  async decide(
    frame: Frame,
    instruction: string,
    options: {
      mode?: DecodingMode;
      source?: string;
      keepLogits?: number;
      /** Joint positions in the spec's dimensions, for a package whose prompt holds them. */
      state?: ArrayLike<number>;
    } = {},
  ): Promise<Decision> {
    if (this.closed) throw new Error('brain runtime is closed');
    if (this.busy) throw new Error('decide() called while a decision is running');
    const mode = options.mode ?? this.pkg.manifest.decoding.default;
    if (!this.modes.includes(mode)) {
      throw new InputError(
        `${this.pkg.dir}/pons.json`,
        'decoding.modes',
        `does not offer "${mode}" decoding (it offers ${this.modes.join(', ')})`,
      );
    }
    const source = options.source ?? 'frame';
    this.busy = true;
    try {
      const t0 = performance.now();
      const prompt = this.prompt.encode(instruction, `${source} instruction`, options.state);
      await this.preprocessor.run(frame, source, this.pixels);
      const t1 = performance.now();
      const features = await this.vision();
      const t2 = performance.now();
      const n = this.tokensPerDecision;
      const tokens = new Uint32Array(n);
      const kept: Float32Array[] = [];
      const keep = (logits: ort.Tensor, row: number) => {
        if (kept.length < (options.keepLogits ?? 0))
          kept.push(Float32Array.from(this.actionRange(logits, row)));
      };
      const tokensMs: number[] = [];
      let promptTokens = prompt.ids.length;
      if (mode === 'parallel') {
        const ids = new BigInt64Array(prompt.ids.length + n);
        ids.set(prompt.ids);
        ids.fill(BigInt(this.pkg.manifest.decoding.placeholder_id as number), prompt.ids.length);
        const { logits } = await this.prefill(ids, prompt.imageStart, features);
        for (let k = 0; k < n; k++) {
          tokens[k] = this.argmax(logits, prompt.ids.length + k);
          keep(logits, prompt.ids.length + k);
        }
        promptTokens = ids.length;
      } else {
        const { logits, present } = await this.prefill(prompt.ids, prompt.imageStart, features);
        tokens[0] = this.argmax(logits, prompt.ids.length - 1);
        keep(logits, prompt.ids.length - 1);
        let past = present;
        for (let k = 1; k < n; k++) {
          const s = performance.now();
          const step = await this.step(tokens[k - 1] as number, prompt.ids.length + k - 1, past);
          tokens[k] = this.argmax(step.logits, 0);
          keep(step.logits, 0);
          past = step.present;
          tokensMs.push(performance.now() - s);
        }
      }
      const t3 = performance.now();
      const prefillMs = t3 - t2 - tokensMs.reduce((a, b) => a + b, 0);
      return {
        tokens,
        mode,
        promptTokens,
        ...(kept.length > 0 ? { logits: kept } : {}),
        timings: {
          preprocess_ms: t1 - t0,
          vision_ms: t2 - t1,
          prefill_ms: prefillMs,
          tokens_ms: tokensMs,
          total_ms: t3 - t0,
        },
      };
    } finally {
      this.busy = false;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(Object.values(this.graphs).map((g) => g.session.release()));
  }

  private async vision(): Promise<Float32Array> {
    const { session, path } = this.graphs.vision_encoder;
    const size = [1, 3, this.preprocessor.height, this.preprocessor.width];
    const out = await session.run({
      pixel_values: floatTensor(this.types.pixels, this.pixels, size),
    });
    const features = out.image_features as ort.Tensor;
    const { imageTokens, hidden } = this.pkg.dims;
    if (features.size !== imageTokens * hidden) {
      throw new InputError(
        path,
        'outputs.image_features.shape',
        `is [${features.dims.join(', ')}], config.json implies [1, ${imageTokens}, ${hidden}]`,
      );
    }
    return floatData(features);
  }

  /** Embeds `ids`, writes the image features over the image positions, runs the decoder. */
  private async prefill(ids: BigInt64Array, imageStart: number, features: Float32Array) {
    const embeds = await this.embed(ids);
    embeds.set(features, imageStart * this.pkg.dims.hidden);
    return this.decode(embeds, ids.length, 0, this.emptyPast);
  }

  private async step(token: number, position: number, past: Record<string, ort.Tensor>) {
    const embeds = await this.embed(BigInt64Array.of(BigInt(token)));
    return this.decode(embeds, 1, position, past);
  }

  private async embed(ids: BigInt64Array): Promise<Float32Array> {
    const out = await this.graphs.embed_tokens.session.run({
      input_ids: new ort.Tensor('int64', ids, [1, ids.length]),
    });
    return floatData(out.inputs_embeds as ort.Tensor);
  }

  private async decode(
    embeds: Float32Array,
    length: number,
    start: number,
    past: Record<string, ort.Tensor>,
  ): Promise<{ logits: ort.Tensor; present: Record<string, ort.Tensor> }> {
    const positions = new BigInt64Array(length);
    for (let i = 0; i < length; i++) positions[i] = BigInt(start + i);
    const feeds: Record<string, ort.Tensor> = {
      ...past,
      inputs_embeds: floatTensor(this.types.embeds, embeds, [1, length, this.pkg.dims.hidden]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(start + length).fill(1n), [
        1,
        start + length,
      ]),
      position_ids: new ort.Tensor('int64', positions, [1, length]),
    };
    if (this.useCacheBranch) {
      feeds.use_cache_branch = new ort.Tensor('bool', Uint8Array.of(start > 0 ? 1 : 0), [1]);
    }
    const out = await this.graphs.decoder_model_merged.session.run(feeds);
    const present: Record<string, ort.Tensor> = {};
    for (const name of Object.keys(this.emptyPast)) {
      present[name] = out[name.replace('past_key_values', 'present')] as ort.Tensor;
    }
    return { logits: out.logits as ort.Tensor, present };
  }

  /** The logits of the action ids at sequence position `row` (a view, or a float16 copy). */
  private actionRange(logits: ort.Tensor, row: number): Float32Array {
    const base = row * this.pkg.dims.vocab;
    const data = logits.data as Float32Array | Uint16Array;
    const slice = data.subarray(base + this.firstId, base + this.lastId + 1);
    return logits.type === 'float16' ? fromHalf(slice as Uint16Array) : (slice as Float32Array);
  }

  /** The best action id at sequence position `row`, looking at action ids only. */
  private argmax(logits: ort.Tensor, row: number): number {
    const values = this.actionRange(logits, row);
    let best = this.firstId;
    let bestValue = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as number;
      if (v > bestValue) {
        bestValue = v;
        best = this.firstId + i;
      }
    }
    if (bestValue === Number.NEGATIVE_INFINITY) {
      throw new InputError(
        this.graphs.decoder_model_merged.path,
        'outputs.logits',
        'are NaN or −∞ over every action id',
      );
    }
    return best;
  }
}

function floatTensor(type: FloatType, data: Float32Array, dims: number[]): ort.Tensor {
  return type === 'float16'
    ? new ort.Tensor('float16', toHalf(data), dims)
    : new ort.Tensor('float32', data, dims);
}

function floatData(tensor: ort.Tensor): Float32Array {
  return tensor.type === 'float16'
    ? fromHalf(tensor.data as Uint16Array)
    : (tensor.data as Float32Array);
}

/** Checks every graph's inputs and outputs against config.json; returns the float types used. */
function checkGraphs(
  pkg: ModelPackage,
  graphs: Record<GraphName, Graph>,
): { pixels: FloatType; embeds: FloatType; past: FloatType } {
  const { imageSize, imageTokens, hidden, layers, kvHeads, headDim, vocab } = pkg.dims;
  const check = (graph: GraphName, direction: 'input' | 'output', want: TensorExpectation) =>
    checkTensor(
      graphs[graph].session,
      direction,
      want,
      graphs[graph].path,
      `${direction}s.${want.name}`,
    ) as FloatType | undefined;
  const float = (name: string, shape: (number | null)[]) => ({ name, types: FLOAT_TYPES, shape });
  const int64 = (name: string, shape: (number | null)[]) => ({
    name,
    types: ['int64'] as const,
    shape,
  });

  const pixels = check(
    'vision_encoder',
    'input',
    float('pixel_values', [null, 3, imageSize, imageSize]),
  );
  check('vision_encoder', 'output', float('image_features', [null, imageTokens, hidden]));
  check('embed_tokens', 'input', int64('input_ids', [null, null]));
  check('embed_tokens', 'output', float('inputs_embeds', [null, null, hidden]));
  const embeds = check(
    'decoder_model_merged',
    'input',
    float('inputs_embeds', [null, null, hidden]),
  );
  check('decoder_model_merged', 'input', int64('attention_mask', [null, null]));
  check('decoder_model_merged', 'input', int64('position_ids', [null, null]));
  check('decoder_model_merged', 'output', float('logits', [null, null, vocab]));
  let past: FloatType | undefined;
  const expected = new Set(['inputs_embeds', 'attention_mask', 'position_ids', 'use_cache_branch']);
  for (let i = 0; i < layers; i++) {
    for (const part of ['key', 'value']) {
      const shape = [null, kvHeads, null, headDim];
      expected.add(`past_key_values.${i}.${part}`);
      past = check('decoder_model_merged', 'input', float(`past_key_values.${i}.${part}`, shape));
      check('decoder_model_merged', 'output', float(`present.${i}.${part}`, shape));
    }
  }
  const decoder = graphs.decoder_model_merged;
  const extra = decoder.session.inputNames.filter((name) => !expected.has(name));
  if (extra.length > 0) {
    throw new InputError(
      decoder.path,
      'inputs',
      `has inputs ${extra.map((n) => `"${n}"`).join(', ')} that a ${layers}-layer decoder ` +
        '(config.json text_config.num_hidden_layers) does not take',
    );
  }
  return { pixels: pixels ?? 'float32', embeds: embeds ?? 'float32', past: past ?? 'float32' };
}

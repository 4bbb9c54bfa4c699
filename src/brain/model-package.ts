import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import {
  type ActionSpec,
  InputError,
  loadActionSpec,
  parseActionSpec,
  parseWith,
  readJsonFile,
  shortId,
  specId,
  tokensPerDecision,
} from '../contract/index.js';

/**
 * A brain model package (docs/model-package.md): the transformers.js LLaVA split plus
 * `pons.json`, which binds it to an ActionSpec. Loading reads and validates every JSON file
 * and checks that they agree with each other; the ONNX graphs are checked when sessions open.
 */

export const GRAPHS = ['vision_encoder', 'embed_tokens', 'decoder_model_merged'] as const;
export type GraphName = (typeof GRAPHS)[number];

/** A variant suffix for all graphs (`fp16`, `quantized`, ...), or one per graph. */
export type Variant = string | Partial<Record<GraphName, string>>;

const positive = z.int().positive();

// Hugging Face configs carry many more keys; only the ones pons relies on are checked.
const textConfigSchema = z.looseObject({
  hidden_size: positive,
  num_hidden_layers: positive,
  num_attention_heads: positive,
  num_key_value_heads: positive.optional(),
  head_dim: positive.optional(),
  vocab_size: positive,
});

const llavaConfigSchema = z.looseObject({
  image_token_index: z.int().nonnegative().optional(),
  image_token_id: z.int().nonnegative().optional(),
  vision_feature_select_strategy: z.enum(['default', 'full']).default('default'),
  text_config: textConfigSchema,
  vision_config: z.looseObject({ image_size: positive, patch_size: positive }),
});

const sizeSchema = z.union([
  z.strictObject({ shortest_edge: positive }),
  z.strictObject({ height: positive, width: positive }),
]);

const preprocessorSchema = z.looseObject({
  do_resize: z.boolean().default(true),
  size: sizeSchema,
  resample: z.int().min(0).max(5).default(3),
  do_center_crop: z.boolean().default(true),
  crop_size: z.union([positive, z.strictObject({ height: positive, width: positive })]).optional(),
  do_rescale: z.boolean().default(true),
  rescale_factor: z
    .number()
    .positive()
    .default(1 / 255),
  do_normalize: z.boolean().default(true),
  image_mean: z.tuple([z.number(), z.number(), z.number()]),
  image_std: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]),
});
export type PreprocessorConfig = z.infer<typeof preprocessorSchema>;

const DECODING_MODES = ['autoregressive', 'parallel'] as const;
export type DecodingMode = (typeof DECODING_MODES)[number];

const ponsSchema = z.strictObject({
  kind: z.literal('vla-brain'),
  name: z.string().min(1),
  description: z.string().optional(),
  action_spec: z.union([z.string().min(1), z.record(z.string(), z.unknown())]),
  spec_id: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits'),
  action_tokens: z.strictObject({
    count: positive,
    first_id: z.int().nonnegative(),
    last_id: positive,
  }),
  prompt: z.strictObject({
    user: z.string().includes('{instruction}', { message: 'must contain {instruction}' }),
    add_special_tokens: z.boolean().default(false),
  }),
  decoding: z.strictObject({
    default: z.enum(DECODING_MODES),
    modes: z.array(z.enum(DECODING_MODES)).min(1),
    placeholder_id: z.int().nonnegative().optional(),
  }),
  training: z.record(z.string(), z.unknown()).optional(),
});
export type BrainManifest = z.infer<typeof ponsSchema>;

/** Sizes the graphs must agree with, derived from config.json. */
export interface ModelDims {
  imageSize: number;
  patchSize: number;
  /** The CLS feature is kept (vision_feature_select_strategy "full"). */
  clsFeature: boolean;
  imageTokens: number;
  hidden: number;
  layers: number;
  kvHeads: number;
  headDim: number;
  vocab: number;
  imageTokenId: number;
}

export interface ModelPackage {
  dir: string;
  manifest: BrainManifest;
  spec: ActionSpec;
  specId: string;
  dims: ModelDims;
  preprocessor: PreprocessorConfig;
  tokenizerJson: object;
  tokenizerConfig: Record<string, unknown>;
  /** Absolute paths of the three graphs, variant applied. */
  graphs: Record<GraphName, string>;
}

export function loadModelPackage(dirArg: string, variant: Variant = ''): ModelPackage {
  const dir = resolve(dirArg);
  if (!existsSync(dir)) throw new InputError(dir, '', 'no such model package directory');
  const file = (name: string) => join(dir, name);

  const manifestPath = file('pons.json');
  const manifest = parseWith(ponsSchema, readJsonFile(manifestPath), manifestPath);
  const configPath = file('config.json');
  const config = parseWith(llavaConfigSchema, readJsonFile(configPath), configPath);
  const preprocessorPath = file('preprocessor_config.json');
  const preprocessor = parseWith(
    preprocessorSchema,
    readJsonFile(preprocessorPath),
    preprocessorPath,
  );
  const tokenizerJson = readJsonFile(file('tokenizer.json'));
  const tokenizerConfigPath = file('tokenizer_config.json');
  const tokenizerConfig = readJsonFile(tokenizerConfigPath);
  if (typeof tokenizerJson !== 'object' || tokenizerJson === null) {
    throw new InputError(file('tokenizer.json'), '', 'is not a JSON object');
  }
  if (typeof tokenizerConfig !== 'object' || tokenizerConfig === null) {
    throw new InputError(tokenizerConfigPath, '', 'is not a JSON object');
  }
  if (typeof (tokenizerConfig as { chat_template?: unknown }).chat_template !== 'string') {
    throw new InputError(tokenizerConfigPath, 'chat_template', 'is missing (a Jinja string)');
  }

  const spec = loadSpec(manifest, dir, manifestPath);
  const id = specId(spec);
  if (manifest.spec_id !== id) {
    throw new InputError(
      manifestPath,
      'spec_id',
      `is ${shortId(manifest.spec_id)}…, but its ActionSpec "${spec.name}" hashes to ` +
        `${shortId(id)}…: the model was built for another action contract`,
    );
  }
  if (manifest.training?.accepted === false) {
    throw new InputError(
      manifestPath,
      'training.accepted',
      'is false: the package did not reproduce its trainer on held-out data (training.parity)',
    );
  }
  const dims = modelDims(config, configPath);
  checkActionTokens(manifest, spec, dims, manifestPath);
  checkPreprocessor(preprocessor, dims, preprocessorPath);

  const graphs = {} as Record<GraphName, string>;
  for (const graph of GRAPHS) {
    const path = file(`onnx/${graph}${suffix(variant, graph)}.onnx`);
    if (!existsSync(path)) {
      const which = suffix(variant, graph) ? ` (variant "${suffix(variant, graph)}")` : '';
      throw new InputError(path, '', `is missing: a model package needs ${graph}${which}`);
    }
    graphs[graph] = path;
  }
  return {
    dir,
    manifest,
    spec,
    specId: id,
    dims,
    preprocessor,
    tokenizerJson,
    tokenizerConfig: tokenizerConfig as Record<string, unknown>,
    graphs,
  };
}

function suffix(variant: Variant, graph: GraphName): string {
  const raw = typeof variant === 'string' ? variant : (variant[graph] ?? '');
  if (raw === '') return '';
  const clean = raw.startsWith('_') ? raw.slice(1) : raw;
  if (!/^[a-z0-9]+$/.test(clean)) {
    throw new InputError('variant', graph, `"${raw}" is not a file suffix like fp16 or quantized`);
  }
  return `_${clean}`;
}

function loadSpec(manifest: BrainManifest, dir: string, manifestPath: string): ActionSpec {
  const ref = manifest.action_spec;
  if (typeof ref !== 'string') return parseActionSpec(ref, `${manifestPath} action_spec`, dir);
  return loadActionSpec(isAbsolute(ref) ? ref : join(dir, ref));
}

function modelDims(config: z.infer<typeof llavaConfigSchema>, source: string): ModelDims {
  const text = config.text_config;
  const imageTokenId = config.image_token_index ?? config.image_token_id;
  if (imageTokenId === undefined) {
    throw new InputError(source, 'image_token_index', 'is missing');
  }
  if (imageTokenId >= text.vocab_size) {
    throw new InputError(
      source,
      'image_token_index',
      `${imageTokenId} is outside the vocabulary (${text.vocab_size} ids)`,
    );
  }
  const heads = text.num_attention_heads;
  const headDim = text.head_dim ?? text.hidden_size / heads;
  if (!Number.isInteger(headDim)) {
    throw new InputError(
      source,
      'text_config.num_attention_heads',
      `${heads} does not divide hidden_size ${text.hidden_size}`,
    );
  }
  const kvHeads = text.num_key_value_heads ?? heads;
  if (heads % kvHeads !== 0) {
    throw new InputError(
      source,
      'text_config.num_key_value_heads',
      `${kvHeads} does not divide num_attention_heads ${heads}`,
    );
  }
  const { image_size: imageSize, patch_size: patchSize } = config.vision_config;
  const clsFeature = config.vision_feature_select_strategy === 'full';
  return {
    imageSize,
    patchSize,
    clsFeature,
    imageTokens: imageTokenCount(imageSize, patchSize, clsFeature),
    hidden: text.hidden_size,
    layers: text.num_hidden_layers,
    kvHeads,
    headDim,
    vocab: text.vocab_size,
    imageTokenId,
  };
}

/** Image features per image: one per patch, and the CLS token when it is kept. */
export function imageTokenCount(imageSize: number, patchSize: number, clsFeature: boolean): number {
  const side = Math.floor(imageSize / patchSize);
  return side * side + (clsFeature ? 1 : 0);
}

function checkActionTokens(
  manifest: BrainManifest,
  spec: ActionSpec,
  dims: ModelDims,
  source: string,
): void {
  const { bins, vocab_size, id_offset } = spec.tokenizer;
  const lastId = vocab_size - id_offset - 1;
  const firstId = lastId - bins + 1;
  const tokens = manifest.action_tokens;
  const mismatch = (field: string, declared: number, expected: number) => {
    if (declared !== expected) {
      throw new InputError(
        source,
        `action_tokens.${field}`,
        `is ${declared}, but ActionSpec "${spec.name}" gives ${expected}`,
      );
    }
  };
  mismatch('count', tokens.count, tokensPerDecision(spec));
  mismatch('first_id', tokens.first_id, firstId);
  mismatch('last_id', tokens.last_id, lastId);
  if (lastId >= dims.vocab) {
    throw new InputError(
      source,
      'action_tokens.last_id',
      `${lastId} is outside the model's vocabulary (${dims.vocab} ids)`,
    );
  }
  const { decoding } = manifest;
  if (!decoding.modes.includes(decoding.default)) {
    throw new InputError(source, 'decoding.default', `"${decoding.default}" is not in modes`);
  }
  if (decoding.modes.includes('parallel')) {
    if (decoding.placeholder_id === undefined) {
      throw new InputError(source, 'decoding.placeholder_id', 'is required for parallel decoding');
    }
    if (decoding.placeholder_id >= dims.vocab) {
      throw new InputError(
        source,
        'decoding.placeholder_id',
        `${decoding.placeholder_id} is outside the vocabulary (${dims.vocab} ids)`,
      );
    }
  }
}

function checkPreprocessor(pre: PreprocessorConfig, dims: ModelDims, source: string): void {
  const [height, width] = outputSize(pre);
  if (height !== dims.imageSize || width !== dims.imageSize) {
    throw new InputError(
      source,
      pre.do_center_crop ? 'crop_size' : 'size',
      `gives ${width}×${height} images, the vision encoder takes ` +
        `${dims.imageSize}×${dims.imageSize} (config.json vision_config.image_size)`,
    );
  }
}

/**
 * The package as it sees frames resized (shortest edge) to `resize` px and center-cropped to
 * `size` px square: its vision tower moved to `size` (the trainer interpolates the position
 * embeddings), and a `resize` above `size` magnifies the middle of the frame.
 */
export function atInputSize(
  pkg: ModelPackage,
  size: number,
  resize: number,
  source: string,
): ModelPackage {
  const { patchSize, clsFeature } = pkg.dims;
  if (!Number.isInteger(size) || size < patchSize || size % patchSize !== 0) {
    throw new InputError(
      source,
      'image size',
      `${size} is not a multiple of the patch size ${patchSize}`,
    );
  }
  if (!Number.isInteger(resize) || resize < size) {
    throw new InputError(
      source,
      'resize',
      `${resize} must be a whole number of px, at least ${size}`,
    );
  }
  return {
    ...pkg,
    dims: {
      ...pkg.dims,
      imageSize: size,
      imageTokens: imageTokenCount(size, patchSize, clsFeature),
    },
    preprocessor: {
      ...pkg.preprocessor,
      size: { shortest_edge: resize },
      crop_size: { height: size, width: size },
      do_center_crop: true,
    },
  };
}

/** The [height, width] the processor produces. */
export function outputSize(pre: PreprocessorConfig): [number, number] {
  if (pre.do_center_crop && pre.crop_size !== undefined) {
    const crop = pre.crop_size;
    return typeof crop === 'number' ? [crop, crop] : [crop.height, crop.width];
  }
  const size = pre.size;
  return 'shortest_edge' in size
    ? [size.shortest_edge, size.shortest_edge]
    : [size.height, size.width];
}

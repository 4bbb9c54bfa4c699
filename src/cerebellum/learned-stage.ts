import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { z } from 'zod';
import {
  type ActionSpec,
  InputError,
  parseWith,
  readFileBytes,
  readJsonFile,
  shortId,
  specId,
} from '../contract/index.js';
import {
  checkTensor,
  createSession,
  type ProviderFallback,
  type SessionOptions,
  type TensorExpectation,
} from '../onnx/index.js';

/**
 * The optional learned cerebellum stage: an ONNX policy that maps (joint state, the next K
 * chunk targets) to a per-joint position correction, run by onnxruntime-node on the CPU
 * (or another execution provider) off the control thread, once per chunk step.
 *
 * A package is a folder holding `model.onnx` and `pons.json`, the contract the model was
 * exported with; models/learned-cerebellum/README.md documents the format. Loading checks the
 * contract against the ActionSpec and the joints the cerebellum executes, and the model's
 * declared inputs and outputs against the contract: any disagreement is an InputError naming
 * the file, the field and the reason. At run time every failure is a LearnedStageError, so the
 * controller can count it, report it, and fall back to the analytic path.
 */

export const LEARNED_STAGE_KIND = 'cerebellum-correction';
export const MANIFEST_FILE = 'pons.json';
export const MODEL_FILE = 'model.onnx';

const tensorSchema = z
  .object({
    name: z.string().min(1),
    shape: z.array(z.int().min(1)).min(1),
  })
  .strict();

const statsSchema = z
  .object({
    mean: z.array(z.number()),
    std: z.array(z.number().positive()),
  })
  .strict();

const manifestSchema = z
  .object({
    kind: z.literal(LEARNED_STAGE_KIND, {
      error: `must be "${LEARNED_STAGE_KIND}" (a learned cerebellum stage package)`,
    }),
    name: z.string().min(1).optional(),
    description: z.string().optional(),
    spec_id: z.string().regex(/^[0-9a-f]{64}$/, 'must be a spec id (64 lowercase hex digits)'),
    joints: z.array(z.string().min(1)).min(1),
    lookahead: z.int().min(1, 'must be at least 1').max(1024),
    inputs: z.object({ joint_state: tensorSchema, targets: tensorSchema }).strict(),
    outputs: z.object({ correction: tensorSchema }).strict(),
    max_correction: z.union([z.number().positive(), z.array(z.number().positive()).min(1)]),
    normalization: z
      .object({
        joint_state: statsSchema.optional(),
        targets: statsSchema.optional(),
        correction: statsSchema.optional(),
      })
      .strict()
      .optional(),
    /** Provenance (script, seed, data, ...): free-form, not interpreted. */
    training: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

export type LearnedStageManifest = z.infer<typeof manifestSchema>;

/**
 * Validates a parsed pons.json on its own: the schema, and that the declared tensor shapes and
 * statistics agree with the joint count J and the lookahead K (joint_state [1, 2J], targets
 * [1, K·J], correction [1, J]).
 */
export function parseLearnedStageManifest(doc: unknown, source: string): LearnedStageManifest {
  const m = parseWith(manifestSchema, doc, source);
  const j = m.joints.length;
  const k = m.lookahead;
  const duplicate = m.joints.findIndex((name, i) => m.joints.indexOf(name) !== i);
  if (duplicate >= 0) {
    throw new InputError(source, `joints[${duplicate}]`, `repeats "${m.joints[duplicate]}"`);
  }
  if (m.inputs.joint_state.name === m.inputs.targets.name) {
    throw new InputError(source, 'inputs.targets.name', 'must differ from inputs.joint_state.name');
  }
  const expected: [string, number[], number[]][] = [
    ['inputs.joint_state.shape', m.inputs.joint_state.shape, [1, 2 * j]],
    ['inputs.targets.shape', m.inputs.targets.shape, [1, k * j]],
    ['outputs.correction.shape', m.outputs.correction.shape, [1, j]],
  ];
  for (const [field, shape, want] of expected) {
    if (!sameShape(shape, want)) {
      throw new InputError(
        source,
        field,
        `is [${shape.join(', ')}], ${j} joints with lookahead ${k} need [${want.join(', ')}]`,
      );
    }
  }
  const parity = (m.training?.parity ?? {}) as { passed?: unknown; max_abs_diff?: unknown };
  if (parity.passed === false) {
    throw new InputError(
      source,
      'training.parity',
      `the package failed its parity check against PyTorch (max |diff| ${String(parity.max_abs_diff)}): do not run it`,
    );
  }
  if (Array.isArray(m.max_correction) && m.max_correction.length !== j) {
    throw new InputError(
      source,
      'max_correction',
      `has ${m.max_correction.length} values for ${j} joints (give one number or one per joint)`,
    );
  }
  const widths = { joint_state: 2 * j, targets: k * j, correction: j } as const;
  for (const key of ['joint_state', 'targets', 'correction'] as const) {
    const stats = m.normalization?.[key];
    if (stats === undefined) continue;
    for (const part of ['mean', 'std'] as const) {
      if (stats[part].length !== widths[key]) {
        throw new InputError(
          source,
          `normalization.${key}.${part}`,
          `has ${stats[part].length} values, the ${key} tensor has ${widths[key]}`,
        );
      }
    }
  }
  return m;
}

/** Why a `correct()` call failed. Every code means: use the analytic path for this step. */
export type LearnedStageErrorCode =
  /** A previous call is still running (calls must not overlap). */
  | 'busy'
  /** The stage was closed. */
  | 'closed'
  /** Wrong array lengths or a non-finite input. */
  | 'input'
  /** onnxruntime failed to run the model. */
  | 'inference'
  /** The model produced NaN or ±Inf. */
  | 'non_finite';

export class LearnedStageError extends Error {
  constructor(
    readonly code: LearnedStageErrorCode,
    /** The model file. */
    readonly source: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${source}: learned stage ${code}: ${reason}`, options);
    this.name = 'LearnedStageError';
  }
}

/**
 * Providers default to `['cpu']` and threads to 1: a small MLP gains nothing from a thread
 * pool, whose spinning would compete with the control thread for a core.
 */
export type LearnedStageOptions = SessionOptions;

export interface LearnedStageCounters {
  /** Successful `correct()` calls. */
  runs: number;
  /** Joint corrections brought inside ±max_correction (summed over calls). */
  clamped: number;
  /** `correct()` calls that threw a LearnedStageError. */
  failures: number;
}

export class LearnedStage {
  /** The execution provider the session runs on. */
  readonly provider: string;
  /** Providers tried before `provider`, and why each failed. */
  readonly fallbacks: readonly ProviderFallback[];
  readonly counters: LearnedStageCounters = { runs: 0, clamped: 0, failures: 0 };
  /** J, the number of joints. */
  readonly joints: number;
  /** K, the chunk steps ahead that `targets` holds. */
  readonly lookahead: number;
  /** Per-joint bound on |correction|, radians (or the joint's unit). */
  readonly maxCorrection: Float64Array;

  private readonly jointState: Float32Array;
  private readonly targetValues: Float32Array;
  private readonly feeds: Record<string, ort.Tensor>;
  private readonly fetches: string[];
  private readonly outputName: string;
  private readonly stateMean: Float64Array;
  private readonly stateScale: Float64Array;
  private readonly targetMean: Float64Array;
  private readonly targetScale: Float64Array;
  private readonly correctionMean: Float64Array;
  private readonly correctionStd: Float64Array;
  private readonly result: Float64Array;
  private busy = false;
  private closed = false;

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly manifest: LearnedStageManifest,
    readonly modelPath: string,
    provider: string,
    fallbacks: ProviderFallback[],
  ) {
    this.provider = provider;
    this.fallbacks = fallbacks;
    const j = manifest.joints.length;
    const k = manifest.lookahead;
    this.joints = j;
    this.lookahead = k;
    const bound = manifest.max_correction;
    this.maxCorrection = Float64Array.from({ length: j }, (_, i) =>
      typeof bound === 'number' ? bound : (bound[i] as number),
    );
    // Input buffers are allocated once; the tensors wrap them, so a call only refills them.
    this.jointState = new Float32Array(2 * j);
    this.targetValues = new Float32Array(k * j);
    this.feeds = {
      [manifest.inputs.joint_state.name]: new ort.Tensor('float32', this.jointState, [1, 2 * j]),
      [manifest.inputs.targets.name]: new ort.Tensor('float32', this.targetValues, [1, k * j]),
    };
    this.outputName = manifest.outputs.correction.name;
    this.fetches = [this.outputName];
    const norm = manifest.normalization;
    [this.stateMean, this.stateScale] = inputStats(norm?.joint_state, 2 * j);
    [this.targetMean, this.targetScale] = inputStats(norm?.targets, k * j);
    this.correctionMean = Float64Array.from(norm?.correction?.mean ?? new Array(j).fill(0));
    this.correctionStd = Float64Array.from(norm?.correction?.std ?? new Array(j).fill(1));
    this.result = new Float64Array(j);
  }

  /**
   * Loads the package in `dir` for a cerebellum executing `spec` on `joints` (in the
   * controller's joint order). Throws an InputError for a missing, invalid or mismatched
   * pons.json or model.onnx.
   */
  static async load(
    dir: string,
    spec: ActionSpec,
    joints: readonly string[],
    options: LearnedStageOptions = {},
  ): Promise<LearnedStage> {
    const manifestPath = join(dir, MANIFEST_FILE);
    const modelPath = join(dir, MODEL_FILE);
    const manifest = parseLearnedStageManifest(readJsonFile(manifestPath), manifestPath);
    const id = specId(spec);
    if (manifest.spec_id !== id) {
      throw new InputError(
        manifestPath,
        'spec_id',
        `is ${shortId(manifest.spec_id)}…, but the cerebellum executes ActionSpec "${spec.name}" ` +
          `(${shortId(id)}…): the stage was trained for another action contract`,
      );
    }
    checkJoints(manifest.joints, joints, manifestPath);

    const bytes = readFileBytes(modelPath);
    const { session, provider, fallbacks } = await createSession(bytes, modelPath, options);
    try {
      checkModel(session, manifest, modelPath);
    } catch (err) {
      await session.release();
      throw err;
    }
    return new LearnedStage(session, manifest, modelPath, provider, fallbacks);
  }

  /**
   * One correction: `position` and `velocity` (J each) are the measured joint state, `targets`
   * the next K chunk targets, row-major K×J (step k, joint j at k·J + j). Writes J corrections,
   * each within ±maxCorrection, into `out`, which is left untouched when the call throws.
   * Calls must not overlap (one in flight at a time); any failure is a LearnedStageError.
   */
  async correct(
    position: Float64Array,
    velocity: Float64Array,
    targets: Float64Array,
    out: Float64Array,
  ): Promise<void> {
    if (this.closed) throw this.fail('closed', 'the stage has been closed');
    if (this.busy) throw this.fail('busy', 'a previous correct() call is still running');
    const j = this.joints;
    const kj = this.lookahead * j;
    if (position.length !== j || velocity.length !== j || out.length !== j) {
      throw this.fail(
        'input',
        `position, velocity and out need ${j} values (got ${position.length}, ` +
          `${velocity.length}, ${out.length})`,
      );
    }
    if (targets.length !== kj) {
      throw this.fail(
        'input',
        `targets needs ${kj} values (${this.lookahead} steps × ${j} joints), got ${targets.length}`,
      );
    }
    const state = this.jointState;
    const stateMean = this.stateMean;
    const stateScale = this.stateScale;
    for (let i = 0; i < j; i++) {
      state[i] = ((position[i] as number) - (stateMean[i] as number)) * (stateScale[i] as number);
      state[j + i] =
        ((velocity[i] as number) - (stateMean[j + i] as number)) * (stateScale[j + i] as number);
    }
    const tv = this.targetValues;
    const targetMean = this.targetMean;
    const targetScale = this.targetScale;
    for (let i = 0; i < kj; i++) {
      tv[i] = ((targets[i] as number) - (targetMean[i] as number)) * (targetScale[i] as number);
    }
    const badState = firstNonFinite(state);
    if (badState >= 0) {
      const [name, index] = badState < j ? ['position', badState] : ['velocity', badState - j];
      throw this.fail('input', `${name}[${index}] is not finite (or overflows float32)`);
    }
    const badTarget = firstNonFinite(tv);
    if (badTarget >= 0) {
      throw this.fail('input', `targets[${badTarget}] is not finite (or overflows float32)`);
    }

    this.busy = true;
    let raw: ArrayLike<number>;
    try {
      const outputs = await this.session.run(this.feeds, this.fetches);
      const tensor = outputs[this.outputName];
      if (tensor === undefined || tensor.type !== 'float32' || tensor.data.length !== j) {
        throw this.fail(
          'inference',
          `output "${this.outputName}" is not ${j} float32 values ` +
            `(${tensor === undefined ? 'missing' : `${tensor.type} × ${tensor.data.length}`})`,
        );
      }
      raw = tensor.data as Float32Array;
    } catch (err) {
      if (err instanceof LearnedStageError) throw err;
      throw this.fail('inference', (err as Error).message ?? String(err), err);
    } finally {
      this.busy = false;
    }

    const result = this.result;
    for (let i = 0; i < j; i++) {
      const value =
        (raw[i] as number) * (this.correctionStd[i] as number) + (this.correctionMean[i] as number);
      if (!Number.isFinite(value)) {
        throw this.fail('non_finite', `correction[${i}] (${this.manifest.joints[i]}) is ${value}`);
      }
      result[i] = value;
    }
    let clamped = 0;
    for (let i = 0; i < j; i++) {
      const bound = this.maxCorrection[i] as number;
      const value = result[i] as number;
      if (value > bound) {
        out[i] = bound;
        clamped++;
      } else if (value < -bound) {
        out[i] = -bound;
        clamped++;
      } else {
        out[i] = value;
      }
    }
    this.counters.clamped += clamped;
    this.counters.runs++;
  }

  /** Releases the onnxruntime session; later `correct()` calls throw a `closed` error. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.session.release();
  }

  private fail(code: LearnedStageErrorCode, reason: string, cause?: unknown): LearnedStageError {
    this.counters.failures++;
    return new LearnedStageError(
      code,
      this.modelPath,
      reason,
      cause === undefined ? {} : { cause },
    );
  }
}

function inputStats(
  stats: { mean: number[]; std: number[] } | undefined,
  width: number,
): [Float64Array, Float64Array] {
  const mean = new Float64Array(width);
  const scale = new Float64Array(width).fill(1);
  if (stats !== undefined) {
    for (let i = 0; i < width; i++) {
      mean[i] = stats.mean[i] as number;
      scale[i] = 1 / (stats.std[i] as number);
    }
  }
  return [mean, scale];
}

function firstNonFinite(values: Float32Array): number {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) return i;
  }
  return -1;
}

function checkJoints(declared: readonly string[], executed: readonly string[], source: string) {
  if (declared.length !== executed.length) {
    throw new InputError(
      source,
      'joints',
      `names ${declared.length} joints [${declared.join(', ')}], the cerebellum controls ` +
        `${executed.length} [${executed.join(', ')}]`,
    );
  }
  for (let i = 0; i < declared.length; i++) {
    if (declared[i] !== executed[i]) {
      throw new InputError(
        source,
        `joints[${i}]`,
        `is "${declared[i]}", the cerebellum's joint ${i} is "${executed[i]}" ` +
          `(joints [${executed.join(', ')}], in this order)`,
      );
    }
  }
}

/** Names, then (where the model declares them) element types and shapes, against pons.json. */
function checkModel(
  session: ort.InferenceSession,
  manifest: LearnedStageManifest,
  modelPath: string,
): void {
  const declaredInputs = [
    ['inputs.joint_state', manifest.inputs.joint_state],
    ['inputs.targets', manifest.inputs.targets],
  ] as const;
  const fed = new Set(declaredInputs.map(([, t]) => t.name));
  for (const [field, tensor] of declaredInputs) {
    checkTensor(session, 'input', expectation(tensor), modelPath, field);
  }
  const extra = session.inputNames.filter((name) => !fed.has(name));
  if (extra.length > 0) {
    throw new InputError(
      modelPath,
      'inputs',
      `the model also needs ${extra.map((n) => `"${n}"`).join(', ')}, which pons.json does not declare`,
    );
  }
  const output = manifest.outputs.correction;
  checkTensor(session, 'output', expectation(output), modelPath, 'outputs.correction');
}

function expectation(tensor: { name: string; shape: readonly number[] }): TensorExpectation {
  return { name: tensor.name, types: ['float32'], shape: tensor.shape };
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

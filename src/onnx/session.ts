import * as ort from 'onnxruntime-node';
import { InputError } from '../contract/index.js';

/**
 * onnxruntime sessions with the execution-provider fallback that onnxruntime-node lacks:
 * asking for `cuda` where its provider files are missing throws instead of falling back, so
 * each provider is tried alone, in order, and every failure is kept with its reason.
 */

// A provider that cannot load is reported by pons as a fallback, with its reason;
// onnxruntime's own logger would also print it to stderr as an error on every try.
ort.env.logLevel = 'fatal';

export interface SessionOptions {
  /**
   * Execution providers in order of preference (onnxruntime names: `cuda`, `cpu`, `webgpu`,
   * ...). `cpu` is tried last when the list does not name it. Default `['cpu']`.
   */
  providers?: readonly string[];
  /** Threads onnxruntime may use inside one run; 0 lets onnxruntime choose. */
  intraOpThreads?: number;
}

export interface ProviderFallback {
  provider: string;
  reason: string;
}

export interface OpenedSession {
  session: ort.InferenceSession;
  /** The provider the session actually runs on. */
  provider: string;
  /** Providers tried before `provider`, and why each failed. */
  fallbacks: ProviderFallback[];
}

/**
 * Creates a session for `model`: the file's bytes, or its path (needed for models whose
 * weights sit in an external `.onnx_data` file beside them). `modelPath` is named in every error.
 */
export async function createSession(
  model: Uint8Array | string,
  modelPath: string,
  options: SessionOptions = {},
): Promise<OpenedSession> {
  const wanted = [...(options.providers ?? ['cpu'])];
  if (!wanted.includes('cpu')) wanted.push('cpu');
  const fallbacks: ProviderFallback[] = [];
  for (const provider of wanted) {
    try {
      const sessionOptions: ort.InferenceSession.SessionOptions = {
        executionProviders: [provider],
        intraOpNumThreads: options.intraOpThreads ?? 1,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
        logSeverityLevel: 3,
      };
      const session =
        typeof model === 'string'
          ? await ort.InferenceSession.create(model, sessionOptions)
          : await ort.InferenceSession.create(model, sessionOptions);
      return { session, provider, fallbacks };
    } catch (err) {
      const reason = firstLine((err as Error).message ?? String(err));
      if (provider === 'cpu') {
        throw new InputError(modelPath, '', `cannot be loaded by onnxruntime: ${reason}`);
      }
      fallbacks.push({ provider, reason });
    }
  }
  // Unreachable: cpu is always in the list and either returns or throws above.
  throw new InputError(modelPath, '', 'no execution provider could load it');
}

/** What a graph's input or output must be: element types allowed, and a shape (null = any). */
export interface TensorExpectation {
  name: string;
  types: readonly ort.Tensor.Type[];
  shape: readonly (number | null)[];
}

/**
 * Checks one declared input or output of `session` against `want`. `field` names the place
 * in the package that declared it; errors name `<field>.name`, `.type` or `.shape`. Returns the element type the model
 * uses. Older onnxruntime builds carry no metadata; then only the name is checked.
 */
export function checkTensor(
  session: ort.InferenceSession,
  direction: 'input' | 'output',
  want: TensorExpectation,
  modelPath: string,
  field: string,
): ort.Tensor.Type | undefined {
  const names = direction === 'input' ? session.inputNames : session.outputNames;
  const index = names.indexOf(want.name);
  if (index < 0) {
    throw new InputError(
      modelPath,
      `${field}.name`,
      `the model has no ${direction} "${want.name}" (its ${direction}s: ${names.join(', ')})`,
    );
  }
  const meta = (direction === 'input' ? session.inputMetadata : session.outputMetadata)?.[index];
  if (meta === undefined) return undefined;
  if (!meta.isTensor)
    throw new InputError(modelPath, `${field}.name`, `"${want.name}" is not a tensor`);
  if (!want.types.includes(meta.type)) {
    throw new InputError(
      modelPath,
      `${field}.type`,
      `"${want.name}" holds ${meta.type}, expected ${want.types.join(' or ')}`,
    );
  }
  if (meta.shape.length === 0) return meta.type; // shape not declared by the model
  const fits =
    meta.shape.length === want.shape.length &&
    meta.shape.every((dim, i) => {
      const expected = want.shape[i];
      return typeof dim === 'string' || dim < 0 || expected === null || dim === expected;
    });
  if (!fits) {
    throw new InputError(
      modelPath,
      `${field}.shape`,
      `"${want.name}" is [${meta.shape.join(', ')}], expected ` +
        `[${want.shape.map((d) => d ?? '?').join(', ')}]`,
    );
  }
  return meta.type;
}

export function firstLine(text: string): string {
  return text.split('\n')[0]?.trim() ?? text;
}

import { LearnedStage, type LearnedStageOptions } from '../cerebellum/learned-stage.js';
import type { ActionSpec } from '../contract/index.js';
import { percentile, round } from './percentiles.js';

/**
 * The cost of one learned-stage correction (`LearnedStage.correct`: normalize, onnxruntime
 * run, checks, clamp), hot: back to back after a warm-up, in microseconds. The controller
 * calls it once per chunk step, off the control thread, so the budget is the step period;
 * these numbers say how much of it (and of a control period) one correction takes.
 */
export interface LearnedStageBenchResult {
  iterations: number;
  p50_us: number;
  p99_us: number;
  max_us: number;
  /** The execution provider the session ran on. */
  provider: string;
}

export async function runLearnedStageBench(
  dir: string,
  spec: ActionSpec,
  iterations = 5_000,
  options: LearnedStageOptions & { warmup?: number } = {},
): Promise<LearnedStageBenchResult> {
  const joints = spec.dimensions.filter((d) => d.kind === 'joint_position').map((d) => d.name);
  const stage = await LearnedStage.load(dir, spec, joints, options);
  try {
    const j = stage.joints;
    const k = stage.lookahead;
    const position = new Float64Array(j);
    const velocity = new Float64Array(j);
    const targets = new Float64Array(k * j);
    const out = new Float64Array(j);
    // A slow sweep, so the inputs change every call as they do on a robot.
    const fill = (n: number) => {
      const t = n * 0.002;
      for (let i = 0; i < j; i++) {
        position[i] = 0.8 * Math.sin(t + i);
        velocity[i] = 0.8 * Math.cos(t + i);
        for (let s = 0; s < k; s++) targets[s * j + i] = 0.8 * Math.sin(t + i + (s + 1) * 0.05);
      }
    };
    const warmup = options.warmup ?? 500;
    for (let n = 0; n < warmup; n++) {
      fill(n);
      await stage.correct(position, velocity, targets, out);
    }
    const samples = new Array<number>(iterations);
    for (let n = 0; n < iterations; n++) {
      fill(warmup + n);
      const start = process.hrtime.bigint();
      await stage.correct(position, velocity, targets, out);
      samples[n] = Number(process.hrtime.bigint() - start) / 1e3;
    }
    return {
      iterations,
      p50_us: round(percentile(samples, 50)),
      p99_us: round(percentile(samples, 99)),
      max_us: round(percentile(samples, 100)),
      provider: stage.provider,
    };
  } finally {
    await stage.close();
  }
}

import { percentile, round } from '../bench/percentiles.js';
import { BrainRuntime } from '../brain/index.js';
import { type ActionSpec, InputError, JointOrder } from '../contract/index.js';
import {
  ChunkedEpisode,
  createSimulator,
  type JointState,
  type Frame as SimFrame,
} from '../sim/index.js';
import { tokenizerFor } from '../tokenizer/index.js';
import type { ExecutionFactory } from './cerebellum-execution.js';
import { EPISODE_SECONDS } from './episode-runner.js';

/**
 * `pons sim eval`: a brain package in closed loop with the embedded simulator in one process,
 * as fast as the CPU allows (not paced to the wall clock): each decision is the brain
 * runtime's on the camera frame and the instruction (no privileged state), its tokens go
 * through the spec's tokenizer, and the chunk is executed for 1/rate s before the next
 * decision, by the cerebellum's controller (`execution`) or as decoded, as `pons sim collect`
 * executes the expert's. Seeds and budgets are `pons sim run`'s.
 */

export interface BrainEvalOptions {
  brain: string;
  tasks: string[];
  episodes: number;
  seed: number;
  /** Decisions per sim second: each chunk runs 1/rate s (at most its horizon). */
  rateHz: number;
  providers: string[];
  /** How chunks are executed (default: as decoded, interpolated). */
  execution?: ExecutionFactory;
  progress: (message: string) => void;
}

export interface BrainEvalEpisode {
  task: string;
  seed: number;
  instruction: string;
  success: boolean;
  seconds: number;
  decisions: number;
}

export interface BrainEvalTask {
  task: string;
  episodes: number;
  success_rate: number;
  mean_length_s: number;
  decision_ms_p50: number;
}

/**
 * A brain package as a chunk policy on the simulator: frame + instruction (+ the joint state,
 * for a package whose prompt holds it) → joint chunk.
 */
export interface BrainPolicy {
  readonly spec: ActionSpec;
  decide(
    frame: SimFrame,
    instruction: string,
    source: string,
    joints: JointState,
  ): Promise<BrainChunk>;
  close(): Promise<void>;
}

export interface BrainChunk {
  chunk: Float64Array;
  ms: number;
}

export async function openBrainPolicy(dir: string, providers: string[]): Promise<BrainPolicy> {
  const runtime = await BrainRuntime.open(dir, { providers, intraOpThreads: 1 });
  const tokenizer = tokenizerFor(runtime.pkg.spec);
  const order = new JointOrder(runtime.pkg.spec.dimensions.map((d) => d.name));
  return {
    spec: runtime.pkg.spec,
    decide: async (frame, instruction, source, joints) => {
      if (runtime.needsState && !order.take(joints.names, joints.position)) {
        throw new InputError(
          source,
          'joints',
          `lack a joint of the spec (${order.joints.join(', ')})`,
        );
      }
      const decision = await runtime.decide({ ...frame, kind: 'raw' }, instruction, {
        source,
        ...(runtime.needsState ? { state: order.position } : {}),
      });
      const chunk = tokenizer.decode(decision.tokens, runtime.pkg.dir);
      return { chunk, ms: decision.timings.total_ms };
    },
    close: () => runtime.close(),
  };
}

export async function evaluateBrain(
  options: BrainEvalOptions,
): Promise<{ tasks: BrainEvalTask[]; episodes: BrainEvalEpisode[] }> {
  const brain = await openBrainPolicy(options.brain, options.providers);
  const sim = await createSimulator();
  try {
    const episodes: BrainEvalEpisode[] = [];
    const decisionMs: Record<string, number[]> = {};
    for (const task of options.tasks) {
      const ms: number[] = [];
      decisionMs[task] = ms;
      for (let i = 0; i < options.episodes; i++) {
        const seed = options.seed + i;
        sim.reset(seed, task);
        const instruction = sim.taskInstruction;
        const episode = new ChunkedEpisode(sim, brain.spec, EPISODE_SECONDS[task] ?? 30, {
          replanSeconds: 1 / options.rateHz,
          ...(options.execution ? { execution: options.execution(sim) } : {}),
        });
        while (!episode.done) {
          const source = `sim ${task} seed ${seed}`;
          const decided = await brain.decide(sim.render(), instruction, source, sim.jointState());
          ms.push(decided.ms);
          episode.execute(decided.chunk);
        }
        const { success, seconds, chunks } = episode.result;
        episodes.push({ task, seed, instruction, success, seconds, decisions: chunks });
        options.progress(
          `${task} seed ${seed}: ${success ? 'success' : 'FAILED'} in ${seconds.toFixed(1)} s`,
        );
      }
    }
    const tasks = options.tasks.map((task) => {
      const mine = episodes.filter((e) => e.task === task);
      return {
        task,
        episodes: mine.length,
        success_rate: round(mine.filter((e) => e.success).length / mine.length, 3),
        mean_length_s: round(mine.reduce((a, e) => a + e.seconds, 0) / mine.length, 2),
        decision_ms_p50: round(percentile(decisionMs[task] ?? [], 50), 1),
      };
    });
    return { tasks, episodes };
  } finally {
    sim.dispose();
    await brain.close();
  }
}

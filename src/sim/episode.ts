import { type ActionSpec, InputError } from '../contract/index.js';
import type { SimState, Simulator } from './simulator.js';

/**
 * Closed-loop episodes with a chunking policy: ask for a chunk (the spec's H steps of joint
 * positions, step k due k·dt after the state it was planned from), execute it by linear
 * interpolation between steps at the physics rate (velocities fed forward from the slope),
 * and ask again when it is used up, or after `replanSeconds` (as a brain deciding at a
 * steady rate, whose newest chunk the cerebellum switches to, time-aligned). The policy may be
 * the scripted expert, the expert through the tokenizer, or a model.
 */

export type ChunkPolicy = (state: SimState) => Float64Array;

export interface EpisodeResult {
  success: boolean;
  /** Sim time until success, or the whole budget. */
  seconds: number;
  ticks: number;
  chunks: number;
}

export interface ChunkedEpisodeOptions {
  /** Ask for a new chunk this long after the last one (default: when it is used up). */
  replanSeconds?: number;
  /** Runs before each physics tick, `tick` counted from the episode's start (record here). */
  beforeTick?: (tick: number) => void;
}

export function runChunkedEpisode(
  sim: Simulator,
  spec: ActionSpec,
  policy: ChunkPolicy,
  budgetSeconds: number,
  options: ChunkedEpisodeOptions = {},
): EpisodeResult {
  const episode = new ChunkedEpisode(sim, spec, budgetSeconds, options);
  while (!episode.done) episode.execute(policy(sim.state()));
  return episode.result;
}

/**
 * One episode executed chunk by chunk, for policies that decide asynchronously (a model):
 * `execute` runs a chunk until it is used up (or `replanSeconds`), success, or the budget.
 */
export class ChunkedEpisode {
  private readonly joints: number[];
  private readonly ticksPerChunk: number;
  private readonly budget: number;
  private readonly position: Float64Array;
  private readonly velocity: Float64Array;
  private ticks = 0;
  private chunks = 0;
  private succeeded = false;

  constructor(
    private readonly sim: Simulator,
    private readonly spec: ActionSpec,
    budgetSeconds: number,
    private readonly options: ChunkedEpisodeOptions = {},
  ) {
    this.joints = spec.dimensions.map((d, i) => {
      const j = sim.jointNames.indexOf(d.name);
      if (j < 0) {
        throw new InputError(
          `spec ${spec.name}`,
          `dimensions[${i}].name`,
          `'${d.name}' is not a joint of the arm`,
        );
      }
      return j;
    });
    const period = sim.physicsPeriodSeconds;
    this.ticksPerChunk = Math.min(
      Math.round((spec.horizon * spec.dt) / period),
      Math.round((options.replanSeconds ?? Number.POSITIVE_INFINITY) / period),
    );
    if (!(this.ticksPerChunk >= 1)) {
      throw new RangeError(`replanSeconds ${options.replanSeconds} is shorter than a physics tick`);
    }
    this.budget = Math.round(budgetSeconds / period);
    this.position = new Float64Array(sim.jointNames.length);
    this.velocity = new Float64Array(sim.jointNames.length);
  }

  get done(): boolean {
    return this.succeeded || this.ticks >= this.budget;
  }

  get result(): EpisodeResult {
    const seconds = this.ticks * this.sim.physicsPeriodSeconds;
    return { success: this.succeeded, seconds, ticks: this.ticks, chunks: this.chunks };
  }

  /** Executes `chunk` (H steps × D joints, step-major, step k due k·dt from now). */
  execute(chunk: ArrayLike<number>): void {
    const { sim, spec, joints, position, velocity } = this;
    const H = spec.horizon;
    const D = spec.dimensions.length;
    if (chunk.length !== H * D) {
      throw new RangeError(`chunk has ${chunk.length} values, not H·D = ${H * D}`);
    }
    this.chunks++;
    const period = sim.physicsPeriodSeconds;
    for (let j = 0; j < this.ticksPerChunk && !this.done; j++) {
      const s = (j * period) / spec.dt;
      const k = Math.min(Math.floor(s), H - 1);
      const next = Math.min(k + 1, H - 1);
      const f = next > k ? s - k : 0;
      for (let d = 0; d < D; d++) {
        const a = chunk[k * D + d] as number;
        const b = chunk[next * D + d] as number;
        position[joints[d] as number] = a + f * (b - a);
        velocity[joints[d] as number] = (b - a) / spec.dt;
      }
      this.options.beforeTick?.(this.ticks);
      sim.applyJointTargets(position, velocity);
      sim.step();
      this.ticks++;
      if (sim.success()) this.succeeded = true;
    }
  }
}

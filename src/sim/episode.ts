import { type ActionSpec, InputError } from '../contract/index.js';
import type { SimState, Simulator } from './simulator.js';

/**
 * Closed-loop episodes with a chunking policy: ask for a chunk (the spec's H steps of joint
 * positions, step k due k·dt after the state it was planned from), execute it at the physics
 * rate, and ask again when it is used up, or after `replanSeconds` (as a brain deciding at a
 * steady rate). The policy may be the scripted expert, the expert through the tokenizer, or a
 * model. How a chunk becomes each tick's joint targets is a `ChunkExecution`: by default
 * linear interpolation between its steps; the nodes layer plugs in the cerebellum's own
 * controller (src/nodes/cerebellum-execution.ts), so that in-process episodes move the arm as
 * a deployed cerebellum would.
 */

export type ChunkPolicy = (state: SimState) => Float64Array;

/** Turns chunks into joint targets, one physics tick at a time. */
export interface ChunkExecution {
  /** A chunk (spec layout) planned from the state at sim time `timeNs`, to run from now. */
  begin(chunk: ArrayLike<number>, timeNs: bigint): void;
  /**
   * The joint targets (the simulator's joint order) for the physics tick that starts at sim
   * time `timeNs`: positions, and velocities fed forward.
   */
  targets(timeNs: bigint, position: Float64Array, velocity: Float64Array): void;
}

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
  /** How chunks are executed (default: `InterpolatedExecution`). */
  execution?: ChunkExecution;
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
 * Each chunk executed as it is: linear interpolation between its steps, velocities fed
 * forward from the slope, the last step held.
 */
export class InterpolatedExecution implements ChunkExecution {
  private readonly joints: number[];
  private chunk: ArrayLike<number> = [];
  private startNs = 0n;

  constructor(
    private readonly spec: ActionSpec,
    jointNames: readonly string[],
  ) {
    this.joints = spec.dimensions.map((d, i) => {
      const j = jointNames.indexOf(d.name);
      if (j < 0) {
        throw new InputError(
          `spec ${spec.name}`,
          `dimensions[${i}].name`,
          `'${d.name}' is not a joint of the arm`,
        );
      }
      return j;
    });
  }

  begin(chunk: ArrayLike<number>, timeNs: bigint): void {
    this.chunk = chunk;
    this.startNs = timeNs;
  }

  targets(timeNs: bigint, position: Float64Array, velocity: Float64Array): void {
    const { spec, chunk, joints } = this;
    const H = spec.horizon;
    const D = spec.dimensions.length;
    const s = Number(timeNs - this.startNs) / 1e9 / spec.dt;
    const k = Math.min(Math.floor(s), H - 1);
    const next = Math.min(k + 1, H - 1);
    const f = next > k ? s - k : 0;
    for (let d = 0; d < D; d++) {
      const a = chunk[k * D + d] as number;
      const b = chunk[next * D + d] as number;
      position[joints[d] as number] = a + f * (b - a);
      velocity[joints[d] as number] = (b - a) / spec.dt;
    }
  }
}

/**
 * One episode executed chunk by chunk, for policies that decide asynchronously (a model):
 * `execute` runs a chunk until it is used up (or `replanSeconds`), success, or the budget.
 */
export class ChunkedEpisode {
  private readonly execution: ChunkExecution;
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
    this.execution = options.execution ?? new InterpolatedExecution(spec, sim.jointNames);
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
    const { sim, spec, position, velocity } = this;
    const H = spec.horizon;
    const D = spec.dimensions.length;
    if (chunk.length !== H * D) {
      throw new RangeError(`chunk has ${chunk.length} values, not H·D = ${H * D}`);
    }
    this.chunks++;
    this.execution.begin(chunk, sim.timeNs);
    for (let j = 0; j < this.ticksPerChunk && !this.done; j++) {
      this.execution.targets(sim.timeNs, position, velocity);
      this.options.beforeTick?.(this.ticks);
      sim.applyJointTargets(position, velocity);
      sim.step();
      this.ticks++;
      if (sim.success()) this.succeeded = true;
    }
  }
}

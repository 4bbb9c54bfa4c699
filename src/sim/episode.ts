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
  const H = spec.horizon;
  const D = spec.dimensions.length;
  const joints = spec.dimensions.map((d, i) => {
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
  const ticksPerChunk = Math.min(
    Math.round((H * spec.dt) / period),
    Math.round((options.replanSeconds ?? Number.POSITIVE_INFINITY) / period),
  );
  if (!(ticksPerChunk >= 1)) {
    throw new RangeError(`replanSeconds ${options.replanSeconds} is shorter than a physics tick`);
  }
  const budget = Math.round(budgetSeconds / period);
  const position = new Float64Array(sim.jointNames.length);
  const velocity = new Float64Array(sim.jointNames.length);
  let ticks = 0;
  let chunks = 0;
  while (ticks < budget) {
    const chunk = policy(sim.state());
    chunks++;
    if (chunk.length !== H * D) {
      throw new RangeError(`chunk has ${chunk.length} values, not H·D = ${H * D}`);
    }
    for (let j = 0; j < ticksPerChunk && ticks < budget; j++) {
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
      options.beforeTick?.(ticks);
      sim.applyJointTargets(position, velocity);
      sim.step();
      ticks++;
      if (sim.success()) return { success: true, seconds: ticks * period, ticks, chunks };
    }
  }
  return { success: false, seconds: ticks * period, ticks, chunks };
}

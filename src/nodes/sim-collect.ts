import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate } from 'node:timers/promises';
import { type ActionSpec, InputError, specId } from '../contract/index.js';
import { Recorder, type RecorderCounters } from '../record/recorder.js';
import { episodeEventMsg, PONS_TYPES } from '../ros/index.js';
import {
  ChunkedEpisode,
  createSimulator,
  type EpisodeLayout,
  Random,
  ScriptedExpert,
  type SimState,
  type Task,
  type TaskKind,
} from '../sim/index.js';
import { tokenizerFor } from '../tokenizer/index.js';
import type { BrainPolicy } from './brain-eval.js';
import {
  recordDecision,
  recordFrame,
  recordInstruction,
  recordJointState,
} from './brain-recording.js';
import type { ExecutionFactory } from './cerebellum-execution.js';
import type { RobotProfile } from './profile.js';

/**
 * Recorded expert demonstrations, as fast as the CPU allows: the simulator and the scripted
 * expert in one process, no wall-clock pacing. The expert decides at `rateHz` of sim time, its
 * chunks go through the tokenizer and are executed time-aligned (step k at the decision's
 * stamp + k·dt) by the in-process episode loop, and everything is recorded in the topic layout
 * of `pons brain --record` (camera frames, joint states, the instruction, ActionTokens), plus a
 * pons_msgs/EpisodeEvent at each episode's start and end. One MCAP file per run; its clock is
 * sim time, continuous across the run's episodes (each starts a second after the last ended).
 */

export const EPISODE_EVENTS_TOPIC = '/pons/episode';
export const EXPERT_MODEL_ID = 'scripted-expert';

export interface CollectOptions {
  spec: ActionSpec;
  /** Topic names (cameras, joint states, instruction): the robot profile's brain section. */
  brain: Pick<RobotProfile['brain'], 'cameras' | 'joint_states_topic' | 'instruction_topic'>;
  tasks: readonly TaskKind[];
  /** Episodes per task; episode i of a task uses seed + i. */
  episodes: number;
  seed: number;
  /** The directory the MCAP file goes to. */
  dir: string;
  /** Sim seconds an episode may take, per task. */
  budgetSeconds: (task: TaskKind) => number;
  /** Decisions per sim second (default 2, the expert's steady rate). */
  rateHz?: number;
  /** Camera frames and joint states per sim second (default 1/dt of the spec). */
  frameHz?: number;
  progress?: (done: number, total: number, episode: CollectedEpisode) => void;
  /**
   * DAgger: a learned brain acts (its chunks are executed) while the expert labels every
   * decision it makes (the expert's tokens are recorded), so the data covers the states the
   * brain's own mistakes lead to.
   */
  actor?: BrainPolicy;
  /**
   * DART: the executed chunk is the expert's with a random error (rad) added, growing from none
   * at step 0 to up to this much at the last step, drawn per decision and joint from the
   * episode's seed; the recorded tokens stay the expert's own. The data then covers the
   * states an imperfect brain drifts into, each labelled with the expert's way back.
   */
  noise?: number;
  /** How chunks are executed (default: as decoded, interpolated). */
  execution?: ExecutionFactory;
  /**
   * Each seed's scene is played once for every block in it as the task's block (same
   * layout, same zone, another instruction): the same first frame then comes with different
   * instructions and different actions, so the data itself says what the colour named in an
   * instruction picks. Episode ids end in the colour.
   */
  everyBlock?: boolean;
  /**
   * Decoys: for the first 0 to this many sim seconds of an episode (drawn from its seed), the
   * arm executes the expert's plan for another block of the scene, while the recorded tokens
   * stay the expert's plan for the task's block. The data then holds the hand near a block
   * the instruction does not name, labelled with the way to the one it does: a brain that
   * learned "the block nearest the hand" from demonstrations that always end at the target
   * sees that shortcut fail.
   */
  decoySeconds?: number;
}

export interface CollectedEpisode {
  id: string;
  task: TaskKind;
  seed: number;
  instruction: string;
  success: boolean;
  seconds: number;
  decisions: number;
  frames: number;
}

export interface Collection {
  file: string;
  episodes: CollectedEpisode[];
  wallSeconds: number;
  recorded: RecorderCounters;
}

/** Sim time between one episode's end and the next one's start in the recording. */
const GAP_NS = 1_000_000_000n;

export async function collectEpisodes(options: CollectOptions): Promise<Collection> {
  const { spec, brain, tasks, episodes, seed } = options;
  const source = 'sim collect';
  if (!Number.isInteger(episodes) || episodes < 1) {
    throw new InputError(source, 'episodes', `must be a positive integer, got ${episodes}`);
  }
  const noise = options.noise ?? 0;
  if (!(Number.isFinite(noise) && noise >= 0 && noise <= 1)) {
    throw new InputError(source, 'noise', `must be 0 to 1 rad, got ${noise}`);
  }
  const decoySeconds = options.decoySeconds ?? 0;
  if (!(Number.isFinite(decoySeconds) && decoySeconds >= 0)) {
    throw new InputError(source, 'decoy', `must be 0 or more seconds, got ${decoySeconds}`);
  }
  for (const [field, value] of [
    ['noise', noise],
    ['decoy', decoySeconds],
  ] as const) {
    if (value > 0 && options.actor) {
      throw new InputError(
        source,
        field,
        'changes how the expert acts; with a brain acting (DAgger) leave it out',
      );
    }
  }
  const rateHz = options.rateHz ?? 2;
  const frameHz = options.frameHz ?? 1 / spec.dt;
  for (const [field, hz] of [
    ['rate', rateHz],
    ['fps', frameHz],
  ] as const) {
    if (!(hz > 0 && hz <= 200)) {
      throw new InputError(source, field, `must be above 0 and at most 200 Hz, got ${hz}`);
    }
  }
  const camera = brain.cameras[0]?.name;
  if (camera === undefined) throw new InputError(source, 'brain.cameras', 'names no camera');
  mkdirSync(options.dir, { recursive: true });
  const file = join(options.dir, `collect-${tasks.join('-')}-${seed}.mcap`);
  const recorder = await Recorder.open(file, { maxQueue: 1 << 20 });
  const sim = await createSimulator();
  const expert = new ScriptedExpert(spec, sim.arm, sim.scene);
  const tokenizer = tokenizerFor(spec);
  const id = specId(spec);
  const periodNs = sim.physicsPeriodNs;
  const frameTicks = Math.max(1, Math.round(1 / frameHz / sim.physicsPeriodSeconds));
  const frame = new Uint8Array(3 * sim.camera.width * sim.camera.height);
  const started = performance.now();
  // Every episode to play: a seed's scene, once per block in it with `everyBlock`.
  const plays: { task: TaskKind; seed: number; layout: EpisodeLayout; id: string }[] = [];
  for (const task of tasks) {
    for (let i = 0; i < episodes; i++) {
      sim.reset(seed + i, task);
      const drawn = sim.layout;
      const targets = options.everyBlock ? drawn.blocks.map((b) => b.colour) : [drawn.task.colour];
      for (const colour of targets) {
        const id = `${task}-${seed + i}${options.everyBlock ? `-${colour}` : ''}`;
        plays.push({
          task,
          seed: seed + i,
          layout: { ...drawn, task: { ...drawn.task, colour } },
          id,
        });
      }
    }
  }
  const total = plays.length;
  const collected: CollectedEpisode[] = [];
  let baseNs = 0n;
  let seq = 0;
  try {
    for (const play of plays) {
      const { task, id: episodeId } = play;
      sim.resetTo(play.layout);
      const instruction = sim.taskInstruction;
      const event = { episodeId, task, seed: play.seed, instruction };
      const at = (ns: bigint) => baseNs + ns;
      recorder.record(
        EPISODE_EVENTS_TOPIC,
        PONS_TYPES.episodeEvent,
        at(0n),
        episodeEventMsg({ ...event, event: 'start', stampNs: at(0n) }),
        'reliable',
      );
      recordInstruction(recorder, brain, at(0n), instruction);
      let decisions = 0;
      let frames = 0;
      let decidedAtTick = -1;
      // The expert's plan as a brain would send it: through the tokenizer's bins.
      const planned = (state: SimState, task: Task) => tokenizer.encode(expert.plan(state, task));
      const label = (state: SimState): Float64Array => {
        const tokens = planned(state, sim.task);
        const stampNs = at(state.timeNs);
        recordDecision(recorder, {
          spec_id: id,
          model_id: EXPERT_MODEL_ID,
          episode_id: episodeId,
          seq: seq++,
          obs_stamp_ns: stampNs,
          emit_stamp_ns: stampNs,
          tokens,
          timings_ms: {},
        });
        decisions++;
        decidedAtTick = Number(state.timeNs / periodNs);
        return tokenizer.decode(tokens, source);
      };
      const episode = new ChunkedEpisode(sim, spec, options.budgetSeconds(task), {
        replanSeconds: 1 / rateHz,
        ...(options.execution ? { execution: options.execution(sim) } : {}),
        // Every decision sees a frame and a joint state of its own stamp, as a brain does.
        beforeTick: (tick) => {
          if (tick % frameTicks !== 0 && tick !== decidedAtTick) return;
          const stampNs = at(sim.timeNs);
          const { encoding, width, height, step, data } = sim.render(frame);
          recordFrame(recorder, brain, camera, stampNs, stampNs, {
            kind: 'raw',
            encoding,
            width,
            height,
            step,
            data,
          });
          const joints = sim.jointState();
          recordJointState(recorder, brain, stampNs, stampNs, joints.names, joints.position);
          frames++;
        },
      });
      const rng = new Random(play.seed);
      const decoy = decoySeconds > 0 ? decoyTask(sim.task, sim.state(), decoySeconds, rng) : null;
      while (!episode.done) {
        const chunk = label(sim.state());
        if (noise > 0) perturb(chunk, spec, noise, rng);
        const acted = options.actor
          ? (
              await options.actor.decide(
                sim.render(),
                instruction,
                `${source} ${episodeId}`,
                sim.jointState(),
              )
            ).chunk
          : decoy && sim.timeNs < decoy.untilNs
            ? tokenizer.decode(planned(sim.state(), decoy.task), source)
            : chunk;
        episode.execute(acted);
      }
      const result = episode.result;
      const endNs = at(sim.timeNs);
      recorder.record(
        EPISODE_EVENTS_TOPIC,
        PONS_TYPES.episodeEvent,
        endNs,
        episodeEventMsg({
          ...event,
          event: 'end',
          stampNs: endNs,
          success: result.success,
          duration: result.seconds,
        }),
        'reliable',
      );
      baseNs = endNs + GAP_NS;
      // The episode ran without yielding; let the recorder catch up before the next one, and
      // the event loop turn: @napi-rs/canvas frees the pixel buffers of the renderer's
      // readbacks from it (without a turn, memory grows by ~0.25 MB a frame).
      await recorder.drained();
      await setImmediate();
      const done: CollectedEpisode = {
        id: episodeId,
        task,
        seed: play.seed,
        instruction,
        success: result.success,
        seconds: result.seconds,
        decisions,
        frames,
      };
      collected.push(done);
      options.progress?.(collected.length, total, done);
    }
  } finally {
    await recorder.close();
    sim.dispose();
  }
  if (recorder.counters.dropped > 0) {
    throw new Error(`${file}: the recorder dropped ${recorder.counters.dropped} messages`);
  }
  return {
    file,
    episodes: collected,
    wallSeconds: (performance.now() - started) / 1000,
    recorded: recorder.counters,
  };
}

/** The task a decoy episode starts on: another block of the scene, until a drawn time. */
function decoyTask(
  task: Task,
  state: SimState,
  seconds: number,
  rng: Random,
): { task: Task; untilNs: bigint } | null {
  const others = state.blocks.filter((b) => b.colour !== task.colour);
  if (others.length === 0) return null;
  const untilNs = BigInt(Math.round(rng.uniform(0, seconds) * 1e9));
  return { task: { ...task, colour: rng.pick(others).colour }, untilNs };
}

/** DART's perturbation: per joint an error uniform in ±`noise` at the last step, 0 at step 0. */
function perturb(chunk: Float64Array, spec: ActionSpec, noise: number, rng: Random): void {
  const H = spec.horizon;
  const D = spec.dimensions.length;
  for (let d = 0; d < D; d++) {
    const error = rng.uniform(-noise, noise);
    for (let k = 1; k < H; k++)
      chunk[k * D + d] = (chunk[k * D + d] as number) + (error * k) / (H - 1);
  }
}

import sharp from 'sharp';
import { BusPublisher, BusSubscriber, type LinkLog } from '../link/index.js';
import { SimRos } from '../ros/index.js';
import { createSimulator, type Simulator } from '../sim/index.js';
import { epochNowNs, type Mode } from '../wire/index.js';

/**
 * The embedded simulator as a robot without ROS: it binds the observation bus (camera
 * frames, joint states, the instruction, and privileged scene state for scripted experts)
 * and the command bus, and runs episodes paced to the wall clock, so the brain and the
 * cerebellum in other processes see it as they would a robot. Stamps are epoch ns of sim
 * time (episode start + sim time since reset), one clock for every node.
 *
 * A reset puts the arm back at its home pose. Commands still executing a chunk decided
 * before the reset are not applied (the arm holds at home until a chunk from the new
 * episode arrives); hold and e-stop commands always are.
 *
 * Its I/O is a port: the pons buses (`busSimIo`), or ROS 2 topics where ROS 2 is present
 * (`rosSimIo`: camera image, joint states, /clock and the instruction out, JointTrajectory
 * or Float64MultiArray commands in, as Gazebo and ros2_control offer them). ROS commands
 * carry no mode or chunk stamp: they are always applied, and holds are not counted.
 */

/** A command as the simulator applies it. */
export interface SimCommand {
  position: ArrayLike<number>;
  velocity?: ArrayLike<number>;
  /** The cerebellum's mode and the executed chunk's observation stamp, when the bus says. */
  mode?: Mode;
  obsStampNs?: bigint;
}

export interface SimIo {
  frame(stampNs: bigint, width: number, height: number, data: Uint8Array): void;
  joints(stampNs: bigint, names: string[], position: Float64Array, velocity: Float64Array): void;
  /** Privileged block poses, for a scripted expert (bus only). */
  scene(stampNs: bigint, episodeId: string, names: string[], pose: Float64Array): void;
  instruction(stampNs: bigint, text: string): void;
  onCommand(handler: (command: SimCommand) => void): void;
  close(): void | Promise<void>;
}

/** The simulator on the pons observation and command buses (it binds both). */
export async function busSimIo(
  observations: string,
  commands: string,
  log: LinkLog,
): Promise<SimIo> {
  const out = await BusPublisher.open({ endpoint: observations, bind: true, log });
  const inbox = await BusSubscriber.open({ endpoint: commands, bind: true, log }, ['command']);
  return {
    frame: (stamp_ns, width, height, data) =>
      out.publish({
        kind: 'frame',
        camera: 'overhead',
        stamp_ns,
        encoding: 'rgb8',
        width,
        height,
        data,
      }),
    joints: (stamp_ns, name, position, velocity) =>
      out.publish({ kind: 'joints', stamp_ns, name, position, velocity }),
    scene: (stamp_ns, episode_id, name, pose) =>
      out.publish({ kind: 'scene', stamp_ns, episode_id, name, pose }),
    instruction: (stamp_ns, text) => out.publish({ kind: 'instruction', stamp_ns, text }),
    onCommand: (handler) =>
      inbox.onPacket((p) => {
        if (p.kind === 'command') {
          handler({
            position: p.position,
            velocity: p.velocity,
            mode: p.mode,
            obsStampNs: p.obs_stamp_ns,
          });
        }
      }),
    close: () => {
      out.close();
      inbox.close();
    },
  };
}

/** The simulator on ROS 2 topics, the names the Gazebo profile uses. */
export async function rosSimIo(joints: readonly string[]): Promise<SimIo> {
  const ros = await SimRos.open({
    nodeName: 'pons_sim',
    cameraTopic: '/overhead_camera/image',
    jointStatesTopic: '/joint_states',
    instructionTopic: '/pons/instruction',
    trajectoryTopic: '/joint_trajectory_controller/joint_trajectory',
    forwardTopic: '/forward_command_controller/commands',
    joints,
  });
  return {
    frame: (stamp, width, height, data) => ros.publishFrame(stamp, width, height, data),
    joints: (stamp, names, position, velocity) =>
      ros.publishJoints(stamp, names, position, velocity),
    scene: () => {},
    instruction: (_stamp, text) => ros.publishInstruction(text),
    onCommand: (handler) =>
      ros.onCommand((position, velocity) =>
        handler(velocity ? { position, velocity } : { position }),
      ),
    close: () => ros.close(),
  };
}

export interface SimEpisodeRequest {
  task: string;
  seed: number;
}

export interface SimNodeOptions {
  /** The simulator's I/O: opened with the simulator's joint names. */
  io: (joints: readonly string[]) => Promise<SimIo>;
  episodes: readonly SimEpisodeRequest[];
  /** Sim seconds an episode may last before it counts as a failure. */
  maxSeconds: (task: string) => number;
  cameraHz?: number;
  jointsHz?: number;
  width?: number;
  height?: number;
  /** Seconds the episode goes on after success (the table shows the arm settled). */
  settleSeconds?: number;
  log: LinkLog;
  onEpisodeStart?: (index: number, instruction: string) => void;
  onEpisode?: (result: SimEpisodeResult) => void;
}

/** What an episode did, as the simulator saw it (the report draws from these). */
export interface SimEpisodeResult {
  index: number;
  task: string;
  instruction: string;
  seed: number;
  success: boolean;
  /** Sim seconds to success, or the whole episode when it failed. */
  seconds: number;
  frames: number;
  commands: number;
  /** Frame capture → first command executing a chunk decided on that frame (ms). */
  latencyMs: number[];
  /** Times the cerebellum went from running to holding (a silent brain, say). */
  holds: number;
  /**
   * Fastest joint speed while the cerebellum held, from 1 s after the hold began (it brakes
   * within its stopping time first) (rad/s): a held arm barely moves.
   */
  holdMaxSpeed: number;
  /** Sampled at 20 Hz: time (s), measured joints, commanded joints. */
  trace: { t: number; measured: number[]; commanded: number[] }[];
  /** A few camera frames for the report, PNG in base64. */
  snapshots: { t: number; width: number; height: number; png: string }[];
}

const TICK_MS = 5;

export class SimNode {
  private latest: SimCommand | undefined;
  /** Snapshot PNGs being encoded (off the episode loop); awaited before a result goes out. */
  private encoding: Promise<void>[] = [];
  private stopped = false;

  private constructor(
    private readonly sim: Simulator,
    private readonly io: SimIo,
    private readonly options: SimNodeOptions,
  ) {
    io.onCommand((command) => {
      this.latest = command;
    });
  }

  static async start(options: SimNodeOptions): Promise<SimNode> {
    const first = options.episodes[0];
    const sim = await createSimulator({
      ...(options.width === undefined ? {} : { width: options.width }),
      ...(options.height === undefined ? {} : { height: options.height }),
      ...(first ? { seed: first.seed, task: first.task } : {}),
    });
    return new SimNode(sim, await options.io(sim.jointNames), options);
  }

  /** Runs every episode in turn; resolves with their results. */
  async run(): Promise<SimEpisodeResult[]> {
    const results: SimEpisodeResult[] = [];
    for (const [index, request] of this.options.episodes.entries()) {
      if (this.stopped) break;
      const result = await this.episode(index, request);
      await Promise.all(this.encoding.splice(0));
      result.snapshots.sort((a, b) => a.t - b.t);
      results.push(result);
      this.options.onEpisode?.(result);
    }
    return results;
  }

  stop(): void {
    this.stopped = true;
  }

  async close(): Promise<void> {
    await this.io.close();
    this.sim.dispose();
  }

  private async episode(index: number, request: SimEpisodeRequest): Promise<SimEpisodeResult> {
    const { sim, options } = this;
    sim.reset(request.seed, request.task);
    const instruction = sim.taskInstruction;
    options.onEpisodeStart?.(index, instruction);
    const startNs = epochNowNs();
    const stamp = () => startNs + sim.timeNs;
    const framePeriodNs = BigInt(Math.round(1e9 / (options.cameraHz ?? 30)));
    const jointsPeriodNs = BigInt(Math.round(1e9 / (options.jointsHz ?? 100)));
    const tracePeriodNs = 50_000_000n;
    const maxNs = BigInt(Math.round(options.maxSeconds(sim.task.kind) * 1e9));
    const settleNs = BigInt(Math.round((options.settleSeconds ?? 0.5) * 1e9));
    const result: SimEpisodeResult = {
      index,
      task: sim.task.kind,
      instruction,
      seed: request.seed,
      success: false,
      seconds: 0,
      frames: 0,
      commands: 0,
      latencyMs: [],
      holds: 0,
      holdMaxSpeed: 0,
      trace: [],
      snapshots: [],
    };
    const frameStamps = new Set<bigint>();
    const seenObs = new Set<bigint>();
    let nextFrame = 0n;
    let nextJoints = 0n;
    let nextTrace = 0n;
    let nextInstruction = 0n;
    let successAt: bigint | undefined;
    let lastApplied: SimCommand | undefined;
    let lastMode = 'hold';
    let holdStartNs: bigint | undefined;
    const wallStart = performance.now();
    this.latest = undefined;
    while (!this.stopped) {
      // Advance sim time to the wall clock.
      const wallNs = BigInt(Math.round((performance.now() - wallStart) * 1e6));
      while (sim.timeNs + sim.physicsPeriodNs <= wallNs) {
        const command = this.latestCommand();
        if (command && command !== lastApplied && this.applies(command, startNs)) {
          sim.applyJointTargets(command.position, command.velocity);
          lastApplied = command;
          result.commands++;
          const obs = command.obsStampNs ?? 0n;
          if (obs > 0n && !seenObs.has(obs)) {
            seenObs.add(obs);
            if (frameStamps.has(obs)) result.latencyMs.push(Number(epochNowNs() - obs) / 1e6);
          }
          if (command.mode !== undefined) {
            if (command.mode !== 'run' && lastMode === 'run') {
              result.holds++;
              holdStartNs = sim.timeNs;
            }
            lastMode = command.mode;
          }
        }
        sim.step();
        const joints = sim.jointState();
        if (
          lastMode !== 'run' &&
          holdStartNs !== undefined &&
          sim.timeNs - holdStartNs > 1_000_000_000n
        ) {
          for (const v of joints.velocity) {
            result.holdMaxSpeed = Math.max(result.holdMaxSpeed, Math.abs(v));
          }
        }
        if (sim.timeNs >= nextJoints) {
          nextJoints += jointsPeriodNs;
          this.io.joints(stamp(), [...joints.names], joints.position, joints.velocity);
        }
        if (sim.timeNs >= nextFrame) {
          nextFrame += framePeriodNs;
          this.publishFrame(stamp(), frameStamps, result);
        }
        if (sim.timeNs >= nextInstruction) {
          // Repeated: a brain that (re)starts mid-episode hears it within a second.
          nextInstruction += 1_000_000_000n;
          this.io.instruction(stamp(), instruction);
        }
        if (sim.timeNs >= nextTrace) {
          nextTrace += tracePeriodNs;
          result.trace.push({
            t: Number(sim.timeNs) / 1e9,
            measured: Array.from(joints.position),
            commanded: lastApplied ? Array.from(lastApplied.position) : Array.from(joints.position),
          });
        }
        if (successAt === undefined && sim.success()) successAt = sim.timeNs;
        if (
          (successAt !== undefined && sim.timeNs - successAt >= settleNs) ||
          sim.timeNs >= maxNs
        ) {
          result.success = successAt !== undefined;
          result.seconds = Number(successAt ?? sim.timeNs) / 1e9;
          return result;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, TICK_MS));
    }
    result.seconds = Number(sim.timeNs) / 1e9;
    return result;
  }

  private latestCommand(): SimCommand | undefined {
    return this.latest;
  }

  /** A command executing a chunk from before this episode began is not for this episode. */
  private applies(command: SimCommand, episodeStartNs: bigint): boolean {
    return command.mode !== 'run' || (command.obsStampNs ?? episodeStartNs) >= episodeStartNs;
  }

  private publishFrame(stampNs: bigint, stamps: Set<bigint>, result: SimEpisodeResult): void {
    const frame = this.sim.render();
    const state = this.sim.state();
    stamps.add(stampNs);
    result.frames++;
    this.io.frame(stampNs, frame.width, frame.height, frame.data);
    this.io.scene(
      stampNs,
      `episode-${result.index}`,
      state.blocks.map((b) => b.colour),
      Float64Array.from(state.blocks.flatMap((b) => [b.x, b.y, b.angle])),
    );
    // Three frames per episode for the report: the start, then every 4 s.
    if (result.frames === 1 || (result.frames % 120 === 0 && result.snapshots.length < 3)) {
      const { width, height } = frame;
      const t = Number(this.sim.timeNs) / 1e9;
      this.encoding.push(
        sharp(Buffer.from(frame.data), { raw: { width, height, channels: 3 } })
          .png()
          .toBuffer()
          .then((png) => {
            result.snapshots.push({ t, width, height, png: png.toString('base64') });
          }),
      );
    }
  }
}

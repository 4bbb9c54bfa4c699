import sharp from 'sharp';
import { BusPublisher, BusSubscriber, type LinkLog } from '../link/index.js';
import { createSimulator, type Simulator } from '../sim/index.js';
import { type CommandPacket, epochNowNs } from '../wire/index.js';

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
 */

export interface SimEpisodeRequest {
  task: string;
  seed: number;
}

export interface SimNodeOptions {
  observations: string;
  commands: string;
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
  private latest: CommandPacket | undefined;
  /** Snapshot PNGs being encoded (off the episode loop); awaited before a result goes out. */
  private encoding: Promise<void>[] = [];
  private stopped = false;

  private constructor(
    private readonly sim: Simulator,
    private readonly observations: BusPublisher,
    private readonly commands: BusSubscriber,
    private readonly options: SimNodeOptions,
  ) {
    commands.onPacket((packet) => {
      if (packet.kind === 'command') this.latest = packet;
    });
  }

  static async start(options: SimNodeOptions): Promise<SimNode> {
    const first = options.episodes[0];
    const sim = await createSimulator({
      ...(options.width === undefined ? {} : { width: options.width }),
      ...(options.height === undefined ? {} : { height: options.height }),
      ...(first ? { seed: first.seed, task: first.task } : {}),
    });
    const observations = await BusPublisher.open({
      endpoint: options.observations,
      bind: true,
      log: options.log,
    });
    const commands = await BusSubscriber.open(
      { endpoint: options.commands, bind: true, log: options.log },
      ['command'],
    );
    return new SimNode(sim, observations, commands, options);
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

  close(): void {
    this.observations.close();
    this.commands.close();
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
    let lastApplied: CommandPacket | undefined;
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
          if (command.obs_stamp_ns > 0n && !seenObs.has(command.obs_stamp_ns)) {
            seenObs.add(command.obs_stamp_ns);
            if (frameStamps.has(command.obs_stamp_ns)) {
              result.latencyMs.push(Number(epochNowNs() - command.obs_stamp_ns) / 1e6);
            }
          }
          if (command.mode !== 'run' && lastMode === 'run') {
            result.holds++;
            holdStartNs = sim.timeNs;
          }
          lastMode = command.mode;
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
          this.observations.publish({
            kind: 'joints',
            stamp_ns: stamp(),
            name: [...joints.names],
            position: joints.position,
            velocity: joints.velocity,
          });
        }
        if (sim.timeNs >= nextFrame) {
          nextFrame += framePeriodNs;
          this.publishFrame(stamp(), frameStamps, result);
        }
        if (sim.timeNs >= nextInstruction) {
          // Repeated: a brain that (re)starts mid-episode hears it within a second.
          nextInstruction += 1_000_000_000n;
          this.observations.publish({ kind: 'instruction', stamp_ns: stamp(), text: instruction });
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

  private latestCommand(): CommandPacket | undefined {
    return this.latest;
  }

  /** A command executing a chunk from before this episode began is not for this episode. */
  private applies(command: CommandPacket, episodeStartNs: bigint): boolean {
    return command.mode !== 'run' || command.obs_stamp_ns >= episodeStartNs;
  }

  private publishFrame(stampNs: bigint, stamps: Set<bigint>, result: SimEpisodeResult): void {
    const frame = this.sim.render();
    const state = this.sim.state();
    stamps.add(stampNs);
    result.frames++;
    this.observations.publish({
      kind: 'frame',
      camera: 'overhead',
      stamp_ns: stampNs,
      encoding: 'rgb8',
      width: frame.width,
      height: frame.height,
      data: frame.data,
    });
    this.observations.publish({
      kind: 'scene',
      stamp_ns: stampNs,
      episode_id: `episode-${result.index}`,
      name: state.blocks.map((b) => b.colour),
      pose: Float64Array.from(state.blocks.flatMap((b) => [b.x, b.y, b.angle])),
    });
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

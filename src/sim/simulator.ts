import { InputError } from '../contract/index.js';
import { ARM_JOINTS, type ArmModel, clamp, loadArm } from './arm.js';
import { SimClock } from './clock.js';
import { type Frame, Renderer } from './renderer.js';
import { BLOCK_COLOURS, loadScene, type Scene } from './scene.js';
import {
  checkSeed,
  checkTask,
  type EpisodeLayout,
  instructionFor,
  sampleEpisode,
  type Task,
  type TaskKind,
  taskSucceeded,
} from './tasks.js';
import { initPhysics, World, type WorldState } from './world.js';

/**
 * The embedded simulator's ports: plain methods, no I/O. Reset to an episode, set joint
 * position targets, step sim time, read joint states and camera frames, ask for success.
 * The nodes layer wires these to the link or ROS.
 */

export interface SimulatorOptions {
  /** Scene file; default the bundled `sim/tabletop.yaml`. */
  scene?: string;
  /** Physics rate, default the scene's (`physics.rate_hz`). */
  physicsHz?: number;
  /** Camera resolution, default the scene's. */
  width?: number;
  height?: number;
  /** The first episode (default seed 0, a reach task). */
  seed?: number;
  task?: TaskKind | Task | string;
}

/** As sensor_msgs/JointState: names in URDF order, rad and rad/s, stamped in sim time. */
export interface JointState {
  names: readonly string[];
  position: Float64Array;
  velocity: Float64Array;
  stampNs: bigint;
}

export interface SimState extends WorldState {
  timeNs: bigint;
}

/** Loads the physics engine, then builds a simulator at its first episode. */
export async function createSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  await initPhysics();
  return new Simulator(options);
}

const SOURCE = 'sim';

export class Simulator {
  readonly scene: Scene;
  readonly arm: ArmModel;
  readonly jointNames: readonly string[];
  private readonly world: World;
  private readonly renderer: Renderer;
  private readonly clock: SimClock;
  private current!: EpisodeLayout;

  /** Use `createSimulator`: the physics engine must be loaded first. */
  constructor(options: SimulatorOptions) {
    this.scene = loadScene(options.scene);
    this.arm = loadArm(this.scene);
    this.jointNames = this.arm.jointNames;
    const rate = options.physicsHz ?? this.scene.physics.rate_hz;
    if (!(rate >= 50 && rate <= 10_000)) {
      throw new InputError(
        `${SOURCE}.options`,
        'physicsHz',
        `must be from 50 to 10000 Hz, got ${rate}`,
      );
    }
    this.clock = new SimClock(rate);
    this.world = new World(this.arm, this.scene, this.clock.periodSeconds);
    this.renderer = new Renderer(
      this.scene,
      this.arm,
      options.width ?? this.scene.camera.width,
      options.height ?? this.scene.camera.height,
      `${SOURCE}.options`,
    );
    this.reset(options.seed ?? 0, options.task ?? 'reach');
  }

  get physicsPeriodSeconds(): number {
    return this.clock.periodSeconds;
  }

  get physicsPeriodNs(): bigint {
    return this.clock.periodNs;
  }

  /** Sim time of the current state since the last reset (ns). */
  get timeNs(): bigint {
    return this.clock.timeNs;
  }

  get task(): Task {
    return this.current.task;
  }

  get taskInstruction(): string {
    return instructionFor(this.current.task);
  }

  /** The current episode's starting state. */
  get layout(): EpisodeLayout {
    return this.current;
  }

  get camera(): { width: number; height: number; project: Renderer['project'] } {
    const r = this.renderer;
    return { width: r.width, height: r.height, project: (x, y) => r.project(x, y) };
  }

  /**
   * A new episode drawn from `seed`: `task` is a kind ('reach', 'push': the seed picks the
   * colour and zone), an instruction, or a Task.
   */
  reset(seed: number, task: TaskKind | Task | string): void {
    const source = `${SOURCE}.reset`;
    this.resetTo(
      sampleEpisode(checkSeed(seed, source), checkTask(task, source), this.scene, this.arm),
    );
  }

  /** An episode from a given starting state (a hand-built scene, a recorded episode). */
  resetTo(layout: EpisodeLayout): void {
    const source = `${SOURCE}.resetTo`;
    const task = checkTask(layout.task, source);
    if (typeof task === 'string') throw new InputError(source, 'task', 'must name a colour');
    this.checkJoints(layout.arm, source, 'arm');
    const seen = new Set<string>();
    for (const [i, b] of layout.blocks.entries()) {
      if (!(BLOCK_COLOURS as readonly string[]).includes(b.colour) || seen.has(b.colour)) {
        throw new InputError(
          source,
          `blocks[${i}].colour`,
          `${JSON.stringify(b.colour)} is not a block colour, or is used twice`,
        );
      }
      seen.add(b.colour);
      for (const key of ['x', 'y', 'angle'] as const) {
        if (!Number.isFinite(b[key])) {
          throw new InputError(source, `blocks[${i}].${key}`, `is ${b[key]}, not a finite number`);
        }
      }
    }
    if (!seen.has(task.colour)) {
      throw new InputError(source, 'task.colour', `the scene has no ${task.colour} block`);
    }
    this.current = { task, arm: [...layout.arm], blocks: layout.blocks.map((b) => ({ ...b })) };
    this.world.reset(layout.arm, layout.blocks);
    this.clock.reset();
  }

  /**
   * Joint position targets (rad, URDF joint order) for the motors, held until the next
   * call, clamped into the joint limits as a servo's would be; optional velocities (rad/s)
   * feed forward.
   */
  applyJointTargets(positions: ArrayLike<number>, velocities?: ArrayLike<number>): void {
    const source = `${SOURCE}.applyJointTargets`;
    this.checkJoints(positions, source, 'positions', false);
    if (velocities) this.checkJoints(velocities, source, 'velocities', false);
    const clamped = Float64Array.from({ length: ARM_JOINTS }, (_, i) =>
      clamp(positions[i] as number, this.arm.lower[i] as number, this.arm.upper[i] as number),
    );
    this.world.setTargets(clamped, velocities);
  }

  /** Advances sim time by `dtSeconds` (default one physics tick); returns the ticks run. */
  step(dtSeconds = this.clock.periodSeconds): number {
    const ticks = this.clock.advance(dtSeconds, `${SOURCE}.step`);
    for (let i = 0; i < ticks; i++) this.world.tick();
    return ticks;
  }

  jointState(): JointState {
    const position = new Float64Array(ARM_JOINTS);
    const velocity = new Float64Array(ARM_JOINTS);
    this.world.readJoints(position, velocity);
    return { names: this.jointNames, position, velocity, stampNs: this.clock.timeNs };
  }

  /** Everything the physics holds (privileged: what the scripted expert plans from). */
  state(): SimState {
    return { ...this.world.state(), timeNs: this.clock.timeNs };
  }

  /** The camera's view of the current state; `out` (3·width·height bytes) is reused if given. */
  render(out?: Uint8Array): Frame {
    const { width, height } = this.renderer;
    return {
      width,
      height,
      encoding: 'rgb8',
      step: 3 * width,
      data: this.renderer.render(this.world.blocks(), this.world.linkPoses(), out),
      stampNs: this.clock.timeNs,
    };
  }

  success(): boolean {
    return taskSucceeded(this.current.task, this.world.state(), this.scene);
  }

  /** Releases the physics world's memory. */
  dispose(): void {
    this.world.free();
  }

  private checkJoints(
    values: ArrayLike<number>,
    source: string,
    field: string,
    inLimits = true,
  ): void {
    if (values?.length !== ARM_JOINTS) {
      throw new InputError(
        source,
        field,
        `has ${values?.length} values, the arm has ${ARM_JOINTS} joints (${this.jointNames.join(', ')})`,
      );
    }
    for (let i = 0; i < ARM_JOINTS; i++) {
      const v = values[i] as number;
      if (!Number.isFinite(v)) {
        throw new InputError(source, `${field}[${i}]`, `is ${v}, not a finite number`);
      }
      if (inLimits && (v < (this.arm.lower[i] as number) || v > (this.arm.upper[i] as number))) {
        throw new InputError(
          source,
          `${field}[${i}]`,
          `${v} is outside the joint limits of ${this.jointNames[i]}`,
        );
      }
    }
  }
}

import { round } from '../bench/percentiles.js';
import { InputError } from '../contract/index.js';
import { commandValues, ROS_TYPES, readJointState, shortTypeName } from '../ros/index.js';

/**
 * Commands against the measured joint state, for `pons inspect`: each joint command
 * (std_msgs/Float64MultiArray positions, or a JointTrajectory's first point, read by
 * src/ros's commandValues) is paired with the last sensor_msgs/JointState logged at or before
 * it, and the difference per joint is summarised. Pairing is by log time (the recorder's one
 * clock); a command's values are in the robot's joint order, which the state's names give.
 * The difference includes the tracking lag: a command leads the state that follows it.
 */

export interface JointTracking {
  name: string;
  mean_abs: number;
  rms: number;
  max_abs: number;
}

export interface CommandTracking {
  command_topic: string;
  state_topic: string;
  /** Commands with a state logged before them. */
  paired: number;
  /** Commands or states that could not be read (a wrong joint count, a NaN), counted. */
  unreadable: number;
  first_unreadable?: string;
  joints: JointTracking[];
}

/** One joint's command and measured series, [seconds after the start, value]. */
export interface JointSeries {
  name: string;
  command: [number, number][];
  state: [number, number][];
}

interface Logged {
  t: bigint;
  type: string;
  message: unknown;
}

/** Twists drive a base: nothing to compare with joint states. */
const JOINT_COMMANDS = [ROS_TYPES.float64MultiArray, ROS_TYPES.jointTrajectory].map(shortTypeName);

/** The messages of one command or JointState topic, kept for pairing once all are read. */
export class JointMessages {
  private readonly messages: Logged[] = [];

  constructor(
    readonly topic: string,
    readonly kind: 'command' | 'state',
  ) {}

  get count(): number {
    return this.messages.length;
  }

  /** `type`: a command type (COMMAND_TYPES) or JointState. */
  add(type: string, message: unknown, logTimeNs: bigint): void {
    if (this.kind === 'state' || JOINT_COMMANDS.includes(shortTypeName(type))) {
      this.messages.push({ t: logTimeNs, type, message });
    }
  }

  sorted(): readonly Logged[] {
    return this.messages.sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : 0));
  }
}

interface Sample {
  t: bigint;
  position: Float64Array;
}

/**
 * Pairs each command with the last state at or before it. `startNs` is where the series'
 * seconds count from; the series keep at most `maxPoints` points each (evenly strided).
 */
export function trackCommands(
  commands: JointMessages,
  states: JointMessages,
  startNs: bigint,
  maxPoints = 2000,
): { tracking: CommandTracking; series: JointSeries[] } | undefined {
  let unreadable = 0;
  let firstUnreadable: string | undefined;
  const read = <T>(f: () => T): T[] => {
    try {
      return [f()];
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      unreadable++;
      firstUnreadable ??= err.message;
      return [];
    }
  };
  let names: string[] | undefined;
  const measured: Sample[] = states.sorted().flatMap((s) =>
    read(() => {
      const state = readJointState(s.message as Parameters<typeof readJointState>[0], states.topic);
      names ??= state.name;
      if (state.name.join() !== names.join()) {
        throw new InputError(
          states.topic,
          'name',
          `is [${state.name}], the first state [${names}]`,
        );
      }
      return { t: s.t, position: state.position };
    }),
  );
  if (names === undefined || commands.count === 0) return undefined;
  const joints = names;
  const commanded: Sample[] = commands.sorted().flatMap((c) =>
    read(() => ({
      t: c.t,
      position: commandValues(c.type, c.message, joints, commands.topic).position,
    })),
  );
  const sums = joints.map(() => ({ abs: 0, sq: 0, max: 0 }));
  let paired = 0;
  let s = -1;
  for (const c of commanded) {
    while (s + 1 < measured.length && (measured[s + 1] as Sample).t <= c.t) s++;
    if (s < 0) continue;
    const state = (measured[s] as Sample).position;
    paired++;
    sums.forEach((sum, j) => {
      const e = Math.abs((c.position[j] as number) - (state[j] as number));
      sum.abs += e;
      sum.sq += e * e;
      sum.max = Math.max(sum.max, e);
    });
  }
  const points = (samples: readonly Sample[], j: number) =>
    stride(samples, maxPoints).map(
      (p) => [Number(p.t - startNs) / 1e9, p.position[j] as number] as [number, number],
    );
  return {
    tracking: {
      command_topic: commands.topic,
      state_topic: states.topic,
      paired,
      unreadable,
      ...(firstUnreadable === undefined ? {} : { first_unreadable: firstUnreadable }),
      joints: sums.map((sum, j) => ({
        name: joints[j] as string,
        mean_abs: round(paired ? sum.abs / paired : 0, 6),
        rms: round(paired ? Math.sqrt(sum.sq / paired) : 0, 6),
        max_abs: round(sum.max, 6),
      })),
    },
    series: joints.map((name, j) => ({
      name,
      command: points(commanded, j),
      state: points(measured, j),
    })),
  };
}

function stride<T>(items: readonly T[], max: number): readonly T[] {
  if (items.length <= max) return items;
  const step = items.length / max;
  return Array.from({ length: max }, (_, i) => items[Math.floor(i * step)] as T);
}

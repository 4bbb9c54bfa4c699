import { round } from '../bench/percentiles.js';
import { ROS_TYPES } from '../ros/index.js';

/**
 * Commands against the measured joint state, for `pons inspect`: each joint command
 * (std_msgs/Float64MultiArray positions, or a JointTrajectory's first point) is paired with
 * the last sensor_msgs/JointState logged at or before it, and the difference per joint is
 * summarised. Pairing is by log time (the recorder's one clock); joints are matched by name
 * where the command names them (JointTrajectory), else by position in the message. The
 * difference includes the tracking lag: a command leads the state that follows it.
 */

export interface JointTracking {
  name: string;
  samples: number;
  mean_abs: number;
  rms: number;
  max_abs: number;
}

export interface CommandTracking {
  command_topic: string;
  state_topic: string;
  /** Commands with a state logged before them. */
  paired: number;
  joints: JointTracking[];
}

interface Sample {
  t: bigint;
  names: readonly string[] | undefined;
  position: ArrayLike<number>;
}

/** One joint's command and measured series, [seconds after the start, value]. */
export interface JointSeries {
  name: string;
  command: [number, number][];
  state: [number, number][];
}

export class JointSamples {
  private readonly samples: Sample[] = [];

  constructor(
    readonly topic: string,
    readonly kind: 'command' | 'state',
  ) {}

  get count(): number {
    return this.samples.length;
  }

  /** Takes a decoded message of a joint type; anything else (a Twist) is ignored. */
  add(type: string, message: unknown, logTimeNs: bigint): void {
    const sample = jointSample(type, message);
    if (sample) this.samples.push({ t: logTimeNs, ...sample });
  }

  sorted(): readonly Sample[] {
    return this.samples.sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : 0));
  }
}

function jointSample(type: string, message: unknown): Omit<Sample, 't'> | undefined {
  const m = message as Record<string, unknown>;
  if (type === ROS_TYPES.float64MultiArray && m.data instanceof Float64Array) {
    return { names: undefined, position: m.data };
  }
  if (
    type === ROS_TYPES.jointTrajectory &&
    Array.isArray(m.points) &&
    Array.isArray(m.joint_names)
  ) {
    const position = (m.points[0] as { positions?: unknown } | undefined)?.positions;
    if (position instanceof Float64Array) return { names: m.joint_names as string[], position };
  }
  if (
    type === ROS_TYPES.jointState &&
    Array.isArray(m.name) &&
    m.position instanceof Float64Array
  ) {
    return { names: m.name as string[], position: m.position };
  }
  return undefined;
}

/**
 * Pairs each command with the last state at or before it. `startNs` is where the series'
 * seconds count from; the series keep at most `maxPoints` points each (evenly strided).
 */
export function trackCommands(
  commands: JointSamples,
  states: JointSamples,
  startNs: bigint,
  maxPoints = 2000,
): { tracking: CommandTracking; series: JointSeries[] } | undefined {
  const cmd = commands.sorted();
  const st = states.sorted();
  const first = st[0];
  if (cmd.length === 0 || !first) return undefined;
  const names = first.names?.length === first.position.length ? first.names : undefined;
  const width = first.position.length;
  const jointName = (j: number) => names?.[j] ?? `joint ${j}`;
  const sums = Array.from({ length: width }, () => ({ n: 0, abs: 0, sq: 0, max: 0 }));
  let paired = 0;
  let s = -1;
  for (const c of cmd) {
    while (s + 1 < st.length && (st[s + 1] as Sample).t <= c.t) s++;
    if (s < 0) continue;
    const state = st[s] as Sample;
    paired++;
    for (let j = 0; j < width; j++) {
      const command = jointValue(c, jointName(j), j);
      const measured = jointValue(state, jointName(j), j);
      if (command === undefined || measured === undefined) continue;
      const e = Math.abs(command - measured);
      const sum = sums[j] as (typeof sums)[number];
      sum.n++;
      sum.abs += e;
      sum.sq += e * e;
      sum.max = Math.max(sum.max, e);
    }
  }
  const points = (samples: readonly Sample[], j: number) =>
    stride(samples, maxPoints).flatMap((p) => {
      const v = jointValue(p, jointName(j), j);
      return v === undefined ? [] : [[Number(p.t - startNs) / 1e9, v] as [number, number]];
    });
  const series = sums.map((_, j) => ({
    name: jointName(j),
    command: points(cmd, j),
    state: points(st, j),
  }));
  return {
    tracking: {
      command_topic: commands.topic,
      state_topic: states.topic,
      paired,
      joints: sums.map((sum, j) => ({
        name: jointName(j),
        samples: sum.n,
        mean_abs: round(sum.n ? sum.abs / sum.n : 0, 6),
        rms: round(sum.n ? Math.sqrt(sum.sq / sum.n) : 0, 6),
        max_abs: round(sum.max, 6),
      })),
    },
    series,
  };
}

/** Joint `name` of a sample: by name where it names its joints, else its j-th value. */
function jointValue(sample: Sample, name: string, j: number): number | undefined {
  return sample.position[sample.names?.length ? sample.names.indexOf(name) : j];
}

function stride<T>(items: readonly T[], max: number): readonly T[] {
  if (items.length <= max) return items;
  const step = items.length / max;
  return Array.from({ length: max }, (_, i) => items[Math.floor(i * step)] as T);
}

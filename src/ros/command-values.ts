import { InputError } from '../contract/index.js';
import { shortTypeName } from './definitions.js';
import { ROS_TYPES } from './messages.js';

/**
 * What a command message carries, read back from a recording: the joint positions (for a
 * base, the twist's components in the order of `names`, `linear_x`, `angular_z`, …) and the
 * velocities where the message has them. The inverse of the command builders in messages.ts.
 */
export interface CommandValues {
  position: Float64Array;
  velocity?: Float64Array;
}

export const COMMAND_TYPES: readonly string[] = [
  ROS_TYPES.float64MultiArray,
  ROS_TYPES.jointTrajectory,
  ROS_TYPES.twist,
  ROS_TYPES.twistStamped,
].map(shortTypeName);

type Vector = Record<string, number>;
type Twist = { linear: Vector; angular: Vector };

function values(raw: unknown, count: number, source: string, field: string): Float64Array {
  const out = Float64Array.from((raw ?? []) as ArrayLike<number>);
  if (out.length !== count)
    throw new InputError(source, field, `has ${out.length} values, the robot ${count} joints`);
  return out;
}

export function commandValues(
  type: string,
  message: unknown,
  names: readonly string[],
  source: string,
): CommandValues {
  const m = message as Record<string, unknown>;
  switch (shortTypeName(type)) {
    case shortTypeName(ROS_TYPES.float64MultiArray):
      return { position: values(m.data, names.length, source, 'data') };
    case shortTypeName(ROS_TYPES.jointTrajectory): {
      const point = (m.points as Record<string, unknown>[] | undefined)?.[0];
      if (!point) throw new InputError(source, 'points', 'is empty');
      const velocity = point.velocities as ArrayLike<number> | undefined;
      return {
        position: values(point.positions, names.length, source, 'points[0].positions'),
        ...(velocity?.length
          ? { velocity: values(velocity, names.length, source, 'points[0].velocities') }
          : {}),
      };
    }
    case shortTypeName(ROS_TYPES.twist):
    case shortTypeName(ROS_TYPES.twistStamped): {
      const twist = (shortTypeName(type) === shortTypeName(ROS_TYPES.twist) ? m : m.twist) as Twist;
      return {
        position: Float64Array.from(names, (name) => {
          const [part, axis] = name.split('_') as ['linear' | 'angular', string];
          const v = twist?.[part]?.[axis];
          if (typeof v !== 'number')
            throw new InputError(source, `twist.${part}.${axis}`, 'is missing');
          return v;
        }),
      };
    }
    default:
      throw new InputError(source, 'type', `${type} is not a command message pons publishes`);
  }
}

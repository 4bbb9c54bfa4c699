import type { ControlSetup } from '../cerebellum/control-protocol.js';
import { loadJointLimits } from '../cerebellum/joint-limits.js';
import { SerialChainKinematics } from '../cerebellum/kinematics.js';
import type { JointLimits } from '../cerebellum/types.js';
import { type ActionSpec, InputError, loadUrdf, serialChain } from '../contract/index.js';
import type { RobotProfile } from './profile.js';

/** The robot a cerebellum drives, as its profile and ActionSpec describe it. */
export type RobotDescription = ReturnType<typeof describeRobot>;

/**
 * What the controller drives: an arm's joints (from the URDF chain, limits from the URDF
 * and joint_limits YAML, kinematics for IK and the workspace box), or a mobile base's twist
 * components (speed limits from the spec, rate limits from the profile's `robot.base`).
 */
export function describeRobot(profile: RobotProfile, spec: ActionSpec) {
  if (spec.dimensions.every((d) => d.kind === 'base_twist')) {
    const rate = profile.robot.base;
    if (!rate)
      throw new InputError(profile.file, 'robot.base', 'is needed to drive a base_twist spec');
    const per = (value: number | number[] | undefined, field: string) => {
      if (value === undefined)
        return new Float64Array(spec.dimensions.length).fill(Number.POSITIVE_INFINITY);
      const values = typeof value === 'number' ? spec.dimensions.map(() => value) : value;
      if (values.length !== spec.dimensions.length) {
        throw new InputError(
          profile.file,
          `robot.base.${field}`,
          `has ${values.length} values, the spec ${spec.dimensions.length}`,
        );
      }
      return Float64Array.from(values);
    };
    const joints = spec.dimensions.map((d) => d.name);
    const limits: JointLimits = {
      names: joints,
      lower: Float64Array.from(spec.dimensions, (d) => d.lower),
      upper: Float64Array.from(spec.dimensions, (d) => d.upper),
      // A speed's rate of change is the base's acceleration, and that one's its jerk.
      maxVelocity: per(rate.max_acceleration, 'max_acceleration'),
      maxAcceleration: per(rate.max_jerk, 'max_jerk'),
    };
    return { joints, limits, kinematics: undefined, base: true };
  }
  if (!profile.robot.tip_link)
    throw new InputError(profile.file, 'robot.tip_link', 'is needed to drive an arm');
  const kinematics = new SerialChainKinematics(
    serialChain(loadUrdf(profile.robot.urdf), profile.robot.base_link, profile.robot.tip_link),
  );
  const joints = [...kinematics.jointOrder];
  const limits = loadJointLimits({
    urdf: profile.robot.urdf,
    ...(profile.robot.joint_limits ? { jointLimitsYaml: profile.robot.joint_limits } : {}),
    joints,
  });
  return { joints, limits, kinematics, base: false };
}

/**
 * The control thread's controller and safety filter as the profile configures them. `closedLoop`:
 * a robot (ROS or bus) reports joint states, and an arm starts from the first one; without one
 * (record or none) it runs open loop from mid-range. A base starts at rest: zero speed.
 */
export function controlSetup(
  profile: RobotProfile,
  spec: ActionSpec,
  robot: RobotDescription,
  closedLoop: boolean,
): ControlSetup {
  const c = profile.cerebellum;
  const { safety } = c;
  const { joints, limits, base } = robot;
  return {
    controller: {
      horizon: spec.horizon,
      joints: joints.length,
      dt: spec.dt,
      interpolation: c.interpolation,
      blending:
        c.blending.policy === 'crossfade'
          ? { policy: 'crossfade', windowS: c.blending.window_s }
          : c.blending.policy === 'ensemble'
            ? { policy: 'ensemble', decay: c.blending.decay }
            : { policy: 'latest' },
      stoppingTimeS: c.stopping_time_s,
      maxAcceleration: Array.from(limits.maxAcceleration),
      rejectViolatingChunks: safety.on_violation === 'reject',
      ...(c.smoothing_degree === null ? {} : { smoothingDegree: c.smoothing_degree }),
      ...(c.tracking_bandwidth_hz === null ? {} : { trackingBandwidthHz: c.tracking_bandwidth_hz }),
      restAtZero: base,
    },
    safety: {
      limits,
      positionMargin: safety.position_margin,
      maxStepFromMeasured: safety.max_step_from_measured,
      ...(safety.workspace && profile.robot.tip_link
        ? {
            workspace: safety.workspace,
            kinematics: {
              urdf: profile.robot.urdf,
              base: profile.robot.base_link,
              tip: profile.robot.tip_link,
            },
          }
        : {}),
      onViolation: safety.on_violation,
    },
    rateHz: c.rate_hz,
    ...(base
      ? { initial: new Array<number>(joints.length).fill(0) }
      : closedLoop
        ? {}
        : { initial: Array.from(limits.lower, (lo, j) => (lo + (limits.upper[j] as number)) / 2) }),
  };
}

/**
 * The cerebellum's vocabulary. Positions are joint-space, in the joint order of the robot's
 * joint limits (the same order as the ActionSpec's joint dimensions for joint-space specs).
 * Stamps are integer nanoseconds (bigint) at boundaries; inside the control loop, time
 * relative to the loop's start is a float64 of seconds, which is exact to well under a
 * microsecond for years.
 */

export type ControllerMode = 'run' | 'hold' | 'estop';

/** Per-joint limits, from the URDF `<limit>` tags and ros2_control's joint_limits YAML. */
export interface JointLimits {
  names: string[];
  lower: Float64Array;
  upper: Float64Array;
  /** rad/s (or m/s); Infinity where none is given. */
  maxVelocity: Float64Array;
  /** rad/s² (or m/s²); Infinity where none is given. */
  maxAcceleration: Float64Array;
}

/** A box in the base frame that the end effector must stay inside (metres). */
export interface WorkspaceBox {
  min: [number, number, number];
  max: [number, number, number];
}

export interface SafetyConfig {
  limits: JointLimits;
  /** Kept clear of the URDF position limits on both sides. */
  positionMargin: number;
  /** Largest allowed |command − measured| per joint when a measured state is known. */
  maxStepFromMeasured: number;
  workspace?: WorkspaceBox;
  /**
   * Where the end effector's forward kinematics comes from when the safety filter is built
   * without a ForwardKinematics object (plain data, so the config can cross into the control
   * thread): a URDF file and its serial chain from `base` (default: the URDF's root link) to
   * `tip`. Required with `workspace`; joint vectors are in `limits.names` order. `xml`, when
   * given, is the URDF's text (a recording carries it), read from the file otherwise.
   */
  kinematics?: { urdf: string; xml?: string; base?: string; tip: string };
  /** `clamp`: bring a violating command inside and report it; `reject`: refuse the chunk. */
  onViolation: 'clamp' | 'reject';
}

/** What the safety filter did to one command; `violations` counts per kind. */
export interface SafetyReport {
  clamped: boolean;
  position: number;
  velocity: number;
  acceleration: number;
  step: number;
  workspace: number;
  nonFinite: number;
}

/** Forward kinematics of the end effector: joint positions → position in the base frame. */
export interface ForwardKinematics {
  endEffectorPosition(q: Float64Array, out: Float64Array): Float64Array;
}

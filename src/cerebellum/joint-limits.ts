import { z } from 'zod';
import {
  InputError,
  loadUrdf,
  parseWith,
  readYamlFile,
  type UrdfRobot,
} from '../contract/index.js';
import type { JointLimits } from './types.js';

/**
 * Joint limits from the two places ROS keeps them:
 *
 * - the URDF's `<limit lower upper velocity>` gives position and velocity limits (a
 *   continuous joint has no position limits: ±∞);
 * - ros2_control's `joint_limits` parameters (YAML) may add or tighten them:
 *   `joint_limits: {<joint>: {has_position_limits, min_position, max_position,
 *   has_velocity_limits, max_velocity, has_acceleration_limits, max_acceleration,
 *   has_deceleration_limits, max_deceleration, has_jerk_limits, max_jerk,
 *   has_effort_limits, max_effort, angle_wraparound, has_soft_limits, k_position,
 *   k_velocity, soft_lower_limit, soft_upper_limit}}`, either at the top of the file or
 *   under a node's `<node>: {ros__parameters: {joint_limits: …}}`.
 *
 * Where both give a limit the tighter one wins. A value counts only when its `has_*_limits`
 * flag is true (ros2_control's rule). The filter's acceleration limit is symmetric, so a
 * deceleration limit tighter than the acceleration limit becomes the acceleration limit
 * (its sign is ignored; some configurations write it negative). Jerk, effort and soft
 * limits are accepted and not used. Missing acceleration: Infinity.
 */

const positive = z.number().positive().finite();

const jointEntrySchema = z
  .object({
    has_position_limits: z.boolean().optional(),
    min_position: z.number().finite().optional(),
    max_position: z.number().finite().optional(),
    has_velocity_limits: z.boolean().optional(),
    max_velocity: positive.optional(),
    has_acceleration_limits: z.boolean().optional(),
    max_acceleration: positive.optional(),
    has_deceleration_limits: z.boolean().optional(),
    max_deceleration: z
      .number()
      .finite()
      .refine((v) => v !== 0, 'must not be zero')
      .optional(),
    has_jerk_limits: z.boolean().optional(),
    max_jerk: positive.optional(),
    has_effort_limits: z.boolean().optional(),
    max_effort: positive.optional(),
    angle_wraparound: z.boolean().optional(),
    has_soft_limits: z.boolean().optional(),
    k_position: z.number().finite().optional(),
    k_velocity: z.number().finite().optional(),
    soft_lower_limit: z.number().finite().optional(),
    soft_upper_limit: z.number().finite().optional(),
  })
  .strict()
  .superRefine((entry, ctx) => {
    const need = (flag: keyof typeof entry, fields: (keyof typeof entry)[]) => {
      if (entry[flag] !== true) return;
      for (const field of fields) {
        if (entry[field] === undefined) {
          ctx.addIssue({
            code: 'custom',
            path: [field],
            message: `is required when ${flag} is true`,
          });
        }
      }
    };
    need('has_position_limits', ['min_position', 'max_position']);
    need('has_velocity_limits', ['max_velocity']);
    need('has_acceleration_limits', ['max_acceleration']);
    need('has_deceleration_limits', ['max_deceleration']);
    need('has_jerk_limits', ['max_jerk']);
    need('has_effort_limits', ['max_effort']);
    if (
      entry.has_position_limits === true &&
      entry.min_position !== undefined &&
      entry.max_position !== undefined &&
      !(entry.min_position < entry.max_position)
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['max_position'],
        message: 'must be above min_position',
      });
    }
  });

export type JointLimitsEntry = z.infer<typeof jointEntrySchema>;

const jointLimitsSchema = z.record(
  z.string().regex(/^[A-Za-z_][A-Za-z0-9_./-]*$/, 'must be a joint name'),
  jointEntrySchema,
);

const directSchema = z.object({ joint_limits: jointLimitsSchema }).strict();
const wrappedSchema = z.record(
  z.string(),
  z.object({ ros__parameters: z.object({ joint_limits: jointLimitsSchema }).strict() }).strict(),
);

/**
 * Validates a ros2_control joint_limits document (either shape) and returns its entries by
 * joint name. A wrapper must hold exactly one node.
 */
export function parseJointLimitsYaml(
  doc: unknown,
  source: string,
): Record<string, JointLimitsEntry> {
  if (typeof doc === 'object' && doc !== null && !Array.isArray(doc) && 'joint_limits' in doc) {
    return parseWith(directSchema, doc, source).joint_limits;
  }
  const wrapped = parseWith(wrappedSchema, doc ?? {}, source);
  const nodes = Object.keys(wrapped);
  if (nodes.length !== 1) {
    throw new InputError(
      source,
      '',
      nodes.length === 0
        ? 'holds no joint_limits (expected `joint_limits:` or `<node>: ros__parameters: joint_limits:`)'
        : `holds parameters of ${nodes.length} nodes (${nodes.join(', ')}); expected one`,
    );
  }
  return (
    wrapped[nodes[0] as string] as {
      ros__parameters: { joint_limits: Record<string, JointLimitsEntry> };
    }
  ).ros__parameters.joint_limits;
}

export interface LoadJointLimitsOptions {
  /** A URDF file path, or a URDF already parsed. */
  urdf: string | UrdfRobot;
  /** A ros2_control joint_limits YAML file. */
  jointLimitsYaml?: string;
  /** The joints, in the order the limits' arrays take (the controller's joint order). */
  joints: string[];
}

/** Per-joint limits for `joints`, from the URDF and (optionally) the joint_limits YAML. */
export function loadJointLimits(options: LoadJointLimitsOptions): JointLimits {
  const robot = typeof options.urdf === 'string' ? loadUrdf(options.urdf) : options.urdf;
  const yaml = options.jointLimitsYaml;
  const entries = yaml ? parseJointLimitsYaml(readYamlFile(yaml), yaml) : {};
  const byName = new Map(robot.joints.map((j) => [j.name, j]));
  if (yaml) {
    for (const name of Object.keys(entries)) {
      if (!byName.has(name)) {
        throw new InputError(
          yaml,
          `joint_limits.${name}`,
          `joint '${name}' is not in ${robot.source}`,
        );
      }
    }
  }
  const n = options.joints.length;
  const limits: JointLimits = {
    names: [...options.joints],
    lower: new Float64Array(n),
    upper: new Float64Array(n),
    maxVelocity: new Float64Array(n),
    maxAcceleration: new Float64Array(n),
  };
  if (new Set(options.joints).size !== n) {
    throw new InputError(
      'joint limits',
      'joints',
      `names a joint twice: ${options.joints.join(', ')}`,
    );
  }
  for (const [i, name] of options.joints.entries()) {
    const joint = byName.get(name);
    if (!joint) {
      throw new InputError(robot.source, `joint[${name}]`, 'is not in the URDF');
    }
    if (!joint.limit) {
      throw new InputError(
        robot.source,
        `joint[${name}].type`,
        `a ${joint.type} joint cannot be commanded (revolute, continuous or prismatic expected)`,
      );
    }
    let lower = joint.limit.lower;
    let upper = joint.limit.upper;
    let velocity = joint.limit.velocity;
    let acceleration = Number.POSITIVE_INFINITY;
    const entry = entries[name];
    if (entry) {
      if (entry.has_position_limits === true) {
        lower = Math.max(lower, entry.min_position as number);
        upper = Math.min(upper, entry.max_position as number);
        if (!(lower < upper)) {
          throw new InputError(
            yaml as string,
            `joint_limits.${name}.max_position`,
            `leaves no range inside the URDF limits [${joint.limit.lower}, ${joint.limit.upper}]`,
          );
        }
      }
      if (entry.has_velocity_limits === true) {
        velocity = Math.min(velocity, entry.max_velocity as number);
      }
      if (entry.has_acceleration_limits === true) {
        acceleration = Math.min(acceleration, entry.max_acceleration as number);
      }
      if (entry.has_deceleration_limits === true) {
        acceleration = Math.min(acceleration, Math.abs(entry.max_deceleration as number));
      }
    }
    limits.lower[i] = lower;
    limits.upper[i] = upper;
    limits.maxVelocity[i] = velocity;
    limits.maxAcceleration[i] = acceleration;
  }
  return limits;
}

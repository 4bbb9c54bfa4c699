import { type ActionSpec, InputError } from '../contract/index.js';
import type { IkOptions, IkResult, SerialChainKinematics } from './kinematics.js';

/**
 * Turns a decoded action chunk (H steps of the spec's dimensions, physical units) into the
 * joint-position chunk the controller executes (H steps of the robot's joints):
 * - `joint_position`: the named joints, in the robot's order;
 * - `joint_velocity`: integrated step by step from where the arm is (q += v·dt);
 * - `ee_delta_position` (x, y, z in the base frame): each step's delta is added to where
 *   the previous step put the end effector and solved by damped-least-squares IK seeded
 *   with the previous step's solution, so the motion stays continuous and inside the
 *   joint limits (an unreachable step goes as near as it can, and is counted).
 * - `base_twist`: the twist components themselves (the base's "joints" are its speeds).
 * Orientation deltas and grippers need outputs this controller does not drive yet; such
 * specs are refused at load with the reason.
 */
export type ActionMapping =
  | 'joint_position'
  | 'joint_velocity'
  | 'ee_delta_position'
  | 'base_twist';

export class ActionToJoints {
  readonly mapping: ActionMapping;
  private readonly order: Int32Array;
  private readonly ee = new Float64Array(3);
  private readonly seed: Float64Array;
  private readonly solution: Float64Array;
  private readonly ik: IkResult = { converged: false, residual: 0, iterations: 0 };
  /** Reused: an options literal per call would allocate on every step. */
  private readonly ikOptions: IkOptions = {};
  /** Steps whose IK did not converge (the closest reachable point was used). */
  unreachable = 0;

  constructor(
    private readonly spec: ActionSpec,
    private readonly joints: readonly string[],
    private readonly kinematics: SerialChainKinematics | undefined,
    source: string,
  ) {
    const kinds = new Set(spec.dimensions.map((d) => d.kind));
    if (kinds.size !== 1) {
      throw new InputError(
        source,
        'dimensions',
        `mixes ${[...kinds].join(', ')}; the cerebellum executes one kind per spec`,
      );
    }
    const kind = spec.dimensions[0]?.kind;
    this.seed = new Float64Array(joints.length);
    this.solution = new Float64Array(joints.length);
    if (kind === 'joint_position' || kind === 'joint_velocity' || kind === 'base_twist') {
      this.mapping = kind;
      this.order = Int32Array.from(joints, (name) => {
        const i = spec.dimensions.findIndex((d) => d.name === name);
        if (i < 0)
          throw new InputError(
            source,
            'dimensions',
            `has no dimension for the robot's joint ${name}`,
          );
        return i;
      });
      if (spec.dimensions.length !== joints.length) {
        throw new InputError(
          source,
          'dimensions',
          `has ${spec.dimensions.length} joints, the robot ${joints.length}`,
        );
      }
    } else if (kind === 'ee_delta_position') {
      if (spec.dimensions.length !== 3) {
        throw new InputError(source, 'dimensions', 'ee_delta_position needs exactly x, y and z');
      }
      if (!kinematics)
        throw new InputError(source, 'dimensions', 'ee_delta_position needs the robot URDF for IK');
      this.mapping = kind;
      this.order = new Int32Array(0);
    } else {
      throw new InputError(
        source,
        'dimensions',
        `of kind ${kind} need an output this cerebellum does not drive yet`,
      );
    }
  }

  /** Writes the joint chunk for `actions` (H×D) starting from joint positions `start`. */
  convert(actions: Float64Array, start: Float64Array, out: Float64Array): void {
    const h = this.spec.horizon;
    const d = this.spec.dimensions.length;
    const j = this.joints.length;
    if (this.mapping === 'joint_position' || this.mapping === 'base_twist') {
      for (let k = 0; k < h; k++)
        for (let i = 0; i < j; i++)
          out[k * j + i] = actions[k * d + (this.order[i] as number)] as number;
      return;
    }
    if (this.mapping === 'joint_velocity') {
      for (let k = 0; k < h; k++) {
        for (let i = 0; i < j; i++) {
          const previous = k === 0 ? (start[i] as number) : (out[(k - 1) * j + i] as number);
          out[k * j + i] =
            previous + (actions[k * d + (this.order[i] as number)] as number) * this.spec.dt;
        }
      }
      return;
    }
    const fk = this.kinematics as SerialChainKinematics;
    fk.endEffectorPosition(start, this.ee);
    this.seed.set(start);
    for (let k = 0; k < h; k++) {
      for (let a = 0; a < 3; a++)
        this.ee[a] = (this.ee[a] as number) + (actions[k * d + a] as number);
      fk.solvePosition(this.ee, this.seed, this.solution, this.ikOptions, this.ik);
      if (!this.ik.converged) this.unreachable++;
      out.set(this.solution, k * j);
      this.seed.set(this.solution);
      fk.endEffectorPosition(this.solution, this.ee);
    }
  }
}

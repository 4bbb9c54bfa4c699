import {
  InputError,
  loadUrdf,
  serialChain,
  type UrdfJoint,
  type UrdfRobot,
} from '../contract/index.js';
import type { Scene, Vec2 } from './scene.js';

/**
 * The planar arm as the simulator needs it, read from the URDF: three revolute joints about
 * z, each joint on its parent link's x axis (so a link is a length), with the links' mass
 * properties and collision boxes; forward kinematics and analytic inverse kinematics of the
 * tool tip in the table plane.
 */

export interface ArmLink {
  /** The link this joint moves. */
  name: string;
  joint: string;
  /** Joint to the next joint, or to the tool tip for the last link (m). */
  length: number;
  lower: number;
  upper: number;
  /** Largest motor torque (N·m), the URDF's effort limit. */
  effort: number;
  mass: number;
  /** Centre of mass in the link frame (m). */
  com: Vec2;
  /** Moment of inertia about z through the centre of mass (kg·m²). */
  izz: number;
  /** The link's collision box in its frame: centre, extent along x and across (m). */
  box: { centre: Vec2; length: number; width: number };
}

export interface ArmModel {
  source: string;
  jointNames: string[];
  links: ArmLink[];
  /** Radius of the base link's pedestal, 0 when its URDF gives no cylinder. */
  pedestalRadius: number;
  /** Joint positions at reset. */
  home: Float64Array;
  lower: Float64Array;
  upper: Float64Array;
}

/** A position and heading in the table plane. */
export interface Pose2 {
  x: number;
  y: number;
  angle: number;
}

/** The analytic IK is the three-link planar one. */
export const ARM_JOINTS = 3;

export function loadArm(scene: Scene): ArmModel {
  const { urdf, base_link, tip_link, home } = scene.arm;
  return armFromUrdf(loadUrdf(urdf), base_link, tip_link, home, scene.source);
}

export function armFromUrdf(
  robot: UrdfRobot,
  base: string,
  tip: string,
  home: readonly number[],
  sceneSource: string,
): ArmModel {
  const { source } = robot;
  const chain = serialChain(robot, base, tip);
  const moving = chain.joints.filter((j) => j.type !== 'fixed');
  if (moving.length !== ARM_JOINTS || moving.some((j) => j.type !== 'revolute')) {
    throw new InputError(
      source,
      'tip',
      `the chain ${base} → ${tip} must have ${ARM_JOINTS} revolute joints for the planar simulator, has ${moving.map((j) => `${j.name} (${j.type})`).join(', ')}`,
    );
  }
  for (const [i, joint] of chain.joints.entries()) checkPlanar(joint, i === 0, source);

  const links: ArmLink[] = moving.map((joint, i) => {
    const field = `link[${joint.child}]`;
    // The link runs to the next moving joint; the last one through fixed joints to the tip.
    const start = chain.joints.indexOf(joint);
    const end =
      i + 1 < moving.length ? chain.joints.indexOf(moving[i + 1] as UrdfJoint) : undefined;
    const length = chain.joints
      .slice(start + 1, end === undefined ? undefined : end + 1)
      .reduce((sum, j) => sum + j.origin.xyz[0], 0);
    const inertial = robot.inertials[joint.child];
    if (!inertial || !(inertial.mass > 0)) {
      throw new InputError(source, `${field}.inertial.mass`, 'a moving link needs a positive mass');
    }
    const box = robot.collisions[joint.child]?.find((c) => c.geometry.type === 'box');
    if (box?.geometry.type !== 'box') {
      throw new InputError(source, `${field}.collision`, 'a moving link needs a collision box');
    }
    const limit = joint.limit as NonNullable<UrdfJoint['limit']>;
    return {
      name: joint.child,
      joint: joint.name,
      length,
      lower: limit.lower,
      upper: limit.upper,
      effort: limit.effort,
      mass: inertial.mass,
      com: [inertial.origin.xyz[0], inertial.origin.xyz[1]],
      izz: inertial.inertia.izz,
      box: {
        centre: [box.origin.xyz[0], box.origin.xyz[1]],
        length: box.geometry.size[0],
        width: box.geometry.size[1],
      },
    };
  });
  const pedestal = robot.collisions[base]?.find((c) => c.geometry.type === 'cylinder')?.geometry;
  const lower = Float64Array.from(links, (l) => l.lower);
  const upper = Float64Array.from(links, (l) => l.upper);
  if (home.length !== ARM_JOINTS) {
    throw new InputError(
      sceneSource,
      'arm.home',
      `has ${home.length} values, the arm has ${ARM_JOINTS} joints`,
    );
  }
  for (const [i, q] of home.entries()) {
    if (!(q >= (lower[i] as number) && q <= (upper[i] as number))) {
      throw new InputError(sceneSource, `arm.home[${i}]`, `${q} is outside the joint limits`);
    }
  }
  return {
    source,
    jointNames: links.map((l) => l.joint),
    links,
    pedestalRadius: pedestal?.type === 'cylinder' ? pedestal.radius : 0,
    home: Float64Array.from(home),
    lower,
    upper,
  };
}

/** The simulator is 2D: joints turn about +z, sit on their parent's x axis, the first at the base. */
function checkPlanar(joint: UrdfJoint, first: boolean, source: string): void {
  const field = `joint[${joint.name}]`;
  const [x, y] = joint.origin.xyz;
  if (joint.origin.rpy.some((a) => a !== 0) || y !== 0 || (first && x !== 0)) {
    throw new InputError(
      source,
      `${field}.origin`,
      first
        ? 'the first joint must stand at the base link origin, unrotated'
        : "must lie on the parent link's x axis, unrotated (a planar arm)",
    );
  }
  if (
    joint.type === 'revolute' &&
    !(joint.axis[0] === 0 && joint.axis[1] === 0 && joint.axis[2] === 1)
  ) {
    throw new InputError(source, `${field}.axis`, 'must be 0 0 1 (the table normal)');
  }
}

/** The tool tip's pose for joint positions q. */
export function tipPose(arm: ArmModel, q: ArrayLike<number>): Pose2 {
  let x = 0;
  let y = 0;
  let angle = 0;
  for (const [i, link] of arm.links.entries()) {
    angle += q[i] as number;
    x += link.length * Math.cos(angle);
    y += link.length * Math.sin(angle);
  }
  return { x, y, angle };
}

export function clamp(v: number, lo: number, hi: number): number {
  return Math.min(Math.max(v, lo), hi);
}

/** Wraps an angle into (−π, π]. */
export function wrapAngle(a: number): number {
  const w = a - 2 * Math.PI * Math.floor((a + Math.PI) / (2 * Math.PI));
  return w === -Math.PI ? Math.PI : w;
}

/**
 * Joint positions that put the tip at (x, y) heading along `angle`: the wrist point fixes
 * the two-link problem, whose two elbow branches (the sign of q2; `elbow` picks one) are
 * tried; of those inside [lower, upper] the one nearest `near` is written to `out`. Returns
 * false (out untouched) when the pose is out of reach or every branch breaks a limit.
 */
export function solveIk(
  arm: ArmModel,
  target: Pose2,
  near: ArrayLike<number>,
  lower: ArrayLike<number>,
  upper: ArrayLike<number>,
  out: Float64Array,
  elbow?: 1 | -1,
): boolean {
  const [l1, l2, l3] = arm.links.map((l) => l.length) as [number, number, number];
  const wx = target.x - l3 * Math.cos(target.angle);
  const wy = target.y - l3 * Math.sin(target.angle);
  const c2 = (wx * wx + wy * wy - l1 * l1 - l2 * l2) / (2 * l1 * l2);
  if (!(c2 >= -1 && c2 <= 1)) return false;
  let best = Number.POSITIVE_INFINITY;
  for (const sign of elbow ? [elbow] : [1, -1]) {
    const q2 = sign * Math.acos(c2);
    const q1 = Math.atan2(wy, wx) - Math.atan2(l2 * Math.sin(q2), l1 + l2 * Math.cos(q2));
    const q = [wrapAngle(q1), q2, 0];
    q[2] = wrapAngle(target.angle - (q[0] as number) - q2);
    let cost = 0;
    let inside = true;
    for (let i = 0; i < ARM_JOINTS; i++) {
      const v = q[i] as number;
      if (v < (lower[i] as number) || v > (upper[i] as number)) inside = false;
      cost += (v - (near[i] as number)) ** 2;
    }
    if (inside && cost < best) {
      best = cost;
      out.set(q);
    }
  }
  return best < Number.POSITIVE_INFINITY;
}

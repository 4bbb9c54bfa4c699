import {
  ColliderDesc,
  init,
  JointData,
  MotorModel,
  World as RapierWorld,
  type RevoluteImpulseJoint,
  type RigidBody,
  RigidBodyDesc,
} from '@dimforge/rapier2d-compat';
import { ARM_JOINTS, type ArmModel, type Pose2, tipPose, wrapAngle } from './arm.js';
import type { BlockColour, Scene } from './scene.js';

/**
 * The physics of the tabletop in Rapier, seen from above: no gravity; the arm's links are
 * dynamic bodies joined by revolute impulse joints whose motors track joint position
 * targets (Rapier has motors on impulse joints only, and no joint-angle getter: angles are
 * differences of body rotations); blocks are dynamic squares slowed by damping in place of
 * table friction.
 *
 * Only the hand touches blocks: the upper arm and forearm move in the plane 0.10 m above
 * the table, over the 0.05 m blocks, and the hand is what reaches down to push. Blocks
 * touch each other and the pedestal.
 *
 * Every reset builds a new Rapier world, so a run depends only on the reset's layout and
 * the targets and ticks that follow it: the same inputs give bit-identical states.
 */

export interface BlockPose {
  colour: BlockColour;
  x: number;
  y: number;
  angle: number;
}

/** What the physics holds now: joints (URDF order), the tool tip, the blocks (layout order). */
export interface WorldState {
  jointNames: readonly string[];
  position: Float64Array;
  velocity: Float64Array;
  /** The position targets the motors are tracking. */
  targets: Float64Array;
  tip: Pose2;
  blocks: BlockPose[];
}

let rapierReady: Promise<void> | undefined;

/** Loads Rapier's WebAssembly once per process (~50 ms); every World needs it first. */
export function initPhysics(): Promise<void> {
  rapierReady ??= init();
  return rapierReady;
}

// Collision groups: membership in the high 16 bits, the groups it collides with in the low.
const HAND = 0x1;
const BLOCK = 0x2;
const PEDESTAL = 0x4;
const groups = (member: number, filter: number) => (member << 16) | filter;

export class World {
  private world: RapierWorld | undefined;
  private links: RigidBody[] = [];
  private joints: RevoluteImpulseJoint[] = [];
  private blockBodies: RigidBody[] = [];
  private blockColours: BlockColour[] = [];
  private readonly stiffness: Float64Array;
  private readonly damping: Float64Array;
  private readonly targetPosition = new Float64Array(ARM_JOINTS);

  /** Call `initPhysics()` first, then `reset` before anything else. */
  constructor(
    readonly arm: ArmModel,
    readonly scene: Scene,
    readonly periodSeconds: number,
  ) {
    const { bandwidth_hz, damping_ratio } = scene.arm.motor;
    const omega = 2 * Math.PI * bandwidth_hz;
    const inertia = distalInertia(arm);
    this.stiffness = inertia.map((i) => i * omega * omega);
    this.damping = inertia.map((i) => 2 * damping_ratio * i * omega);
  }

  /** A fresh world: the arm at rest at `q`, holding it, and the blocks at rest. */
  reset(q: ArrayLike<number>, blocks: readonly BlockPose[]): void {
    this.world?.free();
    const world = new RapierWorld({ x: 0, y: 0 });
    world.timestep = this.periodSeconds;
    this.world = world;
    const { arm, scene } = this;

    const base = world.createRigidBody(RigidBodyDesc.fixed());
    if (arm.pedestalRadius > 0) {
      world.createCollider(
        ColliderDesc.ball(arm.pedestalRadius).setCollisionGroups(groups(PEDESTAL, BLOCK)),
        base,
      );
    }

    this.links = [];
    this.joints = [];
    let parent = base;
    let x = 0;
    let y = 0;
    let angle = 0;
    let anchor = 0;
    for (const [i, link] of arm.links.entries()) {
      angle += q[i] as number;
      const body = world.createRigidBody(
        RigidBodyDesc.dynamic()
          .setTranslation(x, y)
          .setRotation(angle)
          .setAdditionalMassProperties(link.mass, { x: link.com[0], y: link.com[1] }, link.izz)
          .setCanSleep(false),
      );
      if (i === arm.links.length - 1) {
        world.createCollider(
          ColliderDesc.cuboid(link.box.length / 2, link.box.width / 2)
            .setTranslation(link.box.centre[0], link.box.centre[1])
            .setDensity(0)
            .setFriction(scene.blocks.friction)
            .setCollisionGroups(groups(HAND, BLOCK)),
          body,
        );
      }
      const data = JointData.revolute({ x: anchor, y: 0 }, { x: 0, y: 0 });
      data.limitsEnabled = true;
      data.limits = [link.lower, link.upper];
      const joint = world.createImpulseJoint(data, parent, body, true) as RevoluteImpulseJoint;
      joint.setContactsEnabled(false);
      // Force-based: gains in N·m/rad, so the torque limit below means the URDF's effort.
      // (The acceleration-based model ignores the chain's coupled inertia and rings.)
      joint.configureMotorModel(MotorModel.ForceBased);
      joint.setMotorMaxForce(link.effort);
      this.links.push(body);
      this.joints.push(joint);
      parent = body;
      anchor = link.length;
      x += link.length * Math.cos(angle);
      y += link.length * Math.sin(angle);
    }
    this.setTargets(q);

    this.blockBodies = [];
    this.blockColours = [];
    const { size, mass, friction, linear_damping, angular_damping } = scene.blocks;
    for (const block of blocks) {
      const body = world.createRigidBody(
        RigidBodyDesc.dynamic()
          .setTranslation(block.x, block.y)
          .setRotation(block.angle)
          .setLinearDamping(linear_damping)
          .setAngularDamping(angular_damping),
      );
      world.createCollider(
        ColliderDesc.cuboid(size / 2, size / 2)
          .setMass(mass)
          .setFriction(friction)
          .setCollisionGroups(groups(BLOCK, HAND | BLOCK | PEDESTAL)),
        body,
      );
      this.blockBodies.push(body);
      this.blockColours.push(block.colour);
    }
  }

  /** Motor targets, held until the next call; velocities feed forward (default 0). */
  setTargets(position: ArrayLike<number>, velocity?: ArrayLike<number>): void {
    for (let i = 0; i < ARM_JOINTS; i++) {
      const p = position[i] as number;
      const v = velocity ? (velocity[i] as number) : 0;
      this.targetPosition[i] = p;
      (this.joints[i] as RevoluteImpulseJoint).configureMotor(
        p,
        v,
        this.stiffness[i] as number,
        this.damping[i] as number,
      );
    }
  }

  /** One physics step of `periodSeconds`. */
  tick(): void {
    this.rapier().step();
  }

  /** Joint positions and velocities from the link bodies' rotations and spins. */
  readJoints(position: Float64Array, velocity: Float64Array): void {
    let angle = 0;
    let spin = 0;
    for (let i = 0; i < ARM_JOINTS; i++) {
      const body = this.links[i] as RigidBody;
      const a = body.rotation();
      const w = body.angvel();
      position[i] = wrapAngle(a - angle);
      velocity[i] = w - spin;
      angle = a;
      spin = w;
    }
  }

  state(): WorldState {
    const position = new Float64Array(ARM_JOINTS);
    const velocity = new Float64Array(ARM_JOINTS);
    this.readJoints(position, velocity);
    return {
      jointNames: this.arm.jointNames,
      position,
      velocity,
      targets: Float64Array.from(this.targetPosition),
      tip: tipPose(this.arm, position),
      blocks: this.blocks(),
    };
  }

  blocks(): BlockPose[] {
    return this.blockBodies.map((body, i) => {
      const { x, y } = body.translation();
      return { colour: this.blockColours[i] as BlockColour, x, y, angle: body.rotation() };
    });
  }

  /** Each link body's frame (at its joint), base to tip. */
  linkPoses(): Pose2[] {
    return this.links.map((body) => {
      const { x, y } = body.translation();
      return { x, y, angle: body.rotation() };
    });
  }

  /** Releases Rapier's memory; the world is unusable until the next reset. */
  free(): void {
    this.world?.free();
    this.world = undefined;
  }

  private rapier(): RapierWorld {
    if (!this.world) throw new Error('World.reset must come first');
    return this.world;
  }
}

/**
 * Each joint's inertia about its axis with the arm stretched out: its link and every link
 * beyond it (parallel-axis theorem). Gains proportional to it give every joint the same
 * bandwidth; stretched is the worst case, so folded poses are only better damped.
 */
function distalInertia(arm: ArmModel): Float64Array {
  const out = new Float64Array(ARM_JOINTS);
  for (let i = 0; i < ARM_JOINTS; i++) {
    let offset = 0;
    for (let j = i; j < ARM_JOINTS; j++) {
      const link = arm.links[j] as ArmModel['links'][number];
      const cx = offset + link.com[0];
      out[i] = (out[i] as number) + link.izz + link.mass * (cx * cx + link.com[1] * link.com[1]);
      offset += link.length;
    }
  }
  return out;
}

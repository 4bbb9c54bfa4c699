import { type ActionSpec, InputError } from '../contract/index.js';
import { ARM_JOINTS, type ArmModel, clamp, type Pose2, solveIk, wrapAngle } from './arm.js';
import type { Scene, ZoneSide } from './scene.js';
import { pushGoal, type Task, taskBlock } from './tasks.js';
import type { BlockPose, WorldState } from './world.js';

/**
 * The scripted expert: from privileged state (joint positions, block poses) and the task,
 * the next action chunk as joint positions in the ActionSpec's layout (H steps × D joints,
 * step-major, step k due k·dt from now, step 0 where the arm is).
 *
 * It plans a path for the tool tip in the table plane and maps every step through
 * analytic IK:
 * - reach: come in to the block's face nearest the base (or the nearest side free of other
 *   blocks) and stop touching it.
 * - push: sweep the block sideways into the zone with the side of the hand (`sweep`), a
 *   motion a learned policy can copy a few centimetres off and still succeed with.
 *   Planning again each chunk from the block's new pose keeps it on the hand.
 * Reach paths go round blocks, and the hand points the way the tip travels: the hand's body
 * then trails along where the tip has just been, which the path kept clear, instead of
 * sweeping the blocks beside it.
 *
 * Steps respect a joint speed under the cerebellum's limits, and the motion is slow enough
 * that the uniform tokenizer's quantisation (~0.02 rad) does not spoil it.
 */

export interface ExpertOptions {
  /** Tool tip speed going to the block (m/s). Default 0.25. */
  approachSpeed?: number;
  /** Tool tip speed pushing (m/s). Default 0.12. */
  pushSpeed?: number;
  /** Largest joint speed of a step (rad/s). Default 1.2 (joint_limits.yaml allows 1.5). */
  maxJointSpeed?: number;
}

interface Point {
  x: number;
  y: number;
}

/** A corner of the tip's path and the speed of the leg that ends there. */
interface Waypoint extends Point {
  speed: number;
}

/** Tip to block face when reaching (m): touching but not shoving. */
const REACH_STANDOFF = 0.004;
/** Tip behind the block's face where a push starts, and where a reach lines up (m). */
const LINE_UP = 0.05;
/** Tip to block centre, beyond the block's corners, that paths keep clear of (m). */
const CLEARANCE = 0.04;
/** Blocks one leg may go round, nested. */
const DETOUR_DEPTH = 3;
/** Sides tried for a reach, as offsets from the face nearest the base (rad). */
const REACH_SIDES = [0, 0.4, -0.4, 0.8, -0.8, 1.2, -1.2, 1.6, -1.6];
/** The hand points at the path this far ahead of the tip (m). */
const LOOK_AHEAD = 0.08;
/** Fastest turn of the hand (rad/s). */
const TURN_RATE = 3;
/** Headings tried, in this order of offsets from the one wanted, when IK cannot reach it (rad). */
const HEADING_OFFSETS = [0, 0.1, -0.1, 0.2, -0.2, 0.4, -0.4, 0.7, -0.7, 1.0, -1.0, 1.5, -1.5];
/** Headings a push or reach may start at: within this of its line. */
const KEY_OFFSETS = HEADING_OFFSETS.slice(0, 5);
/** Kept inside the joint limits (rad), so quantised steps stay inside too. */
const LIMIT_MARGIN = 0.05;
/** |y| of the line a sweep starts from: beyond the spawn area, clear of every block (m). */
const SWEEP_FROM = 0.22;
/** Tip x of the lateral leg to that line: nearer the base than any block (m). */
const SWEEP_SAFE_X = 0.22;
/** The hand's centre within this of the block's x: the block is on the hand (m). */
const SWEEP_BAND = 0.08;
/** A sweep carries the block this far past the push goal, into the zone's middle (m). */
const SWEEP_PAST = 0.03;
/** The hand's heading within this of forward: square to the sweep (rad). */
const SWEEP_HEADING = 0.35;

export class ScriptedExpert {
  readonly horizon: number;
  readonly dt: number;
  private readonly approachSpeed: number;
  private readonly pushSpeed: number;
  private readonly maxStep: number;
  /** `order[d]` is the arm joint of spec dimension d. */
  private readonly order: number[];
  /** Tip to block centre that approaches keep clear of: the block's corners and CLEARANCE. */
  private readonly keepOff: number;
  private readonly lower = new Float64Array(ARM_JOINTS);
  private readonly upper = new Float64Array(ARM_JOINTS);

  constructor(
    spec: ActionSpec,
    private readonly arm: ArmModel,
    private readonly scene: Scene,
    options: ExpertOptions = {},
  ) {
    const source = `spec ${spec.name}`;
    this.horizon = spec.horizon;
    this.dt = spec.dt;
    this.approachSpeed = options.approachSpeed ?? 0.25;
    this.pushSpeed = options.pushSpeed ?? 0.12;
    this.maxStep = (options.maxJointSpeed ?? 1.2) * spec.dt;
    this.keepOff = (Math.SQRT2 * scene.blocks.size) / 2 + CLEARANCE;
    if (spec.dimensions.length !== ARM_JOINTS) {
      throw new InputError(
        source,
        'dimensions',
        `has ${spec.dimensions.length}, the arm has ${ARM_JOINTS} joints`,
      );
    }
    this.order = spec.dimensions.map((d, i) => {
      const joint = arm.jointNames.indexOf(d.name);
      if (d.kind !== 'joint_position' || joint < 0) {
        throw new InputError(
          source,
          `dimensions[${i}]`,
          `the expert needs joint_position dimensions named for the arm's joints (${arm.jointNames.join(', ')})`,
        );
      }
      this.lower[joint] = Math.max(d.lower, arm.lower[joint] as number) + LIMIT_MARGIN;
      this.upper[joint] = Math.min(d.upper, arm.upper[joint] as number) - LIMIT_MARGIN;
      return joint;
    });
  }

  /** The next chunk for `task` from `state`: horizon·dims joint positions, step-major. */
  plan(state: WorldState, task: Task): Float64Array {
    const block = taskBlock(task, state.blocks);
    const others = state.blocks.filter((b) => b !== block);
    return task.kind === 'reach'
      ? this.follow(state, this.reachPath(state, block, others))
      : this.sweep(state, block, task.zone);
  }

  /**
   * Reach the block's face nearest the base, or when other blocks stand in the way in (the
   * hand's length back from the face), the nearest side that is free and reachable.
   */
  private reachPath(state: WorldState, block: BlockPose, others: readonly BlockPose[]): Waypoint[] {
    const radial = Math.atan2(block.y, block.x);
    const hand = (this.arm.links[ARM_JOINTS - 1] as ArmModel['links'][number]).length;
    const scratch = new Float64Array(ARM_JOINTS);
    let chosen = radial;
    for (const offset of REACH_SIDES) {
      const d = direction(radial + offset);
      const face = this.support(block, d);
      const wayIn = behind(block, d, face + LINE_UP + hand);
      const touch = { ...behind(block, d, face + REACH_STANDOFF), angle: radial + offset };
      if (
        others.every((o) => clear(wayIn, block, o, this.keepOff)) &&
        solveIk(this.arm, touch, state.position, this.lower, this.upper, scratch)
      ) {
        chosen = radial + offset;
        break;
      }
    }
    return this.approach(state.tip, block, others, direction(chosen), REACH_STANDOFF);
  }

  /**
   * Push: the hand, pointing forward (square to the sweep), sweeps sideways toward the zone
   * with the block on its side, following the block's x so it stays on the hand. The hand's
   * 15 cm side then carries a block that sits a few cm off its middle, where a tip push needs
   * the tip within a few mm of the block's line. Until the block is on the hand, the hand
   * goes to the sweep's start line beyond the spawn area on the far side from the zone, by
   * way of the strip beside the base, and comes forward along that line to the block's x:
   * places no block stands in. Only the hand touches blocks (the arm passes over them), so
   * either zone is swept with the elbow where it is.
   */
  private sweep(state: WorldState, block: BlockPose, zone: ZoneSide): Float64Array {
    const s = zone === 'left' ? 1 : -1;
    const hand = this.arm.links[ARM_JOINTS - 1] as ArmModel['links'][number];
    const half = hand.length / 2;
    const face = this.support(block, [0, s]) + hand.box.width / 2;
    const goal = pushGoal(this.scene, zone, block.x, block.y)[1] * s + SWEEP_PAST;
    // Sweep coordinates: u toward the zone; the hand's centre where its side touches the block.
    const touch = block.y * s - face;
    const centre = {
      x: state.tip.x - half * Math.cos(state.tip.angle),
      u: (state.tip.y - half * Math.sin(state.tip.angle)) * s,
    };
    const at = (x: number, u: number, speed: number) => ({ x: x + half, y: u * s, speed });
    const end = at(block.x, goal - face, this.pushSpeed);
    const onHand =
      Math.abs(wrapAngle(state.tip.angle)) < SWEEP_HEADING &&
      Math.abs(centre.x - block.x) < SWEEP_BAND &&
      centre.u < touch + 0.05;
    const path: Waypoint[] = [];
    if (!onHand) {
      const from = Math.min(-SWEEP_FROM, touch - 0.05);
      if (centre.u > from + 0.03) {
        const speed = this.approachSpeed;
        if (state.tip.x > SWEEP_SAFE_X + 0.01)
          path.push({ x: SWEEP_SAFE_X, y: state.tip.y, speed });
        path.push({ x: SWEEP_SAFE_X, y: from * s, speed });
      }
      path.push(at(block.x, from, this.approachSpeed));
    }
    path.push(end);
    return this.follow(state, path, 0);
  }

  /**
   * The tip's way to `standoff` behind the block's face along `d`, the last LINE_UP or more
   * of it along `d`, round the blocks in the way. The block itself is in the way only while
   * the tip is not yet behind it.
   */
  private approach(
    tip: Pose2,
    block: BlockPose,
    others: readonly BlockPose[],
    d: readonly [number, number],
    standoff: number,
  ): Waypoint[] {
    const speed = this.approachSpeed;
    const face = this.support(block, d);
    const last = { ...behind(block, d, face + standoff), speed };
    const lineUp = { ...behind(block, d, face + Math.max(standoff, LINE_UP)), speed };
    const legs = standoff < LINE_UP ? [lineUp, last] : [last];
    const obstacles = relative(tip, block, d).along < -face ? others : [block, ...others];
    return [...this.detour(tip, lineUp, obstacles, DETOUR_DEPTH), ...legs];
  }

  /**
   * Corners (a and b excluded) that take the tip from a to b round the blocks in the way:
   * beside the first one met, on the shorter side, then the same for both halves. A block
   * close to either end is kept off only as far as that end allows, so the tip still
   * arrives from its free side.
   */
  private detour(a: Point, b: Point, blocks: readonly BlockPose[], depth: number): Waypoint[] {
    const dx = b.x - a.x;
    const dy = b.y - a.y;
    const len = Math.hypot(dx, dy);
    if (depth === 0 || len < 1e-9) return [];
    let first: BlockPose | undefined;
    let firstAt = Number.POSITIVE_INFINITY;
    let radius = 0;
    for (const o of blocks) {
      const r = Math.min(
        this.keepOff,
        Math.hypot(o.x - a.x, o.y - a.y) - 0.005,
        Math.hypot(o.x - b.x, o.y - b.y) - 0.005,
      );
      const t = clamp(((o.x - a.x) * dx + (o.y - a.y) * dy) / (len * len), 0, 1);
      const gap = Math.hypot(a.x + t * dx - o.x, a.y + t * dy - o.y);
      if (r > 0 && gap < r && t < firstAt) {
        first = o;
        firstAt = t;
        radius = r;
      }
    }
    if (!first) return [];
    const nx = -dy / len;
    const ny = dx / len;
    const corners = [1, -1].map((side) => ({
      x: first.x + side * (radius + 0.01) * nx,
      y: first.y + side * (radius + 0.01) * ny,
      speed: this.approachSpeed,
    }));
    const via = (c: { x: number; y: number }) =>
      Math.hypot(c.x - a.x, c.y - a.y) + Math.hypot(b.x - c.x, b.y - c.y);
    const [left, right] = corners as [Waypoint, Waypoint];
    const corner = via(left) <= via(right) ? left : right;
    return [
      ...this.detour(a, corner, blocks, depth - 1),
      corner,
      ...this.detour(corner, b, blocks, depth - 1),
    ];
  }

  /** Half the block's extent along unit direction d: how far its face is from its centre. */
  private support(block: BlockPose, d: readonly [number, number]): number {
    const c = Math.cos(block.angle);
    const s = Math.sin(block.angle);
    const h = this.scene.blocks.size / 2;
    return h * (Math.abs(c * d[0] + s * d[1]) + Math.abs(-s * d[0] + c * d[1]));
  }

  /**
   * Samples the path at the chunk's steps (each leg at its speed), with the hand pointing
   * LOOK_AHEAD along the path (along the last leg at its end), or held `facing` a given
   * heading, and turning at most TURN_RATE,
   * and maps each sample through IK from the previous step, capped at the joint speed; or,
   * when the path's end needs the elbow on its other side, moves there in joint space.
   */
  private follow(state: WorldState, path: readonly Waypoint[], facing?: number): Float64Array {
    const H = this.horizon;
    const chunk = new Float64Array(H * ARM_JOINTS);
    const q = Float64Array.from(state.position, (v, i) =>
      clamp(v, this.lower[i] as number, this.upper[i] as number),
    );
    this.write(chunk, 0, q);
    const next = new Float64Array(ARM_JOINTS);
    const points: Point[] = [state.tip, ...path];
    // Arc length and arrival time at each corner.
    const lengths = [0];
    const times = [0];
    for (let i = 1; i < points.length; i++) {
      const a = points[i - 1] as Point;
      const b = points[i] as Point;
      const leg = Math.hypot(b.x - a.x, b.y - a.y);
      lengths.push((lengths[i - 1] as number) + leg);
      times.push((times[i - 1] as number) + leg / (path[i - 1] as Waypoint).speed);
    }
    const total = lengths[lengths.length - 1] as number;
    // Along the last leg at the path's end; an empty path holds the hand as it is.
    const end = points[points.length - 1] as Point;
    const prev = points[points.length - 2];
    const endHeading = facing ?? (prev ? Math.atan2(end.y - prev.y, end.x - prev.x) : sum(q));
    // The elbow side the path's last two corners need: on the other, the wrist can run out
    // of range for their headings. Changing sides means straightening the arm, which only
    // joint space can do.
    const keys = points.slice(-2).map((p) => ({ ...p, angle: endHeading }));
    const side = (q[1] as number) < 0 ? -1 : 1;
    const other = -side as 1 | -1;
    const goal = new Float64Array(ARM_JOINTS);
    const switchElbow =
      points.length > 1 &&
      keys.some((p) => !this.solve(p, q, next, side, KEY_OFFSETS)) &&
      keys.every((p) => this.solve(p, q, next, other, KEY_OFFSETS)) &&
      this.solve(keys[0] as Pose2, q, goal, other, KEY_OFFSETS);
    let heading = sum(q);
    const maxTurn = TURN_RATE * this.dt;
    for (let k = 1; k < H; k++) {
      if (switchElbow) {
        this.stepToward(q, goal);
        this.write(chunk, k, q);
        continue;
      }
      const s = arcAt(lengths, times, k * this.dt);
      const here = pointAt(points, lengths, s);
      const ahead = pointAt(points, lengths, Math.min(s + LOOK_AHEAD, total));
      const gap = Math.hypot(ahead.x - here.x, ahead.y - here.y);
      const want =
        facing ?? (gap > 1e-3 ? Math.atan2(ahead.y - here.y, ahead.x - here.x) : endHeading);
      heading += clamp(this.wristWindow(q, want) - heading, -maxTurn, maxTurn);
      if (this.solve({ ...here, angle: heading }, q, next)) this.stepToward(q, next);
      this.write(chunk, k, q);
    }
    return chunk;
  }

  /**
   * The hand's angle q1+q2+q3 for heading `want` that the wrist allows from the forearm's
   * angle now, or the nearer edge of what it allows when `want` points back along the
   * forearm. The angle is continuous, not wrapped, so the hand turns the way the wrist can.
   */
  private wristWindow(q: Float64Array, want: number): number {
    const wrist = ARM_JOINTS - 1;
    const forearm = sum(q) - (q[wrist] as number);
    const lo = forearm + (this.lower[wrist] as number);
    const hi = forearm + (this.upper[wrist] as number);
    const r = want + 2 * Math.PI * Math.ceil((lo - want) / (2 * Math.PI));
    if (r <= hi) return r;
    return r - hi < lo + 2 * Math.PI - r ? hi : lo;
  }

  /** Moves q toward `to`, no joint further than one step's worth of joint speed. */
  private stepToward(q: Float64Array, to: Float64Array): void {
    const d = distance(to, q);
    const scale = d > this.maxStep ? this.maxStep / d : 1;
    for (let i = 0; i < ARM_JOINTS; i++) {
      q[i] = (q[i] as number) + scale * ((to[i] as number) - (q[i] as number));
    }
  }

  /** IK at the wanted heading, or the nearest heading that reaches. */
  private solve(
    target: Pose2,
    near: Float64Array,
    out: Float64Array,
    elbow?: 1 | -1,
    offsets = HEADING_OFFSETS,
  ): boolean {
    for (const offset of offsets) {
      const pose = { x: target.x, y: target.y, angle: target.angle + offset };
      if (solveIk(this.arm, pose, near, this.lower, this.upper, out, elbow)) return true;
    }
    return false;
  }

  private write(chunk: Float64Array, step: number, q: Float64Array): void {
    for (let d = 0; d < ARM_JOINTS; d++) {
      chunk[step * ARM_JOINTS + d] = q[this.order[d] as number] as number;
    }
  }
}

/** The largest joint difference. */
function distance(a: Float64Array, b: Float64Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    worst = Math.max(worst, Math.abs((a[i] as number) - (b[i] as number)));
  }
  return worst;
}

function sum(q: Float64Array): number {
  return q.reduce((a, v) => a + v, 0);
}

/** Arc length covered at time t, each leg at its speed (held at the end). */
function arcAt(lengths: readonly number[], times: readonly number[], t: number): number {
  for (let i = 1; i < times.length; i++) {
    const t1 = times[i] as number;
    if (t <= t1) {
      const t0 = times[i - 1] as number;
      const f = t1 > t0 ? (t - t0) / (t1 - t0) : 1;
      const l0 = lengths[i - 1] as number;
      return l0 + f * ((lengths[i] as number) - l0);
    }
  }
  return lengths[lengths.length - 1] as number;
}

/** The point at arc length s along the polyline. */
function pointAt(points: readonly Point[], lengths: readonly number[], s: number): Point {
  for (let i = 1; i < points.length; i++) {
    const l1 = lengths[i] as number;
    if (s <= l1) {
      const l0 = lengths[i - 1] as number;
      const f = l1 > l0 ? (s - l0) / (l1 - l0) : 1;
      const a = points[i - 1] as Point;
      const b = points[i] as Point;
      return { x: a.x + f * (b.x - a.x), y: a.y + f * (b.y - a.y) };
    }
  }
  const end = points[points.length - 1] as Point;
  return { x: end.x, y: end.y };
}

function direction(angle: number): [number, number] {
  return [Math.cos(angle), Math.sin(angle)];
}

/** The point `back` behind p against d. */
function behind(p: Point, d: readonly [number, number], back: number): Point {
  return { x: p.x - d[0] * back, y: p.y - d[1] * back };
}

/** Where p is from the block: along d (negative behind it) and to the left of d. */
function relative(
  p: Point,
  block: BlockPose,
  d: readonly [number, number],
): { along: number; lateral: number } {
  const rx = p.x - block.x;
  const ry = p.y - block.y;
  return { along: rx * d[0] + ry * d[1], lateral: -rx * d[1] + ry * d[0] };
}

/** Whether the segment a→b stays at least r from the block's centre. */
function clear(a: Point, b: Point, block: BlockPose, r: number): boolean {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const len2 = dx * dx + dy * dy;
  const f =
    len2 > 0 ? Math.max(0, Math.min(1, ((block.x - a.x) * dx + (block.y - a.y) * dy) / len2)) : 0;
  return Math.hypot(a.x + f * dx - block.x, a.y + f * dy - block.y) >= r;
}

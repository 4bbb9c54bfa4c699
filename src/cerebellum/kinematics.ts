import { InputError, type SerialChain, type Vec3 } from '../contract/index.js';
import type { ForwardKinematics } from './types.js';

/**
 * Kinematics of a serial chain read from a URDF: forward kinematics (4×4 homogeneous
 * transforms), the geometric position Jacobian of the tip, and damped-least-squares
 * inverse kinematics for a position target.
 *
 * Conventions (URDF's): a joint's `<origin xyz rpy>` places the joint frame in the parent
 * link's frame as T = Trans(xyz) · Rz(yaw) · Ry(pitch) · Rx(roll) (fixed-axis roll, then
 * pitch, then yaw); a revolute or continuous joint then rotates by q about its unit `axis`,
 * a prismatic joint translates by q along it. Transforms are row-major 4×4 matrices.
 *
 * q vectors are in `jointOrder` (default: the chain's moving joints, base to tip); the
 * order may be any list that contains every moving joint of the chain (for example the
 * robot's joint-limits order, with joints outside the chain, such as a gripper, ignored).
 *
 * The hot paths (`endEffectorPosition`, `tipTransform`, `positionJacobian`, and
 * `solvePosition` given its options and result objects) allocate nothing: every buffer is
 * allocated once here.
 */

export interface KinematicsOptions {
  /** Names of the q vector's entries; must contain every moving joint of the chain. */
  jointOrder?: string[];
}

export interface IkOptions {
  /**
   * Damping λ (m): the starting μ of Δq = Jᵀ(JJᵀ + μ²I)⁻¹e, which then adapts (see
   * `solvePosition`). Larger starts steadier and slower. Default 0.05.
   */
  damping?: number;
  /** Proposals at most (each one forward-kinematics evaluation). Default 200. */
  maxIterations?: number;
  /** Converged once |target − p(q)| ≤ tolerance (m). Default 1e-6. */
  tolerance?: number;
  /** Largest |Δq| of one joint per iteration (rad or m), keeping steps in the linear region. Default 0.4. */
  maxJointStep?: number;
  /**
   * Further attempts from fixed seeds spread over the limits when an attempt does not
   * converge (a local minimum against a limit). Default 0: the solution stays near the seed,
   * as continuous motion (ee_delta actions) needs.
   */
  restarts?: number;
  /** Position limits in q-vector order; default the URDF's. Each iteration clamps into them. */
  lower?: Float64Array;
  upper?: Float64Array;
}

/** The outcome of an IK solve; the solution itself is written to the caller's `out`. */
export interface IkResult {
  /** Whether the residual reached the tolerance. */
  converged: boolean;
  /** |target − p(q)| of the solution returned, the best one seen (m). */
  residual: number;
  /** Proposals evaluated, over all attempts. */
  iterations: number;
}

const REVOLUTE = 0;
const PRISMATIC = 1;

// Slots of SerialChainKinematics.num.
const MU = 0;
const RESIDUAL = 1;

const DEFAULT_IK: IkOptions = Object.freeze({});

export class SerialChainKinematics implements ForwardKinematics {
  /** Moving joints in the chain, base to tip. */
  readonly dof: number;
  /** The q vector's entries. */
  readonly jointOrder: readonly string[];
  /** URDF position limits in q-vector order (±∞ for continuous joints and joints outside the chain). */
  readonly lower: Float64Array;
  readonly upper: Float64Array;

  /** Per moving joint: the fixed transform from the previous moving joint's frame (3×4 affine). */
  private readonly fixed: Float64Array[];
  /** Fixed transform from the last moving joint's frame to the tip. */
  private readonly tail: Float64Array;
  private readonly axes: Float64Array;
  private readonly kinds: Uint8Array;
  /** Per moving joint, its index in the q vector. */
  private readonly qIndex: Int32Array;
  private readonly width: number;

  // Scratch, allocated once.
  private bufA: Float64Array = new Float64Array(12);
  private bufB: Float64Array = new Float64Array(12);
  private readonly motion = new Float64Array(12);
  /** World-frame joint origins and axes of the last evaluation. */
  private readonly origins: Float64Array;
  private readonly worldAxes: Float64Array;
  private readonly tipPos = new Float64Array(3);
  private readonly jac: Float64Array;
  private readonly q: Float64Array;
  private readonly candidate: Float64Array;
  /** 1 for q entries that are moving joints of the chain. */
  private readonly inChain: Uint8Array;
  /** 1 for the joints a DLS step may move. */
  private readonly free: Uint8Array;
  private readonly target = new Float64Array(3);
  private lastIterations = 0;
  /** Scalars of the IK: μ and the residual of the last attempt. */
  private readonly num = new Float64Array(2);
  private readonly step: Float64Array;
  private readonly ikLower: Float64Array;
  private readonly ikUpper: Float64Array;
  private readonly err = new Float64Array(3);
  private readonly a = new Float64Array(9);
  private readonly y = new Float64Array(3);

  constructor(chain: SerialChain, options: KinematicsOptions = {}) {
    const moving = chain.joints.filter((j) => j.type !== 'fixed');
    this.dof = moving.length;
    const order = options.jointOrder ?? moving.map((j) => j.name);
    this.jointOrder = [...order];
    this.width = order.length;
    this.qIndex = new Int32Array(this.dof);
    this.axes = new Float64Array(3 * this.dof);
    this.kinds = new Uint8Array(this.dof);
    this.lower = new Float64Array(this.width).fill(Number.NEGATIVE_INFINITY);
    this.upper = new Float64Array(this.width).fill(Number.POSITIVE_INFINITY);
    for (const [i, joint] of moving.entries()) {
      const index = order.indexOf(joint.name);
      if (index < 0) {
        throw new InputError(
          chain.source,
          'jointOrder',
          `[${order.join(', ')}] lacks the chain's joint '${joint.name}'`,
        );
      }
      this.qIndex[i] = index;
      this.axes.set(joint.axis, 3 * i);
      this.kinds[i] = joint.type === 'prismatic' ? PRISMATIC : REVOLUTE;
      if (joint.limit) {
        this.lower[index] = joint.limit.lower;
        this.upper[index] = joint.limit.upper;
      }
    }
    this.fixed = [];
    let acc = identity(new Float64Array(12));
    const origin = new Float64Array(12);
    for (const joint of chain.joints) {
      originTransform(joint.origin.xyz, joint.origin.rpy, origin);
      const next = new Float64Array(12);
      compose(acc, origin, next);
      acc = next;
      if (joint.type !== 'fixed') {
        this.fixed.push(acc);
        acc = identity(new Float64Array(12));
      }
    }
    this.tail = acc;
    this.origins = new Float64Array(3 * this.dof);
    this.worldAxes = new Float64Array(3 * this.dof);
    this.jac = new Float64Array(3 * this.width);
    this.q = new Float64Array(this.width);
    this.candidate = new Float64Array(this.width);
    this.inChain = new Uint8Array(this.width);
    for (const index of this.qIndex) this.inChain[index] = 1;
    this.free = new Uint8Array(this.width);
    this.step = new Float64Array(this.width);
    this.ikLower = new Float64Array(this.width);
    this.ikUpper = new Float64Array(this.width);
  }

  /** The tip's pose in the base frame as a row-major 4×4 transform, written to `out` (16). */
  tipTransform(q: Float64Array, out: Float64Array): Float64Array {
    const t = this.evaluate(q);
    for (let k = 0; k < 12; k++) out[k] = t[k] as number;
    out[12] = 0;
    out[13] = 0;
    out[14] = 0;
    out[15] = 1;
    return out;
  }

  /** The tip's position in the base frame (m), written to `out` (3). */
  endEffectorPosition(q: Float64Array, out: Float64Array): Float64Array {
    const t = this.evaluate(q);
    out[0] = t[3] as number;
    out[1] = t[7] as number;
    out[2] = t[11] as number;
    return out;
  }

  /**
   * The geometric position Jacobian ∂p/∂q of the tip, 3 × jointOrder.length, row-major,
   * written to `out`. Revolute column: axisᵢ × (p − oᵢ); prismatic: axisᵢ; joints outside
   * the chain: zero.
   */
  positionJacobian(q: Float64Array, out: Float64Array): Float64Array {
    this.evaluate(q);
    this.fillJacobian(out);
    return out;
  }

  /**
   * Damped least squares for a position target in the base frame. From `seed` (clamped
   * into the limits), each iteration proposes Δq = Jᵀ(JJᵀ + μ²I)⁻¹(target − p(q)) over the
   * joints not pinned at a limit (a joint at a limit whose step points outward is left out
   * and the step recomputed without it), scales it so that no joint moves more than
   * `maxJointStep`, and clamps q + Δq into the position limits. A proposal that lowers the
   * residual is taken and μ halves (down to λ·1e-6, so that targets at the edge of the
   * workspace, where J is singular, still converge quickly); one that does not is dropped
   * and μ grows fourfold (steady near singularities, where plain DLS oscillates). μ starts
   * at λ (`damping`).
   *
   * An attempt stops at the tolerance, after `maxIterations` proposals, or when no proposal
   * helps any more (the closest approach of an unreachable target, or a local minimum
   * against a limit). With `restarts`, an attempt that did not converge is followed by
   * others from fixed seeds spread over the limits, at most `restarts` more. Writes the
   * best q to `out` and returns its residual. Entries of q outside the chain are copied from
   * `seed`.
   */
  solvePosition(
    target: ArrayLike<number>,
    seed: Float64Array,
    out: Float64Array,
    options: IkOptions = DEFAULT_IK,
    result: IkResult = { converged: false, residual: Number.NaN, iterations: 0 },
  ): IkResult {
    const tolerance = options.tolerance ?? 1e-6;
    const restarts = options.restarts ?? 0;
    const lo = this.ikLower;
    const hi = this.ikUpper;
    lo.set(options.lower ?? this.lower);
    hi.set(options.upper ?? this.upper);
    const n = this.width;
    this.target[0] = target[0] as number;
    this.target[1] = target[1] as number;
    this.target[2] = target[2] as number;
    let best = Number.POSITIVE_INFINITY;
    let iterations = 0;
    for (let attempt = 0; attempt <= restarts; attempt++) {
      const q = this.q;
      for (let j = 0; j < n; j++) {
        const l = lo[j] as number;
        const h = hi[j] as number;
        let start = seed[j] as number;
        if (attempt > 0 && this.inChain[j] === 1) {
          // Halton points over the range (±π for a joint without limits).
          const from = Number.isFinite(l) ? l : -Math.PI;
          const to = Number.isFinite(h) ? h : Math.PI;
          start = from + (to - from) * halton(attempt, PRIMES[j % PRIMES.length] as number);
        }
        if (start < l) start = l;
        else if (start > h) start = h;
        q[j] = start;
      }
      this.descend(options);
      const residual = this.num[RESIDUAL] as number;
      iterations += this.lastIterations;
      if (residual < best) {
        best = residual;
        for (let j = 0; j < n; j++) out[j] = q[j] as number;
      }
      if (best <= tolerance) break;
    }
    result.converged = best <= tolerance;
    result.residual = best;
    result.iterations = iterations;
    return result;
  }

  /**
   * One DLS attempt from `this.q`, which it leaves at the best point, its residual in
   * num[RESIDUAL]. (Doubles go through typed arrays, not through calls V8 might not inline,
   * which would box them: an allocation each.)
   */
  private descend(options: IkOptions): void {
    const lambda = options.damping ?? 0.05;
    const maxIterations = options.maxIterations ?? 200;
    const tolerance = options.tolerance ?? 1e-6;
    const maxStep = options.maxJointStep ?? 0.4;
    const lo = this.ikLower;
    const hi = this.ikUpper;
    const q = this.q;
    const candidate = this.candidate;
    const free = this.free;
    const n = this.width;
    const tx = this.target[0] as number;
    const ty = this.target[1] as number;
    const tz = this.target[2] as number;
    const e = this.err;
    let t = this.evaluate(q);
    e[0] = tx - (t[3] as number);
    e[1] = ty - (t[7] as number);
    e[2] = tz - (t[11] as number);
    let residual = Math.sqrt(e[0] * e[0] + e[1] * e[1] + e[2] * e[2]);
    this.fillJacobian(this.jac);
    const floor = lambda * 1e-6;
    const ceiling = 1e6 * Math.max(lambda, 1e-6);
    let mu = lambda;
    let iterations = 0;
    while (residual > tolerance && iterations < maxIterations && mu <= ceiling) {
      iterations++;
      // Leave out the joints pinned at a limit that the step would push further out.
      free.set(this.inChain);
      this.num[MU] = mu;
      let solved = this.dampedStep();
      for (let pass = 0; solved && pass < n; pass++) {
        let pinned = false;
        for (let j = 0; j < n; j++) {
          if (free[j] !== 1) continue;
          const d = this.step[j] as number;
          if ((d < 0 && q[j] === lo[j]) || (d > 0 && q[j] === hi[j])) {
            free[j] = 0;
            pinned = true;
          }
        }
        if (!pinned) break;
        solved = this.dampedStep();
      }
      if (!solved) {
        mu = Math.max(mu * 4, 1e-9);
        continue;
      }
      let largest = 0;
      for (let j = 0; j < n; j++) largest = Math.max(largest, Math.abs(this.step[j] as number));
      const scale = largest > maxStep ? maxStep / largest : 1;
      let moved = 0;
      for (let j = 0; j < n; j++) {
        const before = q[j] as number;
        let after = before + scale * (this.step[j] as number);
        if (after < (lo[j] as number)) after = lo[j] as number;
        else if (after > (hi[j] as number)) after = hi[j] as number;
        candidate[j] = after;
        moved = Math.max(moved, Math.abs(after - before));
      }
      // Every joint that could help is pinned at a limit.
      if (moved < 1e-15) break;
      t = this.evaluate(candidate);
      const ex = tx - (t[3] as number);
      const ey = ty - (t[7] as number);
      const ez = tz - (t[11] as number);
      const next = Math.sqrt(ex * ex + ey * ey + ez * ez);
      if (next < residual) {
        q.set(candidate);
        e[0] = ex;
        e[1] = ey;
        e[2] = ez;
        residual = next;
        this.fillJacobian(this.jac);
        mu = Math.max(mu * 0.5, floor);
      } else {
        mu = Math.max(mu * 4, 1e-9);
      }
    }
    this.lastIterations = iterations;
    this.num[RESIDUAL] = residual;
  }

  /**
   * Δq = Jᵀ(JJᵀ + μ²I)⁻¹ e, μ = num[MU], over the joints marked in `free` (zero for the
   * others), into `step`; false when the 3×3 system cannot be solved.
   */
  private dampedStep(): boolean {
    const mu = this.num[MU] as number;
    const J = this.jac;
    const free = this.free;
    const n = this.width;
    const A = this.a;
    for (let r = 0; r < 3; r++) {
      for (let c = r; c < 3; c++) {
        let s = 0;
        for (let k = 0; k < n; k++) {
          if (free[k] === 1) s += (J[r * n + k] as number) * (J[c * n + k] as number);
        }
        if (r === c) s += mu * mu;
        A[r * 3 + c] = s;
        A[c * 3 + r] = s;
      }
    }
    if (!solve3(A, this.err, this.y)) return false;
    const y = this.y;
    for (let k = 0; k < n; k++) {
      this.step[k] =
        free[k] === 1
          ? (J[k] as number) * (y[0] as number) +
            (J[n + k] as number) * (y[1] as number) +
            (J[2 * n + k] as number) * (y[2] as number)
          : 0;
    }
    return true;
  }

  private fillJacobian(out: Float64Array): void {
    const n = this.width;
    out.fill(0, 0, 3 * n);
    const px = this.tipPos[0] as number;
    const py = this.tipPos[1] as number;
    const pz = this.tipPos[2] as number;
    for (let i = 0; i < this.dof; i++) {
      const col = this.qIndex[i] as number;
      const ax = this.worldAxes[3 * i] as number;
      const ay = this.worldAxes[3 * i + 1] as number;
      const az = this.worldAxes[3 * i + 2] as number;
      if (this.kinds[i] === PRISMATIC) {
        out[col] = ax;
        out[n + col] = ay;
        out[2 * n + col] = az;
      } else {
        const dx = px - (this.origins[3 * i] as number);
        const dy = py - (this.origins[3 * i + 1] as number);
        const dz = pz - (this.origins[3 * i + 2] as number);
        out[col] = ay * dz - az * dy;
        out[n + col] = az * dx - ax * dz;
        out[2 * n + col] = ax * dy - ay * dx;
      }
    }
  }

  /**
   * Runs the chain at q: records each moving joint's world origin and axis and returns the
   * tip's 3×4 pose (a scratch buffer, valid until the next call).
   */
  private evaluate(q: Float64Array): Float64Array {
    let cur = identity(this.bufA);
    let other = this.bufB;
    let swap: Float64Array;
    for (let i = 0; i < this.dof; i++) {
      compose(cur, this.fixed[i] as Float64Array, other);
      swap = cur;
      cur = other;
      other = swap;
      const ax = this.axes[3 * i] as number;
      const ay = this.axes[3 * i + 1] as number;
      const az = this.axes[3 * i + 2] as number;
      this.origins[3 * i] = cur[3] as number;
      this.origins[3 * i + 1] = cur[7] as number;
      this.origins[3 * i + 2] = cur[11] as number;
      this.worldAxes[3 * i] =
        (cur[0] as number) * ax + (cur[1] as number) * ay + (cur[2] as number) * az;
      this.worldAxes[3 * i + 1] =
        (cur[4] as number) * ax + (cur[5] as number) * ay + (cur[6] as number) * az;
      this.worldAxes[3 * i + 2] =
        (cur[8] as number) * ax + (cur[9] as number) * ay + (cur[10] as number) * az;
      const value = q[this.qIndex[i] as number] as number;
      if (this.kinds[i] === PRISMATIC) {
        cur[3] = (cur[3] as number) + (this.worldAxes[3 * i] as number) * value;
        cur[7] = (cur[7] as number) + (this.worldAxes[3 * i + 1] as number) * value;
        cur[11] = (cur[11] as number) + (this.worldAxes[3 * i + 2] as number) * value;
      } else {
        axisAngle(ax, ay, az, value, this.motion);
        compose(cur, this.motion, other);
        swap = cur;
        cur = other;
        other = swap;
      }
    }
    compose(cur, this.tail, other);
    swap = cur;
    cur = other;
    other = swap;
    // Keep the two scratch buffers' identities stable for the next call.
    this.bufA = cur;
    this.bufB = other;
    this.tipPos[0] = cur[3] as number;
    this.tipPos[1] = cur[7] as number;
    this.tipPos[2] = cur[11] as number;
    return cur;
  }
}

/**
 * URDF's `<origin>` as a 3×4 affine (row-major, translation in column 3), or as a 4×4
 * when `out` has 16 entries: R = Rz(yaw)·Ry(pitch)·Rx(roll), then the translation.
 */
export function originTransform(xyz: Vec3, rpy: Vec3, out: Float64Array): Float64Array {
  const [roll, pitch, yaw] = rpy;
  const cr = Math.cos(roll);
  const sr = Math.sin(roll);
  const cp = Math.cos(pitch);
  const sp = Math.sin(pitch);
  const cy = Math.cos(yaw);
  const sy = Math.sin(yaw);
  out[0] = cy * cp;
  out[1] = cy * sp * sr - sy * cr;
  out[2] = cy * sp * cr + sy * sr;
  out[3] = xyz[0];
  out[4] = sy * cp;
  out[5] = sy * sp * sr + cy * cr;
  out[6] = sy * sp * cr - cy * sr;
  out[7] = xyz[1];
  out[8] = -sp;
  out[9] = cp * sr;
  out[10] = cp * cr;
  out[11] = xyz[2];
  if (out.length >= 16) {
    out[12] = 0;
    out[13] = 0;
    out[14] = 0;
    out[15] = 1;
  }
  return out;
}

function identity(out: Float64Array): Float64Array {
  out.fill(0);
  out[0] = 1;
  out[5] = 1;
  out[10] = 1;
  return out;
}

/** out = a · b for 3×4 affines; `out` must be neither input. */
function compose(a: Float64Array, b: Float64Array, out: Float64Array): void {
  for (let r = 0; r < 3; r++) {
    const a0 = a[r * 4] as number;
    const a1 = a[r * 4 + 1] as number;
    const a2 = a[r * 4 + 2] as number;
    for (let c = 0; c < 4; c++) {
      out[r * 4 + c] =
        a0 * (b[c] as number) + a1 * (b[4 + c] as number) + a2 * (b[8 + c] as number);
    }
    out[r * 4 + 3] = (out[r * 4 + 3] as number) + (a[r * 4 + 3] as number);
  }
}

/** Rotation by `angle` about the unit axis (x, y, z) (Rodrigues), as a 3×4 affine. */
function axisAngle(x: number, y: number, z: number, angle: number, out: Float64Array): void {
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  const t = 1 - c;
  out[0] = t * x * x + c;
  out[1] = t * x * y - s * z;
  out[2] = t * x * z + s * y;
  out[3] = 0;
  out[4] = t * x * y + s * z;
  out[5] = t * y * y + c;
  out[6] = t * y * z - s * x;
  out[7] = 0;
  out[8] = t * x * z - s * y;
  out[9] = t * y * z + s * x;
  out[10] = t * z * z + c;
  out[11] = 0;
}

/** Solves the 3×3 system A·x = b (Cramer's rule); false when A is singular. */
function solve3(A: Float64Array, b: Float64Array, x: Float64Array): boolean {
  const a00 = A[0] as number;
  const a01 = A[1] as number;
  const a02 = A[2] as number;
  const a10 = A[3] as number;
  const a11 = A[4] as number;
  const a12 = A[5] as number;
  const a20 = A[6] as number;
  const a21 = A[7] as number;
  const a22 = A[8] as number;
  const c00 = a11 * a22 - a12 * a21;
  const c01 = a12 * a20 - a10 * a22;
  const c02 = a10 * a21 - a11 * a20;
  const det = a00 * c00 + a01 * c01 + a02 * c02;
  if (!(Math.abs(det) > 1e-300)) return false;
  const b0 = b[0] as number;
  const b1 = b[1] as number;
  const b2 = b[2] as number;
  const inv = 1 / det;
  x[0] = (c00 * b0 + (a02 * a21 - a01 * a22) * b1 + (a01 * a12 - a02 * a11) * b2) * inv;
  x[1] = (c01 * b0 + (a00 * a22 - a02 * a20) * b1 + (a02 * a10 - a00 * a12) * b2) * inv;
  x[2] = (c02 * b0 + (a01 * a20 - a00 * a21) * b1 + (a00 * a11 - a01 * a10) * b2) * inv;
  return true;
}

const PRIMES = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37];

/** The index-th element of the van der Corput sequence in `base`: a Halton coordinate in [0, 1). */
function halton(index: number, base: number): number {
  let f = 1;
  let r = 0;
  for (let i = index; i > 0; i = Math.floor(i / base)) {
    f /= base;
    r += f * (i % base);
  }
  return r;
}

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type IkResult,
  originTransform,
  SerialChainKinematics,
} from '../../src/cerebellum/kinematics.js';
import { loadUrdf, parseUrdf, serialChain } from '../../src/contract/index.js';

const bundled = new URL('../../sim/planar_arm.urdf', import.meta.url).pathname;
const arm = new SerialChainKinematics(serialChain(loadUrdf(bundled), 'base_link', 'tool0'));

const L1 = 0.3;
const L2 = 0.25;
const L3 = 0.15;
const HEIGHT = 0.1;

/** The planar arm's tip, by hand. */
function planarTip(q1: number, q2: number, q3: number): [number, number, number] {
  return [
    L1 * Math.cos(q1) + L2 * Math.cos(q1 + q2) + L3 * Math.cos(q1 + q2 + q3),
    L1 * Math.sin(q1) + L2 * Math.sin(q1 + q2) + L3 * Math.sin(q1 + q2 + q3),
    HEIGHT,
  ];
}

function tip(k: SerialChainKinematics, q: ArrayLike<number>): number[] {
  return Array.from(k.endEffectorPosition(Float64Array.from(q), new Float64Array(3)));
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    expect(
      Math.abs((actual[i] as number) - (expected[i] as number)),
      `entry ${i}`,
    ).toBeLessThanOrEqual(tol);
  }
}

/** Row-major 3×3 product. */
function mul3(a: number[], b: number[]): number[] {
  const out: number[] = [];
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) {
      let s = 0;
      for (let k = 0; k < 3; k++) s += (a[r * 3 + k] as number) * (b[k * 3 + c] as number);
      out.push(s);
    }
  }
  return out;
}
const rx = (t: number) => [1, 0, 0, 0, Math.cos(t), -Math.sin(t), 0, Math.sin(t), Math.cos(t)];
const ry = (t: number) => [Math.cos(t), 0, Math.sin(t), 0, 1, 0, -Math.sin(t), 0, Math.cos(t)];
const rz = (t: number) => [Math.cos(t), -Math.sin(t), 0, Math.sin(t), Math.cos(t), 0, 0, 0, 1];

/** A spatial 5-joint chain: rpy offsets, tilted axes, a prismatic joint, fixed joints between. */
const spatialUrdf = `<robot name="spatial">
  <link name="base"/><link name="l1"/><link name="l2"/><link name="l2b"/><link name="l3"/>
  <link name="l4"/><link name="l5"/><link name="tool"/>
  <joint name="j1" type="revolute"><parent link="base"/><child link="l1"/>
    <origin xyz="0 0 0.2" rpy="0 0 0.3"/><axis xyz="0 0 1"/>
    <limit lower="-3" upper="3" velocity="1" effort="1"/></joint>
  <joint name="j2" type="revolute"><parent link="l1"/><child link="l2"/>
    <origin xyz="0.05 0 0.1" rpy="1.5707963267948966 0 0"/><axis xyz="0 0 1"/>
    <limit lower="-3" upper="3" velocity="1" effort="1"/></joint>
  <joint name="offset" type="fixed"><parent link="l2"/><child link="l2b"/>
    <origin xyz="0.3 0.02 -0.01" rpy="0.1 -0.2 0.3"/></joint>
  <joint name="j3" type="continuous"><parent link="l2b"/><child link="l3"/>
    <origin xyz="0 0 0" rpy="0 0.4 0"/><axis xyz="1 1 0"/></joint>
  <joint name="slide" type="prismatic"><parent link="l3"/><child link="l4"/>
    <origin xyz="0.2 0 0" rpy="0 0 0"/><axis xyz="1 0 0.5"/>
    <limit lower="0" upper="0.2" velocity="1" effort="1"/></joint>
  <joint name="j5" type="revolute"><parent link="l4"/><child link="l5"/>
    <origin xyz="0.1 0 0" rpy="-0.5 0.2 0.1"/><axis xyz="0 1 0"/>
    <limit lower="-2" upper="2" velocity="1" effort="1"/></joint>
  <joint name="flange" type="fixed"><parent link="l5"/><child link="tool"/>
    <origin xyz="0.08 0.01 0.03" rpy="0 0 0"/></joint>
</robot>`;
const spatialChain = serialChain(parseUrdf(spatialUrdf, 'spatial.urdf'), 'base', 'tool');
const spatial = new SerialChainKinematics(spatialChain);

describe('forward kinematics of the planar arm', () => {
  it('matches hand-computed positions at known angles', () => {
    const h = Math.PI / 2;
    const cases: [number[], number[]][] = [
      [
        [0, 0, 0],
        [0.7, 0, 0.1],
      ],
      [
        [h, 0, 0],
        [0, 0.7, 0.1],
      ],
      [
        [0, h, 0],
        [0.3, 0.4, 0.1],
      ],
      [
        [0, 0, h],
        [0.55, 0.15, 0.1],
      ],
      [
        [0, h, h],
        [0.15, 0.25, 0.1],
      ],
      [
        [-h, -h, 0],
        [-0.4, -0.3, 0.1],
      ],
      [[0.3, -0.5, 1.1], planarTip(0.3, -0.5, 1.1)],
      [[2.6, -2.6, 2.6], planarTip(2.6, -2.6, 2.6)],
    ];
    for (const [q, expected] of cases) expectClose(tip(arm, q), expected, 1e-12);
  });

  it('agrees with the planar formula for arbitrary angles', () => {
    fc.assert(
      fc.property(fc.tuple(angle(), angle(), angle()), ([a, b, c]) => {
        expectClose(tip(arm, [a, b, c]), planarTip(a, b, c), 1e-12);
      }),
    );
  });

  it('gives the tool frame as a 4×4 transform: a rotation about z by q1 + q2 + q3', () => {
    const q = Float64Array.of(0.4, -1.1, 0.3);
    const t = arm.tipTransform(q, new Float64Array(16));
    const s = -0.4;
    const expected = [
      Math.cos(s),
      -Math.sin(s),
      0,
      ...planarTip(0.4, -1.1, 0.3).slice(0, 1),
      Math.sin(s),
      Math.cos(s),
      0,
      planarTip(0.4, -1.1, 0.3)[1] as number,
      0,
      0,
      1,
      HEIGHT,
      0,
      0,
      0,
      1,
    ];
    expectClose(t, expected, 1e-12);
  });

  it('takes q in any joint order that contains the chain', () => {
    const chain = serialChain(loadUrdf(bundled), 'base_link', 'tool0');
    const permuted = new SerialChainKinematics(chain, {
      jointOrder: ['gripper', 'wrist_joint', 'shoulder_joint', 'elbow_joint'],
    });
    expectClose(tip(permuted, [9, 1.1, 0.3, -0.5]), planarTip(0.3, -0.5, 1.1), 1e-12);
    expect(Array.from(permuted.lower)).toEqual([-Infinity, -2.6, -2.6, -2.6]);
    const jac = permuted.positionJacobian(Float64Array.of(9, 1.1, 0.3, -0.5), new Float64Array(12));
    expectClose([jac[0], jac[4], jac[8]] as number[], [0, 0, 0], 0);
    expect(() => new SerialChainKinematics(chain, { jointOrder: ['shoulder_joint'] })).toThrow(
      /lacks the chain's joint 'elbow_joint'/,
    );
  });
});

describe('URDF origins', () => {
  it('are fixed-axis roll-pitch-yaw: R = Rz(yaw)·Ry(pitch)·Rx(roll)', () => {
    fc.assert(
      fc.property(angle(), angle(), angle(), (r, p, y) => {
        const t = originTransform([1, 2, 3], [r, p, y], new Float64Array(16));
        const expected = mul3(rz(y), mul3(ry(p), rx(r)));
        const rotation = [t[0], t[1], t[2], t[4], t[5], t[6], t[8], t[9], t[10]] as number[];
        expectClose(rotation, expected, 1e-12);
        expect([t[3], t[7], t[11], t[12], t[13], t[14], t[15]]).toEqual([1, 2, 3, 0, 0, 0, 1]);
      }),
    );
  });

  it('apply roll before yaw: roll π/2 then yaw π/2 takes y to z (not to −x)', () => {
    const h = Math.PI / 2;
    const urdf = `<robot name="r"><link name="a"/><link name="b"/>
      <joint name="f" type="fixed"><parent link="a"/><child link="b"/><origin rpy="${h} 0 ${h}"/></joint>
      <link name="c"/><joint name="j" type="prismatic"><parent link="b"/><child link="c"/>
      <axis xyz="0 1 0"/><limit lower="0" upper="1" velocity="1" effort="1"/></joint></robot>`;
    const k = new SerialChainKinematics(serialChain(parseUrdf(urdf, 'r.urdf')));
    expectClose(tip(k, [1]), [0, 0, 1], 1e-12);
  });
});

describe('the position Jacobian', () => {
  function finiteDifference(k: SerialChainKinematics, q: Float64Array): number[] {
    const n = q.length;
    const out = new Array<number>(3 * n).fill(0);
    const h = 1e-6;
    for (let j = 0; j < n; j++) {
      const plus = Float64Array.from(q);
      const minus = Float64Array.from(q);
      plus[j] = (plus[j] as number) + h;
      minus[j] = (minus[j] as number) - h;
      const a = tip(k, plus);
      const b = tip(k, minus);
      for (let r = 0; r < 3; r++) out[r * n + j] = ((a[r] as number) - (b[r] as number)) / (2 * h);
    }
    return out;
  }

  it('matches central finite differences on the planar arm', () => {
    fc.assert(
      fc.property(fc.tuple(angle(), angle(), angle()), (q) => {
        const qa = Float64Array.from(q);
        const jac = arm.positionJacobian(qa, new Float64Array(9));
        expectClose(jac, finiteDifference(arm, qa), 1e-8);
        // Planar: no z motion.
        expectClose([jac[6], jac[7], jac[8]] as number[], [0, 0, 0], 0);
      }),
    );
  });

  it('matches central finite differences on a spatial chain with a prismatic joint', () => {
    expect(spatial.dof).toBe(5);
    expect(spatial.jointOrder).toEqual(['j1', 'j2', 'j3', 'slide', 'j5']);
    fc.assert(
      fc.property(
        fc.tuple(angle(), angle(), angle(), fc.double({ min: 0, max: 0.2, noNaN: true }), angle()),
        (q) => {
          const qa = Float64Array.from(q);
          const jac = spatial.positionJacobian(qa, new Float64Array(15));
          expectClose(jac, finiteDifference(spatial, qa), 1e-8);
        },
      ),
    );
  });
});

describe('damped-least-squares inverse kinematics', () => {
  const limits = fc.double({ min: -2.6, max: 2.6, noNaN: true });

  it('reaches reachable targets within 1e-4 m from a nearby seed, inside the limits', () => {
    fc.assert(
      fc.property(
        fc.tuple(limits, limits, limits),
        fc.array(fc.double({ min: -0.3, max: 0.3, noNaN: true }), { minLength: 3, maxLength: 3 }),
        (goal, noise) => {
          const target = tip(arm, goal);
          const seed = Float64Array.from(goal, (v, i) => v + (noise[i] as number));
          const out = new Float64Array(3);
          const result = arm.solvePosition(target, seed, out);
          expect(result.residual).toBeLessThanOrEqual(1e-4);
          expect(result.converged).toBe(true);
          expectInside(out, -2.6, 2.6);
          expectClose(tip(arm, out), target, 1e-4);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reaches reachable targets from any seed with restarts, inside the limits', () => {
    fc.assert(
      fc.property(
        fc.tuple(limits, limits, limits),
        fc.tuple(limits, limits, limits),
        (goal, seed) => {
          const target = tip(arm, goal);
          const out = new Float64Array(3);
          const result = arm.solvePosition(target, Float64Array.from(seed), out, { restarts: 8 });
          expect(result.residual).toBeLessThanOrEqual(1e-4);
          expect(result.converged).toBe(true);
          expect(result.iterations).toBeLessThanOrEqual(9 * 200);
          expectInside(out, -2.6, 2.6);
          expectClose(tip(arm, out), target, 1e-4);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('can stop in a local minimum against a limit without restarts, and reports it', () => {
    // Found by search: from this seed the shoulder runs into its limit on the wrong side.
    const goal = [2.133668318546223, 1.3634298063644348, -1.2352444329463153];
    const seed = Float64Array.of(-2.3531845287201856, 1.2276257998438673, -0.8931820241236976);
    const out = new Float64Array(3);
    const stuck = arm.solvePosition(tip(arm, goal), seed, out);
    expect(stuck.converged).toBe(false);
    expect(stuck.residual).toBeGreaterThan(1e-3);
    expectClose(
      [Math.hypot(...tip(arm, out).map((v, i) => v - (tip(arm, goal)[i] as number)))],
      [stuck.residual],
      1e-12,
    );
    expectInside(out, -2.6, 2.6);
    expect(arm.solvePosition(tip(arm, goal), seed, out, { restarts: 8 }).converged).toBe(true);
  });

  it('reaches targets on a spatial chain from a nearby seed (the ee_delta case)', () => {
    fc.assert(
      fc.property(
        fc.tuple(
          limitsOf(3),
          limitsOf(3),
          angle(),
          fc.double({ min: 0.02, max: 0.18, noNaN: true }),
          limitsOf(2),
        ),
        fc.array(fc.double({ min: -0.15, max: 0.15, noNaN: true }), { minLength: 5, maxLength: 5 }),
        (goal, noise) => {
          const target = tip(spatial, goal);
          const seed = Float64Array.from(goal, (v, i) => v + (noise[i] as number));
          const out = new Float64Array(5);
          const result = spatial.solvePosition(target, seed, out);
          expect(result.residual).toBeLessThanOrEqual(1e-4);
          expect(out[3]).toBeGreaterThanOrEqual(0);
          expect(out[3]).toBeLessThanOrEqual(0.2);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('respects joint limits when the nearest solution lies beyond them', () => {
    // The target needs the elbow at +π/2 but it may only reach 0.5.
    const target = planarTip(0, Math.PI / 2, 0);
    const out = new Float64Array(3);
    const lower = Float64Array.of(-0.1, -0.5, -0.1);
    const upper = Float64Array.of(0.1, 0.5, 0.1);
    const result = arm.solvePosition(target, new Float64Array(3), out, { lower, upper });
    for (let j = 0; j < 3; j++) {
      expect(out[j]).toBeGreaterThanOrEqual(lower[j] as number);
      expect(out[j]).toBeLessThanOrEqual(upper[j] as number);
    }
    expect(result.converged).toBe(false);
    expect(result.residual).toBeGreaterThan(0.05);
    expectClose(
      [Math.hypot(...tip(arm, out).map((v, i) => v - (target[i] as number)))],
      [result.residual],
      1e-12,
    );
  });

  it('returns the closest approach and its residual for unreachable targets', () => {
    const out = new Float64Array(3);
    // 1.0 m away in the plane: the arm reaches 0.70 m, so the best is 0.30 m short, stretched.
    const far = arm.solvePosition([0, 1, HEIGHT], Float64Array.of(1.2, 0.3, -0.2), out);
    expect(far.converged).toBe(false);
    expect(far.residual).toBeGreaterThanOrEqual(0.3);
    expect(far.residual).toBeLessThan(0.3 + 1e-4);
    expectClose(tip(arm, out), [0, 0.7, HEIGHT], 2e-3);
    // Out of the arm's plane: the best is the point below the target.
    const above = arm.solvePosition([0.4, 0.2, HEIGHT + 0.25], new Float64Array(3), out);
    expect(above.converged).toBe(false);
    expect(above.residual).toBeCloseTo(0.25, 8);
    expectClose(tip(arm, out), [0.4, 0.2, HEIGHT], 1e-6);
    expect(above.iterations).toBeLessThanOrEqual(200);
  });

  it('bounds the iterations and reuses a caller-owned result', () => {
    const result: IkResult = { converged: false, residual: 0, iterations: 0 };
    const out = new Float64Array(3);
    const same = arm.solvePosition(
      [0.2, 0.5, HEIGHT],
      new Float64Array(3),
      out,
      { maxIterations: 3 },
      result,
    );
    expect(same).toBe(result);
    expect(result.iterations).toBe(3);
    // A larger damping converges too, just more slowly.
    const damped = arm.solvePosition([0.2, 0.5, HEIGHT], new Float64Array(3), out, {
      damping: 0.3,
      maxIterations: 2000,
    });
    expect(damped.residual).toBeLessThanOrEqual(1e-4);
  });
});

function expectInside(q: Float64Array, lo: number, hi: number): void {
  for (const v of q) {
    expect(v).toBeGreaterThanOrEqual(lo);
    expect(v).toBeLessThanOrEqual(hi);
  }
}

function angle() {
  return fc.double({ min: -Math.PI, max: Math.PI, noNaN: true });
}

function limitsOf(max: number) {
  return fc.double({ min: -max, max, noNaN: true });
}

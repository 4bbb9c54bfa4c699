import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError, loadUrdf, parseUrdf } from '../../src/contract/index.js';
import { armFromUrdf, loadArm, loadScene, solveIk, tipPose } from '../../src/sim/index.js';

const scene = loadScene();
const arm = loadArm(scene);

describe('the arm from the URDF', () => {
  it('has the bundled arm’s links, limits, masses and hand box', () => {
    expect(arm.jointNames).toEqual(['shoulder_joint', 'elbow_joint', 'wrist_joint']);
    expect(arm.links.map((l) => l.length)).toEqual([0.3, 0.25, 0.15]);
    expect(arm.links.map((l) => l.mass)).toEqual([1, 0.8, 0.3]);
    expect(Array.from(arm.lower)).toEqual([-2.6, -2.6, -2.6]);
    expect(arm.links[2]?.box).toEqual({ centre: [0.075, 0], length: 0.15, width: 0.03 });
    expect(arm.links[0]?.effort).toBe(10);
    expect(arm.pedestalRadius).toBe(0.06);
    const stretched = tipPose(arm, [0, 0, 0]);
    expect(stretched.x).toBeCloseTo(0.7, 12);
    expect(stretched.y).toBe(0);
  });

  it('refuses a chain the planar simulator cannot model, naming the joint', () => {
    const urdf = loadUrdf(new URL('../../sim/planar_arm.urdf', import.meta.url).pathname);
    const tilted = structuredClone(urdf);
    const elbow = tilted.joints.find((j) => j.name === 'elbow_joint');
    if (!elbow) throw new Error('no elbow');
    elbow.axis = [0, 1, 0];
    expect(() => armFromUrdf(tilted, 'base_link', 'tool0', [0, 0, 0], 'scene')).toThrow(
      expect.objectContaining({ field: 'joint[elbow_joint].axis' }),
    );
    const short = parseUrdf(
      '<robot name="r"><link name="a"/><link name="b"><inertial><mass value="1"/></inertial><collision><geometry><box size="1 1 1"/></geometry></collision></link><joint name="j" type="revolute"><parent link="a"/><child link="b"/><axis xyz="0 0 1"/><limit lower="-1" upper="1" velocity="1" effort="1"/></joint></robot>',
      'short.urdf',
    );
    const err = (() => {
      try {
        armFromUrdf(short, 'a', 'b', [0], 'scene');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).reason).toMatch(/must have 3 revolute joints/);
  });
});

describe('analytic IK', () => {
  it('puts the tip where asked, inside the limits, on the branch nearest the seed', () => {
    const q = new Float64Array(3);
    fc.assert(
      fc.property(
        fc.tuple(
          fc.double({ min: -2.5, max: 2.5, noNaN: true }),
          fc.double({ min: 0.1, max: 2.5, noNaN: true }),
          fc.double({ min: -2.5, max: 2.5, noNaN: true }),
        ),
        (truth) => {
          const pose = tipPose(arm, truth);
          expect(solveIk(arm, pose, truth, arm.lower, arm.upper, q)).toBe(true);
          // Same elbow branch as the seed: the same joints back.
          for (let i = 0; i < 3; i++) expect(q[i]).toBeCloseTo(truth[i] as number, 6);
          const back = tipPose(arm, q);
          expect(back.x).toBeCloseTo(pose.x, 9);
          expect(back.y).toBeCloseTo(pose.y, 9);
        },
      ),
    );
  });

  it('reports poses out of reach or only reachable past a limit', () => {
    const q = new Float64Array(3).fill(7);
    expect(solveIk(arm, { x: 0.8, y: 0, angle: 0 }, [0, 0, 0], arm.lower, arm.upper, q)).toBe(
      false,
    );
    // Heading back at the base from straight ahead needs the wrist beyond ±2.6 rad.
    expect(solveIk(arm, { x: 0.4, y: 0, angle: Math.PI }, [0, 0, 0], arm.lower, arm.upper, q)).toBe(
      false,
    );
    expect(Array.from(q)).toEqual([7, 7, 7]);
  });
});

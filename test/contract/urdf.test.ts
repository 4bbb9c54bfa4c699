import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError, loadUrdf, parseUrdf, serialChain } from '../../src/contract/index.js';

const bundled = new URL('../../sim/planar_arm.urdf', import.meta.url).pathname;

const dir = mkdtempSync(join(tmpdir(), 'pons-urdf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const link = (name: string) => `<link name="${name}"/>`;
const joint = (
  name: string,
  parent: string,
  child: string,
  extra = '<limit lower="-1" upper="1" velocity="1" effort="1"/>',
  type = 'revolute',
) =>
  `<joint name="${name}" type="${type}"><parent link="${parent}"/><child link="${child}"/>${extra}</joint>`;
const robot = (...parts: string[]) =>
  `<?xml version="1.0"?>\n<robot name="t">${parts.join('\n')}</robot>`;

/** Parses and expects an InputError; returns it for field/reason checks. */
function failure(xml: string): InputError {
  try {
    parseUrdf(xml, 'test.urdf');
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).source).toBe('test.urdf');
    return err as InputError;
  }
  throw new Error('expected an InputError');
}

function chainFailure(xml: string, base?: string, tip?: string): InputError {
  const parsed = parseUrdf(xml, 'test.urdf');
  try {
    serialChain(parsed, base, tip);
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return err as InputError;
  }
  throw new Error('expected an InputError');
}

describe('the bundled planar arm', () => {
  const arm = loadUrdf(bundled);

  it('is one tree rooted at world with the three revolute joints of the action spec', () => {
    expect(arm.name).toBe('planar_arm');
    expect(arm.root).toBe('world');
    expect(arm.links).toEqual(['world', 'base_link', 'upper_arm', 'forearm', 'hand', 'tool0']);
    const revolute = arm.joints.filter((j) => j.type === 'revolute');
    expect(revolute.map((j) => j.name)).toEqual(['shoulder_joint', 'elbow_joint', 'wrist_joint']);
    for (const j of revolute) {
      expect(j.axis).toEqual([0, 0, 1]);
      expect(j.limit).toEqual({ lower: -2.6, upper: 2.6, velocity: 2, effort: 10 });
    }
  });

  it('gives the chain base_link → tool0 with the link lengths 0.30, 0.25, 0.15 m', () => {
    const chain = serialChain(arm, 'base_link', 'tool0');
    expect(chain.base).toBe('base_link');
    expect(chain.tip).toBe('tool0');
    expect(chain.joints.map((j) => j.name)).toEqual([
      'shoulder_joint',
      'elbow_joint',
      'wrist_joint',
      'tool_joint',
    ]);
    expect(chain.actuated).toEqual(['shoulder_joint', 'elbow_joint', 'wrist_joint']);
    expect(chain.joints.map((j) => j.origin.xyz)).toEqual([
      [0, 0, 0.1],
      [0.3, 0, 0],
      [0.25, 0, 0],
      [0.15, 0, 0],
    ]);
    const tool = chain.joints[3];
    expect(tool?.type).toBe('fixed');
    expect(tool?.limit).toBeUndefined();
  });

  it('finds the same chain without a tip (the tree does not branch)', () => {
    const chain = serialChain(arm);
    expect(chain.base).toBe('world');
    expect(chain.tip).toBe('tool0');
    expect(chain.actuated).toEqual(['shoulder_joint', 'elbow_joint', 'wrist_joint']);
  });

  it('gives each link of the arm its mass, centre of mass and collision box', () => {
    expect(arm.inertials.upper_arm).toEqual({
      origin: { xyz: [0.15, 0, 0], rpy: [0, 0, 0] },
      mass: 1,
      inertia: { ixx: 0.00026667, ixy: 0, ixz: 0, iyy: 0.00763333, iyz: 0, izz: 0.00763333 },
    });
    expect(arm.inertials.hand?.mass).toBe(0.3);
    expect(arm.inertials.world).toBeUndefined();
    expect(arm.collisions.forearm).toEqual([
      {
        origin: { xyz: [0.125, 0, 0], rpy: [0, 0, 0] },
        geometry: { type: 'box', size: [0.25, 0.035, 0.035] },
      },
    ]);
    expect(arm.collisions.base_link?.[0]?.geometry).toEqual({
      type: 'cylinder',
      radius: 0.06,
      length: 0.1,
    });
    expect(arm.collisions.tool0).toEqual([]);
  });

  it('is plain data that survives structured cloning (into the control thread)', () => {
    const chain = serialChain(arm, 'base_link', 'tool0');
    expect(structuredClone(chain)).toEqual(chain);
  });
});

describe('parseUrdf', () => {
  it('reads origins, normalizes axes and defaults them', () => {
    const parsed = parseUrdf(
      robot(
        link('a'),
        link('b'),
        link('c'),
        joint(
          'j1',
          'a',
          'b',
          '<origin xyz=" 1  2 3 " rpy="0.1 0.2 0.3"/><axis xyz="0 3 4"/><limit lower="-1" upper="2" velocity="3" effort="4"/>',
        ),
        joint('j2', 'b', 'c', '<limit upper="0.5" velocity="1" effort="0"/>', 'prismatic'),
      ),
      'test.urdf',
    );
    const [j1, j2] = parsed.joints;
    expect(j1?.origin).toEqual({ xyz: [1, 2, 3], rpy: [0.1, 0.2, 0.3] });
    expect(j1?.axis[0]).toBe(0);
    expect(j1?.axis[1]).toBeCloseTo(0.6, 15);
    expect(j1?.axis[2]).toBeCloseTo(0.8, 15);
    expect(j1?.limit).toEqual({ lower: -1, upper: 2, velocity: 3, effort: 4 });
    expect(j2?.origin).toEqual({ xyz: [0, 0, 0], rpy: [0, 0, 0] });
    expect(j2?.axis).toEqual([1, 0, 0]);
    // lower defaults to 0 (URDF specification).
    expect(j2?.limit?.lower).toBe(0);
  });

  it('gives continuous joints no position limits', () => {
    const parsed = parseUrdf(
      robot(
        link('a'),
        link('b'),
        link('c'),
        joint('spin', 'a', 'b', '<limit velocity="4" effort="1"/>', 'continuous'),
        joint('free', 'b', 'c', '', 'continuous'),
      ),
      'test.urdf',
    );
    expect(parsed.joints[0]?.limit).toEqual({
      lower: Number.NEGATIVE_INFINITY,
      upper: Number.POSITIVE_INFINITY,
      velocity: 4,
      effort: 1,
    });
    expect(parsed.joints[1]?.limit?.velocity).toBe(Number.POSITIVE_INFINITY);
  });

  it('ignores visuals, gazebo and transmission blocks', () => {
    const parsed = parseUrdf(
      robot(
        '<link name="a"><visual><geometry><box size="1 1 1"/></geometry></visual></link>',
        '<link name="b"><inertial><mass value="1"/></inertial></link>',
        joint('j', 'a', 'b'),
        '<transmission name="t"><joint name="j"><hardwareInterface>x</hardwareInterface></joint></transmission>',
        '<gazebo reference="a"><material>Gazebo/Red</material></gazebo>',
      ),
      'test.urdf',
    );
    expect(parsed.links).toEqual(['a', 'b']);
    expect(parsed.joints.map((j) => j.name)).toEqual(['j']);
    expect(parsed.collisions).toEqual({ a: [], b: [] });
    // No <inertia> and no <origin>: zeros, as for a point mass at the link origin.
    expect(parsed.inertials.b?.inertia.izz).toBe(0);
    expect(parsed.inertials.b?.origin).toEqual({ xyz: [0, 0, 0], rpy: [0, 0, 0] });
  });

  it('reads every collision element and geometry kind of a link', () => {
    const parsed = parseUrdf(
      robot(
        `<link name="a">
          <collision><geometry><sphere radius="0.1"/></geometry></collision>
          <collision><origin xyz="0 0 1"/><geometry><mesh filename="package://p/m.stl" scale="2 2 2"/></geometry></collision>
          <collision><geometry><mesh filename="m.dae"/></geometry></collision>
        </link>`,
      ),
      'test.urdf',
    );
    expect(parsed.collisions.a?.map((c) => c.geometry)).toEqual([
      { type: 'sphere', radius: 0.1 },
      { type: 'mesh', filename: 'package://p/m.stl', scale: [2, 2, 2] },
      { type: 'mesh', filename: 'm.dae', scale: [1, 1, 1] },
    ]);
    expect(parsed.collisions.a?.[1]?.origin.xyz).toEqual([0, 0, 1]);
  });

  it('rejects bad inertials and collision geometry, naming the link and element', () => {
    const bad = (body: string) => failure(robot(`<link name="a">${body}</link>`));
    expect(bad('<inertial/>').field).toBe('link[a].inertial.mass');
    expect(bad('<inertial><mass value="-1"/></inertial>').field).toBe(
      'link[a].inertial.mass.value',
    );
    expect(bad('<inertial><mass value="1"/><inertia izz="x"/></inertial>').field).toBe(
      'link[a].inertial.inertia.izz',
    );
    expect(bad('<collision/>').field).toBe('link[a].collision[0].geometry');
    const two = bad(
      '<collision><geometry><box size="1 1 1"/><sphere radius="1"/></geometry></collision>',
    );
    expect(two.reason).toMatch(/exactly one of box, cylinder, sphere, mesh, found 2/);
    expect(bad('<collision><geometry><box size="1 0 1"/></geometry></collision>').field).toBe(
      'link[a].collision[0].geometry.box.size',
    );
    expect(
      bad(
        '<collision><geometry><sphere radius="1"/></geometry></collision><collision><geometry><cylinder radius="1"/></geometry></collision>',
      ).field,
    ).toBe('link[a].collision[1].geometry.cylinder.length');
    expect(bad('<collision><geometry><sphere radius="0"/></geometry></collision>').reason).toBe(
      'must be positive',
    );
  });

  it('rejects malformed XML', () => {
    const err = failure('<robot name="x"><link name="a"></robot>');
    expect(err.field).toBe('');
    expect(err.reason).toMatch(/not well-formed XML \(line 1\)/);
    expect(failure('not xml at all').reason).toMatch(/not well-formed XML/);
  });

  it('rejects a document that is not a robot', () => {
    expect(failure('<model name="x"/>').field).toBe('robot');
  });

  it('rejects a joint naming an undeclared link', () => {
    const err = failure(robot(link('a'), joint('j', 'a', 'ghost')));
    expect(err.field).toBe('joint[j].child');
    expect(err.reason).toMatch(/'ghost', which is not declared/);
    expect(failure(robot(link('a'), joint('j', 'nowhere', 'a'))).field).toBe('joint[j].parent');
  });

  it('rejects lower ≥ upper, naming the field', () => {
    const err = failure(
      robot(
        link('a'),
        link('b'),
        joint('elbow_joint', 'a', 'b', '<limit lower="1" upper="1" velocity="1" effort="1"/>'),
      ),
    );
    expect(err.field).toBe('joint[elbow_joint].limit.upper');
    expect(err.reason).toMatch(/must be above lower/);
    expect(err.message).toBe(
      'test.urdf: joint[elbow_joint].limit.upper: must be above lower (1), got 1',
    );
  });

  it('rejects bad joints and numbers', () => {
    const cases: [string, string][] = [
      [joint('j', 'a', 'b', ''), 'joint[j].limit'],
      [joint('j', 'a', 'b', '<limit lower="-1" upper="1" effort="1"/>'), 'joint[j].limit.velocity'],
      [
        joint('j', 'a', 'b', '<limit lower="-1" upper="1" velocity="0" effort="1"/>'),
        'joint[j].limit.velocity',
      ],
      [
        joint('j', 'a', 'b', '<limit lower="x" upper="1" velocity="1" effort="1"/>'),
        'joint[j].limit.lower',
      ],
      [
        joint('j', 'a', 'b', '<origin xyz="1 2"/><limit upper="1" velocity="1" effort="1"/>'),
        'joint[j].origin.xyz',
      ],
      [
        joint('j', 'a', 'b', '<origin rpy="0 0 nan"/><limit upper="1" velocity="1" effort="1"/>'),
        'joint[j].origin.rpy',
      ],
      [
        joint('j', 'a', 'b', '<axis xyz="0 0 0"/><limit upper="1" velocity="1" effort="1"/>'),
        'joint[j].axis.xyz',
      ],
      [joint('j', 'a', 'b', '', 'hinge'), 'joint[j].type'],
      ['<joint name="j" type="fixed"><child link="b"/></joint>', 'joint[j].parent.link'],
      [
        '<joint name="j" type="fixed"><parent link="a"/><child link="b"/><origin/><origin/></joint>',
        'joint[j].origin',
      ],
    ];
    for (const [part, field] of cases) {
      expect(failure(robot(link('a'), link('b'), part)).field, part).toBe(field);
    }
  });

  it('rejects duplicate names, missing names, two parents, several roots and cycles', () => {
    expect(failure(robot(link('a'), link('a'))).field).toBe('link[a]');
    expect(failure(robot('<link/>')).field).toBe('link[0].name');
    expect(failure(robot()).field).toBe('robot.link');
    expect(
      failure(robot(link('a'), link('b'), joint('j', 'a', 'b'), joint('j', 'a', 'b'))).field,
    ).toBe('joint[j]');
    const twoParents = failure(
      robot(link('a'), link('b'), link('c'), joint('j1', 'a', 'c'), joint('j2', 'b', 'c')),
    );
    expect(twoParents.field).toBe('joint[j2].child');
    expect(twoParents.reason).toMatch(/already the child of joint 'j1'/);
    const twoRoots = failure(robot(link('a'), link('b')));
    expect(twoRoots.field).toBe('robot');
    expect(twoRoots.reason).toMatch(/root links found: a, b/);
    const cycle = failure(
      robot(link('root'), link('a'), link('b'), joint('j1', 'a', 'b'), joint('j2', 'b', 'a')),
    );
    expect(cycle.reason).toMatch(/not connected to the root link 'root'/);
  });

  it('loadUrdf names the file that cannot be read', () => {
    const path = join(dir, 'missing.urdf');
    expect(() => loadUrdf(path)).toThrow(InputError);
    expect(() => loadUrdf(path)).toThrow(/missing\.urdf: \(root\): cannot be read \(ENOENT\)/);
    const bad = join(dir, 'bad.urdf');
    writeFileSync(bad, '<robot><link name="a"></robot>');
    expect(() => loadUrdf(bad)).toThrow(/bad\.urdf: \(root\): is not well-formed XML/);
  });
});

describe('serialChain', () => {
  // A Y: base → torso, then two arms.
  const tree = robot(
    link('base'),
    link('torso'),
    link('left'),
    link('left_tip'),
    link('right'),
    joint('torso_joint', 'base', 'torso'),
    joint('left_joint', 'torso', 'left'),
    joint('left_tip_joint', 'left', 'left_tip', '', 'fixed'),
    joint('right_joint', 'torso', 'right', '', 'continuous'),
  );

  it('requires a tip where the tree branches', () => {
    const err = chainFailure(tree);
    expect(err.field).toBe('link[torso]');
    expect(err.reason).toMatch(/branches into joints left_joint, right_joint/);
  });

  it('picks the branch to a named tip', () => {
    const chain = serialChain(parseUrdf(tree, 'test.urdf'), undefined, 'left_tip');
    expect(chain.base).toBe('base');
    expect(chain.joints.map((j) => j.name)).toEqual([
      'torso_joint',
      'left_joint',
      'left_tip_joint',
    ]);
    expect(chain.actuated).toEqual(['torso_joint', 'left_joint']);
    const sub = serialChain(parseUrdf(tree, 'test.urdf'), 'torso', 'right');
    expect(sub.actuated).toEqual(['right_joint']);
  });

  it('rejects a tip not reachable from the base, and unknown links', () => {
    const err = chainFailure(tree, 'left', 'right');
    expect(err.field).toBe('tip');
    expect(err.reason).toBe("link 'right' is not reachable from link 'left'");
    expect(chainFailure(tree, 'nowhere', 'right').field).toBe('base');
    expect(chainFailure(tree, 'base', 'nowhere').field).toBe('tip');
  });

  it('gives an empty chain from a link to itself', () => {
    const chain = serialChain(parseUrdf(tree, 'test.urdf'), 'left', 'left');
    expect(chain.joints).toEqual([]);
    expect(chain.tip).toBe('left');
  });

  it('rejects floating and mimic joints inside the chain', () => {
    const floating = robot(link('a'), link('b'), joint('f', 'a', 'b', '', 'floating'));
    expect(chainFailure(floating).field).toBe('joint[f].type');
    const mimic = robot(
      link('a'),
      link('b'),
      link('c'),
      joint('j1', 'a', 'b'),
      joint(
        'j2',
        'b',
        'c',
        '<limit lower="-1" upper="1" velocity="1" effort="1"/><mimic joint="j1"/>',
      ),
    );
    expect(chainFailure(mimic).field).toBe('joint[j2].mimic');
    const badMimic = robot(
      link('a'),
      link('b'),
      joint(
        'j1',
        'a',
        'b',
        '<limit lower="-1" upper="1" velocity="1" effort="1"/><mimic joint="zz"/>',
      ),
    );
    expect(failure(badMimic).field).toBe('joint[j1].mimic.joint');
  });
});

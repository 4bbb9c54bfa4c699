/**
 * The Gazebo world (sim/gazebo/planar_arm.sdf), checked without Gazebo: well-formed XML, the
 * systems it needs, an overhead camera whose projection is the calibration pons reads, and a
 * scene the arm can reach and the camera can see.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { SerialChainKinematics } from '../../src/cerebellum/kinematics.js';
import { loadCameraInfo, loadUrdf, serialChain } from '../../src/contract/index.js';
import { BRINGUP, list, ROOT, readXml } from '../helpers/ros-launch.js';

const GAZEBO = join(ROOT, 'sim/gazebo');
const WORLD = join(GAZEBO, 'planar_arm.sdf');
const URDF = join(ROOT, 'sim/planar_arm.urdf');

type El = Record<string, unknown>;
type V3 = [number, number, number];

// Element text as strings; repeated elements always as arrays, so a lone model reads like many.
const sdfParser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  parseTagValue: false,
  isArray: (name, _path, _leaf, isAttribute) =>
    !isAttribute && ['model', 'link', 'plugin', 'sensor', 'visual', 'collision'].includes(name),
});

const world = (readXml(WORLD, sdfParser).sdf as El).world as El;
const models = new Map((world.model as El[]).map((m) => [m['@name'] as string, m]));
const calibration = loadCameraInfo(join(ROOT, 'calibration/planar-arm/overhead_camera.yaml'));
// K row-major: [fx 0 cx; 0 fy cy; 0 0 1].
const [fx, , cx, , fy, cy] = calibration.camera_matrix.data as [
  number,
  number,
  number,
  number,
  number,
  number,
];

const numbers = (text: unknown): number[] => String(text).trim().split(/\s+/).map(Number);

function model(name: string): El {
  const m = models.get(name);
  expect(m, `model ${name}`).toBeDefined();
  return m as El;
}

/** A pose `x y z roll pitch yaw` as rotation (row-major 3×3, R = Rz·Ry·Rx) and translation. */
interface Pose {
  r: number[];
  t: V3;
}

function pose(element: El): Pose {
  const [x = 0, y = 0, z = 0, roll = 0, pitch = 0, yaw = 0] =
    element.pose === undefined ? [] : numbers(element.pose);
  const [cr, sr, cp, sp, cyaw, syaw] = [
    Math.cos(roll),
    Math.sin(roll),
    Math.cos(pitch),
    Math.sin(pitch),
    Math.cos(yaw),
    Math.sin(yaw),
  ];
  const r = [
    cyaw * cp,
    cyaw * sp * sr - syaw * cr,
    cyaw * sp * cr + syaw * sr,
    syaw * cp,
    syaw * sp * sr + cyaw * cr,
    syaw * sp * cr - cyaw * sr,
    -sp,
    cp * sr,
    cp * cr,
  ];
  return { r, t: [x, y, z] };
}

const rotate = (r: number[], v: V3): V3 => [
  (r[0] as number) * v[0] + (r[1] as number) * v[1] + (r[2] as number) * v[2],
  (r[3] as number) * v[0] + (r[4] as number) * v[1] + (r[5] as number) * v[2],
  (r[6] as number) * v[0] + (r[7] as number) * v[1] + (r[8] as number) * v[2],
];

/** `inner` given in `outer`'s frame, expressed in the frame `outer` is given in. */
function compose(outer: Pose, inner: Pose): Pose {
  const r: number[] = [];
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      let sum = 0;
      for (let k = 0; k < 3; k++)
        sum += (outer.r[3 * i + k] as number) * (inner.r[3 * k + j] as number);
      r.push(sum);
    }
  }
  const moved = rotate(outer.r, inner.t);
  return { r, t: [outer.t[0] + moved[0], outer.t[1] + moved[1], outer.t[2] + moved[2]] };
}

const dot = (a: V3, b: V3) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];

/** The single `key` child of `element`. */
function only(element: El, key: string): El {
  const items = list(element[key]) as El[];
  expect(items, `${element['@name']}: ${key}`).toHaveLength(1);
  return items[0] as El;
}

/** The overhead camera sensor, its world pose and its <camera> element. */
function overheadCamera() {
  const m = model('overhead_camera');
  expect(m.static).toBe('true');
  const link = only(m, 'link');
  const sensor = only(link, 'sensor');
  return {
    sensor,
    camera: sensor.camera as El,
    pose: compose(compose(pose(m), pose(link)), pose(sensor)),
  };
}

/** Pixel coordinates of a world point in the calibrated camera (u right, v down). */
function project(point: V3) {
  const { pose: p } = overheadCamera();
  // A Gazebo camera looks along its +x with +y to the image's left and +z to its top.
  const forward = rotate(p.r, [1, 0, 0]);
  const right = rotate(p.r, [0, -1, 0]);
  const up = rotate(p.r, [0, 0, 1]);
  const d: V3 = [point[0] - p.t[0], point[1] - p.t[1], point[2] - p.t[2]];
  const depth = dot(d, forward);
  return { u: cx + (fx * dot(d, right)) / depth, v: cy - (fy * dot(d, up)) / depth, depth };
}

const boxSize = (geometry: unknown): V3 =>
  numbers(((geometry as El).box as El).size) as unknown as V3;

const tableTop = (): number => {
  const table = model('table');
  const size = boxSize(only(only(table, 'link'), 'collision').geometry);
  return pose(table).t[2] + size[2] / 2;
};

/** The corners of a box model's top face, in the world. */
function topCorners(m: El): V3[] {
  const [x, y, z] = pose(m).t;
  const size = boxSize(only(only(m, 'link'), 'visual').geometry);
  return [-1, 1].flatMap((sx) =>
    [-1, 1].map((sy): V3 => [x + (sx * size[0]) / 2, y + (sy * size[1]) / 2, z + size[2] / 2]),
  );
}

function expectInView(m: El) {
  for (const corner of topCorners(m)) {
    const { u, v, depth } = project(corner);
    expect(depth, `${m['@name']}`).toBeGreaterThan(0);
    expect(u, `${m['@name']} u`).toBeGreaterThanOrEqual(0);
    expect(u, `${m['@name']} u`).toBeLessThanOrEqual(calibration.image_width);
    expect(v, `${m['@name']} v`).toBeGreaterThanOrEqual(0);
    expect(v, `${m['@name']} v`).toBeLessThanOrEqual(calibration.image_height);
  }
}

/** How far the stretched arm (q = 0) reaches from its base axis, from the URDF's kinematics. */
function reach(): number {
  const kinematics = new SerialChainKinematics(serialChain(loadUrdf(URDF), 'base_link', 'tool0'));
  const tip = kinematics.endEffectorPosition(new Float64Array(3), new Float64Array(3));
  return Math.hypot(tip[0] as number, tip[1] as number);
}

/** The URDF pedestal's radius: nothing may stand on it. */
function pedestalRadius(): number {
  const robot = readXml(URDF).robot as { link: El[] };
  const base = robot.link.find((l) => l['@name'] === 'base_link') as El;
  return Number((((base.collision as El).geometry as El).cylinder as El)['@radius']);
}

function expectReachable(m: El) {
  for (const [x, y] of topCorners(m)) {
    const r = Math.hypot(x, y);
    expect(r, `${m['@name']}`).toBeLessThanOrEqual(reach());
    expect(r, `${m['@name']}`).toBeGreaterThan(pedestalRadius());
  }
}

describe('sim/gazebo files', () => {
  it('are well-formed XML (every .sdf, .urdf, .xacro and .xml file)', () => {
    const files = readdirSync(GAZEBO).filter((f) => /\.(sdf|urdf|xacro|xml)$/.test(f));
    expect(files).toContain('planar_arm.sdf');
    for (const file of files) readXml(join(GAZEBO, file));
  });
});

describe('sim/gazebo/planar_arm.sdf', () => {
  it('loads the Physics, UserCommands, SceneBroadcaster and Sensors (ogre2) systems', () => {
    const plugins = world.plugin as El[];
    const byName = new Map(plugins.map((p) => [p['@name'] as string, p]));
    for (const [name, filename] of [
      ['gz::sim::systems::Physics', 'gz-sim-physics-system'],
      ['gz::sim::systems::UserCommands', 'gz-sim-user-commands-system'],
      ['gz::sim::systems::SceneBroadcaster', 'gz-sim-scene-broadcaster-system'],
      ['gz::sim::systems::Sensors', 'gz-sim-sensors-system'],
    ] as const) {
      expect(byName.get(name)?.['@filename'], name).toBe(filename);
    }
    expect(byName.get('gz::sim::systems::Sensors')?.render_engine).toBe('ogre2');
  });

  it('steps physics a whole number of times per controller-manager update', () => {
    const step = Number((world.physics as El).max_step_size);
    const params = parseYaml(readFileSync(join(BRINGUP, 'config/controllers.yaml'), 'utf8')) as {
      controller_manager: { ros__parameters: { update_rate: number } };
    };
    const steps = 1 / params.controller_manager.ros__parameters.update_rate / step;
    expect(steps).toBeGreaterThanOrEqual(1);
    expect(Math.abs(steps - Math.round(steps))).toBeLessThan(1e-9);
  });

  it("has a table whose top is the plane the URDF's base stands on", () => {
    const robot = readXml(URDF).robot as { joint: El[] };
    const anchor = robot.joint.find((j) => j['@name'] === 'world_joint') as El;
    const baseZ = numbers((anchor.origin as El)['@xyz'])[2];
    expect(tableTop()).toBeCloseTo(baseZ as number, 9);
  });

  it("has an overhead camera with the calibration's size and intrinsics", () => {
    const { sensor, camera } = overheadCamera();
    expect(sensor['@type']).toBe('camera');
    const image = camera.image as El;
    const width = Number(image.width);
    const height = Number(image.height);
    expect([width, height]).toEqual([calibration.image_width, calibration.image_height]);
    // rgb8 on the ROS side, an encoding pons reads.
    expect(image.format).toBe('R8G8B8');

    // Gazebo builds the projection from the horizontal field of view with square pixels and
    // derives camera_info from it: fx = (w/2)/tan(hfov/2), fy likewise over h and the vertical
    // field of view, the principal point at the image centre.
    const hfov = Number(camera.horizontal_fov);
    const tanHalf = Math.tan(hfov / 2);
    expect(width / 2 / tanHalf).toBeCloseTo(fx, 6);
    expect(height / 2 / (tanHalf * (height / width))).toBeCloseTo(fy, 6);
    expect([width / 2, height / 2]).toEqual([cx, cy]);
    expect(hfov).toBeCloseTo(2 * Math.atan(cx / fx), 12);

    // An ideal pinhole: no distortion, and no lens element that would override the projection.
    expect(calibration.distortion_coefficients.data.every((k) => k === 0)).toBe(true);
    expect(camera.distortion).toBeUndefined();
    expect(camera.lens).toBeUndefined();
    const [p0, , p2, p3, , p5, p6, p7] = calibration.projection_matrix.data;
    expect([p0, p2, p3, p5, p6, p7]).toEqual([fx, cx, 0, fy, cy, 0]);
  });

  it('looks straight down on the table from above its centre and sees all of it', () => {
    const { pose: p } = overheadCamera();
    const forward = rotate(p.r, [1, 0, 0]);
    const right = rotate(p.r, [0, -1, 0]);
    for (const [axis, expected] of [
      [forward, [0, 0, -1]],
      [right, [1, 0, 0]],
    ] as const) {
      axis.forEach((c, i) => {
        expect(c).toBeCloseTo(expected[i] as number, 9);
      });
    }
    expect(p.t[0]).toBeCloseTo(0, 9);
    expect(p.t[1]).toBeCloseTo(0, 9);
    // The table fills the image: its corners land on the image's corners.
    for (const corner of topCorners(model('table'))) {
      const { u, v } = project(corner);
      expect(Math.min(Math.abs(u), Math.abs(u - calibration.image_width))).toBeLessThan(1);
      expect(Math.min(Math.abs(v), Math.abs(v - calibration.image_height))).toBeLessThan(1);
    }
  });

  it('has red, green, blue and yellow blocks resting on the table, reachable and in view', () => {
    const colours: Record<string, V3> = {
      red: [1, 0, 0],
      green: [0, 1, 0],
      blue: [0, 0, 1],
      yellow: [1, 1, 0],
    };
    const blocks = [...models.keys()].filter((n) => n.startsWith('block_'));
    expect(blocks.sort()).toEqual(
      Object.keys(colours)
        .map((c) => `block_${c}`)
        .sort(),
    );
    for (const [colour, rgb] of Object.entries(colours)) {
      const block = model(`block_${colour}`);
      const link = only(block, 'link');
      const diffuse = numbers((only(link, 'visual').material as El).diffuse);
      rgb.forEach((on, i) => {
        if (on) expect(diffuse[i], `${colour}[${i}]`).toBeGreaterThanOrEqual(0.7);
        else expect(diffuse[i], `${colour}[${i}]`).toBeLessThanOrEqual(0.3);
      });

      const size = boxSize(only(link, 'collision').geometry);
      expect(boxSize(only(link, 'visual').geometry)).toEqual(size);
      expect(pose(block).t[2] - size[2] / 2).toBeCloseTo(tableTop(), 9);
      // A solid box's inertia, so the physics engine gets what it would compute itself.
      const inertial = link.inertial as El;
      const mass = Number(inertial.mass);
      const inertia = inertial.inertia as El;
      const [sx, sy, sz] = size;
      for (const [key, value] of [
        ['ixx', (mass * (sy * sy + sz * sz)) / 12],
        ['iyy', (mass * (sx * sx + sz * sz)) / 12],
        ['izz', (mass * (sx * sx + sy * sy)) / 12],
      ] as const) {
        expect(Number(inertia[key]) / value, `${colour} ${key}`).toBeCloseTo(1, 3);
      }
      expectReachable(block);
      expectInView(block);
    }
  });

  it("has visual-only goal zones on the image's left and right, reachable and in view", () => {
    const { pose: p } = overheadCamera();
    const right = rotate(p.r, [0, -1, 0]);
    for (const [name, side] of [
      ['goal_left', -1],
      ['goal_right', 1],
    ] as const) {
      const zone = model(name);
      expect(zone.static).toBe('true');
      const link = only(zone, 'link');
      expect(link.collision).toBeUndefined();
      expect(list(link.visual)).toHaveLength(1);
      const [x, y] = pose(zone).t;
      expect(Math.sign(dot([x - p.t[0], y - p.t[1], 0], right))).toBe(side);
      expectReachable(zone);
      expectInView(zone);
    }
  });
});

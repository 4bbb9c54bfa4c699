/**
 * The Gazebo world (sim/gazebo/planar_arm.sdf), checked without Gazebo: well-formed XML, the
 * systems it needs, an overhead camera whose projection is the calibration pons reads, and the
 * embedded simulator's scene (sim/tabletop.yaml) seen as its camera (src/sim/renderer.ts) sees
 * it: table, zones and blocks are projected through the world's camera and must land within a
 * pixel of where Renderer.project() draws them, so that a model trained in the embedded
 * simulator sees the same picture in Gazebo.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { SerialChainKinematics } from '../../src/cerebellum/kinematics.js';
import { loadCameraInfo, loadUrdf, serialChain } from '../../src/contract/index.js';
import {
  BLOCK_RGB,
  type BlockColour,
  loadArm,
  loadScene,
  type Rect,
  Renderer,
  type Rgb,
  SCENE_RGB,
  ZONE_SIDES,
} from '../../src/sim/index.js';
import { BRINGUP, list, ROOT, readXml } from '../helpers/ros-launch.js';

const GAZEBO = join(ROOT, 'sim/gazebo');
const WORLD = join(GAZEBO, 'planar_arm.sdf');
const URDF = join(ROOT, 'sim/planar_arm.urdf');

type El = Record<string, unknown>;
type V3 = [number, number, number];
type V2 = [number, number];

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

// The reference: the embedded simulator's scene and its camera.
const scene = loadScene();
const renderer = new Renderer(
  scene,
  loadArm(scene),
  scene.camera.width,
  scene.camera.height,
  scene.source,
);

/** How far (pixels, along either image axis) Gazebo may image a point from the embedded camera. */
const PIXEL = 1;
/** The embedded camera strokes zone edges this wide, centred on the edge (renderer.ts zone()). */
const ZONE_EDGE = 0.006;

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

/**
 * Where the world's camera images a world point, from the SDF alone (its pose, image size and
 * horizontal field of view): u to the right, v down, in the Renderer's pixel coordinates (the
 * image's top-left corner at (0, 0), pixel centres at .5). A Gazebo camera looks along its +x
 * with its +y to the image's left and its +z to the image's top; its frustum is symmetric, so
 * the optical axis meets the image's middle, (W/2, H/2); square pixels, f = (W/2)/tan(hfov/2).
 */
function project(point: V3) {
  const { pose: p, camera } = overheadCamera();
  const image = camera.image as El;
  const width = Number(image.width);
  const height = Number(image.height);
  const f = width / 2 / Math.tan(Number(camera.horizontal_fov) / 2);
  const forward = rotate(p.r, [1, 0, 0]);
  const right = rotate(p.r, [0, -1, 0]);
  const up = rotate(p.r, [0, 0, 1]);
  const d: V3 = [point[0] - p.t[0], point[1] - p.t[1], point[2] - p.t[2]];
  const depth = dot(d, forward);
  return {
    u: width / 2 + (f * dot(d, right)) / depth,
    v: height / 2 - (f * dot(d, up)) / depth,
    depth,
  };
}

/** The world point lands within a pixel of where the embedded camera draws (x, y). */
function expectDrawnAt(point: V3, [x, y]: V2, label: string) {
  const { u, v, depth } = project(point);
  const [eu, ev] = renderer.project(x, y);
  expect(depth, label).toBeGreaterThan(0);
  expect(Math.abs(u - eu), `${label}: u ${u} vs ${eu}`).toBeLessThan(PIXEL);
  expect(Math.abs(v - ev), `${label}: v ${v} vs ${ev}`).toBeLessThan(PIXEL);
}

const boxSize = (geometry: unknown): V3 =>
  numbers(((geometry as El).box as El).size) as unknown as V3;

const tableTop = (): number => {
  const table = model('table');
  const size = boxSize(only(only(table, 'link'), 'collision').geometry);
  return pose(table).t[2] + size[2] / 2;
};

/** The corners of a box visual's top face, in the world (the model is not rotated). */
function topCorners(m: El, visual: El = only(only(m, 'link'), 'visual')): V3[] {
  const at = compose(pose(m), pose(visual));
  const size = boxSize(visual.geometry);
  return [-1, 1].flatMap((sx) =>
    [-1, 1].map((sy) => {
      const c = rotate(at.r, [(sx * size[0]) / 2, (sy * size[1]) / 2, size[2] / 2]);
      return [at.t[0] + c[0], at.t[1] + c[1], at.t[2] + c[2]] as V3;
    }),
  );
}

/** The corners of a rectangle in the table plane, in topCorners' order. */
const rectCorners = (r: Rect): V2[] =>
  [r.min[0], r.max[0]].flatMap((x) => [r.min[1], r.max[1]].map((y): V2 => [x, y]));

function expectInView(m: El, visual?: El) {
  for (const corner of topCorners(m, visual)) {
    const { u, v, depth } = project(corner);
    expect(depth, `${m['@name']}`).toBeGreaterThan(0);
    expect(u, `${m['@name']} u`).toBeGreaterThanOrEqual(0);
    expect(u, `${m['@name']} u`).toBeLessThanOrEqual(calibration.image_width);
    expect(v, `${m['@name']} v`).toBeGreaterThanOrEqual(0);
    expect(v, `${m['@name']} v`).toBeLessThanOrEqual(calibration.image_height);
  }
}

/** A material's diffuse and ambient colour is `rgb` (0–255, as the renderer draws it). */
function expectColour(visual: El, rgb: Rgb, label: string) {
  const material = visual.material as El;
  for (const key of ['diffuse', 'ambient'] as const) {
    const colour = numbers(material[key]);
    expect(colour, `${label} ${key}`).toHaveLength(4);
    rgb.forEach((c, i) => {
      expect(Math.abs((colour[i] as number) * 255 - c), `${label} ${key}[${i}]`).toBeLessThan(0.5);
    });
  }
  // No highlight: the embedded camera draws flat colours.
  expect(numbers(material.specular).slice(0, 3), `${label} specular`).toEqual([0, 0, 0]);
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

function expectReachable(m: El, visual?: El) {
  for (const [x, y] of topCorners(m, visual)) {
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
    // The calibration is the embedded simulator's camera.
    expect([width, height]).toEqual([scene.camera.width, scene.camera.height]);
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
    // Clipping keeps the arm (it moves in the plane of the URDF's shoulder, with a margin for
    // its links' thickness) and reaches past the floor.
    const clip = camera.clip as El;
    const { pose: p } = overheadCamera();
    const robot = readXml(URDF).robot as { joint: El[] };
    const shoulder = robot.joint.find((j) => j['@name'] === 'shoulder_joint') as El;
    const armPlane = tableTop() + (numbers((shoulder.origin as El)['@xyz'])[2] as number);
    expect(Number(clip.near)).toBeLessThan(p.t[2] - armPlane - 0.05);
    expect(Number(clip.far)).toBeGreaterThan(p.t[2] - pose(model('ground_plane')).t[2]);
  });

  it("looks straight down on the scene's camera centre, image up = +x and image left = +y", () => {
    const { pose: p } = overheadCamera();
    const forward = rotate(p.r, [1, 0, 0]);
    forward.forEach((c, i) => {
      expect(c, `forward[${i}]`).toBeCloseTo([0, 0, -1][i] as number, 9);
    });
    const [x0, y0] = scene.camera.centre;
    const top = tableTop();
    // The scene's camera centre is the image's middle, as the embedded camera draws it.
    const centre = project([x0, y0, top]);
    expect(centre.u).toBeCloseTo(scene.camera.width / 2, 6);
    expect(centre.v).toBeCloseTo(scene.camera.height / 2, 6);
    expectDrawnAt([x0, y0, top], [x0, y0], 'camera centre');
    // A step forward (+x) goes up the image, a step to the left (+y) to the image's left, by
    // the scale of the scene's view: its shorter side spans `camera.view` metres.
    const scale = Math.min(scene.camera.width, scene.camera.height) / scene.camera.view;
    const step = 0.1;
    const forwardStep = project([x0 + step, y0, top]);
    expect(forwardStep.u - centre.u).toBeCloseTo(0, 6);
    expect(centre.v - forwardStep.v).toBeCloseTo(step * scale, 2);
    const leftStep = project([x0, y0 + step, top]);
    expect(centre.u - leftStep.u).toBeCloseTo(step * scale, 2);
    expect(leftStep.v - centre.v).toBeCloseTo(0, 6);
  });

  it("has the scene's table, its corners where the embedded camera draws them", () => {
    const table = model('table');
    const size = boxSize(only(only(table, 'link'), 'visual').geometry);
    expect(boxSize(only(only(table, 'link'), 'collision').geometry)).toEqual(size);
    expect([size[0], size[1]]).toEqual([scene.table.size, scene.table.size]);
    expect(pose(table).t[0]).toBe(0);
    expect(pose(table).t[1]).toBe(0);
    expectColour(only(only(table, 'link'), 'visual'), SCENE_RGB.table, 'table');
    const half = scene.table.size / 2;
    const corners = topCorners(table);
    for (const [i, [x, y]] of rectCorners({ min: [-half, -half], max: [half, half] }).entries()) {
      expectDrawnAt(corners[i] as V3, [x, y], `table corner (${x}, ${y})`);
    }
    // The floor and the sky behind it are the embedded simulator's floor.
    expectColour(only(only(model('ground_plane'), 'link'), 'visual'), SCENE_RGB.floor, 'floor');
    numbers((world.scene as El).background)
      .slice(0, 3)
      .forEach((c, i) => {
        expect(Math.abs(c * 255 - (SCENE_RGB.floor[i] as number)), `background[${i}]`).toBeLessThan(
          0.5,
        );
      });
  });

  it("has the scene's goal zones, visual only, where the embedded camera draws them", () => {
    for (const side of ZONE_SIDES) {
      const rect = scene.zones[side];
      const zone = model(`goal_${side}`);
      expect(zone.static).toBe('true');
      const link = only(zone, 'link');
      expect(link.collision).toBeUndefined();
      const visuals = new Map((link.visual as El[]).map((v) => [v['@name'] as string, v]));
      const fill = visuals.get('fill') as El;
      expect(fill, `goal_${side} fill`).toBeDefined();
      expectColour(fill, SCENE_RGB.zone, `${side} fill`);
      const corners = topCorners(zone, fill);
      for (const [i, [x, y]] of rectCorners(rect).entries()) {
        // On the table, a hair above it: the rectangle itself in the table plane.
        const corner = corners[i] as V3;
        expect(corner[0], `${side} corner x`).toBeCloseTo(x, 9);
        expect(corner[1], `${side} corner y`).toBeCloseTo(y, 9);
        expect(corner[2] - tableTop(), `${side} height`).toBeGreaterThan(0);
        expect(corner[2] - tableTop(), `${side} height`).toBeLessThan(0.005);
        expectDrawnAt(corner, [x, y], `${side} zone corner (${x}, ${y})`);
      }
      // The edge: four strips ZONE_EDGE wide centred on the rectangle's sides, over the fill.
      const edges = [...visuals.keys()].filter((n) => n !== 'fill').sort();
      expect(edges).toEqual(['edge_x_max', 'edge_x_min', 'edge_y_max', 'edge_y_min']);
      const e = ZONE_EDGE / 2;
      const strips: Record<string, Rect> = {
        edge_x_min: {
          min: [rect.min[0] - e, rect.min[1] - e],
          max: [rect.min[0] + e, rect.max[1] + e],
        },
        edge_x_max: {
          min: [rect.max[0] - e, rect.min[1] - e],
          max: [rect.max[0] + e, rect.max[1] + e],
        },
        edge_y_min: {
          min: [rect.min[0] - e, rect.min[1] - e],
          max: [rect.max[0] + e, rect.min[1] + e],
        },
        edge_y_max: {
          min: [rect.min[0] - e, rect.max[1] - e],
          max: [rect.max[0] + e, rect.max[1] + e],
        },
      };
      for (const [name, strip] of Object.entries(strips)) {
        const visual = visuals.get(name) as El;
        expectColour(visual, SCENE_RGB.zoneEdge, `${side} ${name}`);
        for (const [i, [x, y]] of rectCorners(strip).entries()) {
          const corner = topCorners(zone, visual)[i] as V3;
          expect(corner[0], `${side} ${name} x`).toBeCloseTo(x, 9);
          expect(corner[1], `${side} ${name} y`).toBeCloseTo(y, 9);
          expect(corner[2], `${side} ${name} above the fill`).toBeGreaterThan(
            (corners[0] as V3)[2],
          );
        }
      }
      // Left is the image's left: the embedded camera draws the left zone left of the middle.
      const middle = project([(rect.min[0] + rect.max[0]) / 2, (rect.min[1] + rect.max[1]) / 2, 0]);
      expect(Math.sign(middle.u - scene.camera.width / 2), side).toBe(side === 'left' ? -1 : 1);
      expectReachable(zone, fill);
      for (const visual of visuals.values()) expectInView(zone, visual);
    }
  });

  it("has red, green, blue and yellow blocks of the scene's size, mass and colours", () => {
    const colours: BlockColour[] = ['red', 'green', 'blue', 'yellow'];
    const blocks = [...models.keys()].filter((n) => n.startsWith('block_'));
    expect(blocks.sort()).toEqual(colours.map((c) => `block_${c}`).sort());
    for (const colour of colours) {
      const block = model(`block_${colour}`);
      const link = only(block, 'link');
      const visual = only(link, 'visual');
      expectColour(visual, BLOCK_RGB[colour], colour);

      const size = boxSize(only(link, 'collision').geometry);
      expect(boxSize(visual.geometry)).toEqual(size);
      expect([size[0], size[1]]).toEqual([scene.blocks.size, scene.blocks.size]);
      expect(pose(block).t[2] - size[2] / 2).toBeCloseTo(tableTop(), 9);
      // A solid box's inertia, so the physics engine gets what it would compute itself.
      const inertial = link.inertial as El;
      const mass = Number(inertial.mass);
      expect(mass).toBe(scene.blocks.mass);
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

  it('places the blocks as the embedded simulator could, drawn where its camera draws them', () => {
    const { spawn, spacing } = scene.blocks;
    const blocks = [...models.entries()].filter(([n]) => n.startsWith('block_'));
    expect(blocks.length).toBeGreaterThan(0);
    const centres: V2[] = [];
    for (const [name, block] of blocks) {
      const p = pose(block);
      const [x, y] = p.t;
      expect(x, `${name} x`).toBeGreaterThanOrEqual(spawn.min[0]);
      expect(x, `${name} x`).toBeLessThanOrEqual(spawn.max[0]);
      expect(y, `${name} y`).toBeGreaterThanOrEqual(spawn.min[1]);
      expect(y, `${name} y`).toBeLessThanOrEqual(spawn.max[1]);
      for (const [ox, oy] of centres) {
        expect(Math.hypot(x - ox, y - oy), `${name} spacing`).toBeGreaterThanOrEqual(spacing);
      }
      centres.push([x, y]);
      // Unrotated, as the corners below assume (the embedded blocks start at any angle; the
      // projection of a rotated top face is the same rotation about its centre).
      expect(numbers(block.pose).slice(3), `${name} rotation`).toEqual([0, 0, 0]);
      // The camera sees the top face: its centre and corners.
      const visual = only(only(block, 'link'), 'visual');
      const size = boxSize(visual.geometry);
      expectDrawnAt([x, y, p.t[2] + size[2] / 2], [x, y], `${name} centre`);
      const h = size[0] / 2;
      const corners = topCorners(block);
      for (const [i, corner] of rectCorners({
        min: [x - h, y - h],
        max: [x + h, y + h],
      }).entries()) {
        expectDrawnAt(corners[i] as V3, corner, `${name} corner`);
      }
    }
    // Blocks are boxes the perspective camera sees from nearer than the table: a block of the
    // world's height anywhere in the spawn rectangle is still drawn within a pixel.
    const heights = new Set(
      blocks.map(([, b]) => boxSize(only(only(b, 'link'), 'visual').geometry)[2]),
    );
    expect(heights.size).toBe(1);
    const top = tableTop() + ([...heights][0] as number);
    const h = scene.blocks.size / 2;
    for (const [x, y] of rectCorners(spawn)) {
      for (const corner of rectCorners({ min: [x - h, y - h], max: [x + h, y + h] })) {
        expectDrawnAt([corner[0], corner[1], top], corner, `spawn corner (${x}, ${y})`);
      }
    }
  });
});

import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { InputError } from './errors.js';
import { readTextFile } from './files.js';

/**
 * URDF reading: the robot description's kinematic tree, and the serial chain from a base
 * link to a tip link that kinematics and the safety filter work on.
 *
 * What is read: `<link name>`, and for each `<joint name type>` its `<parent link>`,
 * `<child link>`, `<origin xyz rpy>` (default zero), `<axis xyz>` (default 1 0 0,
 * normalized) and `<limit lower upper velocity effort>`; for each link its `<inertial>`
 * (`<origin>`, `<mass value>`, `<inertia>`, zeros where absent) and its `<collision>`
 * elements (`<origin>` and one `<geometry>`: box, cylinder, sphere or mesh), which a
 * simulator builds bodies from. Visuals, materials, `<gazebo>` and `<transmission>` blocks
 * are skipped.
 *
 * Limits follow the URDF specification: `<limit>` is required for revolute and prismatic
 * joints, `lower`/`upper` default to 0 and `velocity`/`effort` are required; a continuous
 * joint has no position limits (±∞ here, whatever its tag says) and its `<limit>` is
 * optional (velocity and effort ∞ without one). Every bad input is an InputError naming
 * the file and the field, e.g. `joint[elbow_joint].limit.upper`.
 */

export type UrdfJointType =
  | 'revolute'
  | 'continuous'
  | 'prismatic'
  | 'fixed'
  | 'floating'
  | 'planar';

const JOINT_TYPES: readonly UrdfJointType[] = [
  'revolute',
  'continuous',
  'prismatic',
  'fixed',
  'floating',
  'planar',
];

export type Vec3 = [number, number, number];

/** A frame in its parent's frame: translation (m) and fixed-axis roll-pitch-yaw (rad). */
export interface UrdfOrigin {
  xyz: Vec3;
  rpy: Vec3;
}

/** A link's mass properties, in the link frame. */
export interface UrdfInertial {
  /** The centre-of-mass frame. */
  origin: UrdfOrigin;
  /** kg. */
  mass: number;
  /** Inertia tensor about the centre of mass in its frame, kg·m² (zeros where not given). */
  inertia: { ixx: number; ixy: number; ixz: number; iyy: number; iyz: number; izz: number };
}

/** Collision (or visual) geometry, in metres. */
export type UrdfGeometry =
  | { type: 'box'; size: Vec3 }
  | { type: 'cylinder'; radius: number; length: number }
  | { type: 'sphere'; radius: number }
  | { type: 'mesh'; filename: string; scale: Vec3 };

export interface UrdfCollision {
  /** The geometry's frame in the link frame. */
  origin: UrdfOrigin;
  geometry: UrdfGeometry;
}

export interface UrdfLimit {
  /** rad or m; −∞ for continuous joints. */
  lower: number;
  /** rad or m; +∞ for continuous joints. */
  upper: number;
  /** rad/s or m/s; +∞ where not given (continuous joints without `<limit>`). */
  velocity: number;
  /** N·m or N; +∞ where not given. */
  effort: number;
}

export interface UrdfJoint {
  name: string;
  type: UrdfJointType;
  parent: string;
  child: string;
  /** The joint frame in the parent link's frame. */
  origin: UrdfOrigin;
  /** Unit vector in the joint frame; (1, 0, 0) where the URDF gives none. */
  axis: Vec3;
  /** Present for revolute, prismatic and continuous joints. */
  limit?: UrdfLimit;
  /** Present when the joint mimics another one (not supported inside a serial chain). */
  mimic?: string;
}

/** A URDF's kinematic tree. Plain data: it survives structured cloning into a worker. */
export interface UrdfRobot {
  /** Where it came from (file path), for error messages. */
  source: string;
  name: string;
  links: string[];
  joints: UrdfJoint[];
  /** The one link that is no joint's child. */
  root: string;
  /** `<inertial>` of each link that has one, by link name. */
  inertials: Record<string, UrdfInertial>;
  /** `<collision>` elements of each link in document order, by link name (empty for none). */
  collisions: Record<string, UrdfCollision[]>;
}

/** The joints from `base` to `tip`, in order, fixed ones included. Plain data. */
export interface SerialChain {
  source: string;
  base: string;
  tip: string;
  joints: UrdfJoint[];
  /** Names of the chain's moving (non-fixed) joints, base to tip: the order of q vectors. */
  actuated: string[];
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseAttributeValue: false,
  parseTagValue: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  isArray: (name, _path, _leaf, isAttribute) =>
    !isAttribute && (name === 'link' || name === 'joint' || name === 'collision'),
});

/** Reads and parses a URDF file. */
export function loadUrdf(path: string): UrdfRobot {
  return parseUrdf(readTextFile(path), path);
}

type XmlNode = Record<string, unknown>;

/** Parses URDF text; `source` names it in errors. */
export function parseUrdf(xml: string, source: string): UrdfRobot {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    const { msg, line } = valid.err;
    throw new InputError(source, '', `is not well-formed XML (line ${line}): ${msg}`);
  }
  const doc = parser.parse(xml) as XmlNode;
  const robot = element(doc.robot);
  if (!robot) throw new InputError(source, 'robot', 'is missing: not a URDF document');

  const links: string[] = [];
  const linkSet = new Set<string>();
  const inertials: [string, UrdfInertial][] = [];
  const collisions: [string, UrdfCollision[]][] = [];
  for (const [i, raw] of list(robot.link).entries()) {
    const link = element(raw) ?? {};
    const name = attr(link, 'name');
    if (!name) throw new InputError(source, `link[${i}].name`, 'is missing');
    if (linkSet.has(name)) throw new InputError(source, `link[${name}]`, 'is declared twice');
    linkSet.add(name);
    links.push(name);
    const field = `link[${name}]`;
    const inertialNode = single(link, 'inertial', source, `${field}.inertial`);
    if (inertialNode)
      inertials.push([name, parseInertial(inertialNode, source, `${field}.inertial`)]);
    collisions.push([
      name,
      list(link.collision).map((c, k) =>
        parseCollision(element(c) ?? {}, source, `${field}.collision[${k}]`),
      ),
    ]);
  }
  if (links.length === 0) throw new InputError(source, 'robot.link', 'no links are declared');

  const joints: UrdfJoint[] = [];
  const parentJoint = new Map<string, UrdfJoint>();
  const jointNames = new Set<string>();
  for (const [i, raw] of list(robot.joint).entries()) {
    const joint = parseJoint(element(raw) ?? {}, i, source);
    if (jointNames.has(joint.name)) {
      throw new InputError(source, `joint[${joint.name}]`, 'is declared twice');
    }
    jointNames.add(joint.name);
    for (const side of ['parent', 'child'] as const) {
      if (!linkSet.has(joint[side])) {
        throw new InputError(
          source,
          `joint[${joint.name}].${side}`,
          `names link '${joint[side]}', which is not declared`,
        );
      }
    }
    const earlier = parentJoint.get(joint.child);
    if (earlier) {
      throw new InputError(
        source,
        `joint[${joint.name}].child`,
        `link '${joint.child}' is already the child of joint '${earlier.name}'`,
      );
    }
    parentJoint.set(joint.child, joint);
    joints.push(joint);
  }
  for (const joint of joints) {
    if (joint.mimic !== undefined && !jointNames.has(joint.mimic)) {
      throw new InputError(
        source,
        `joint[${joint.name}].mimic.joint`,
        `names joint '${joint.mimic}', which is not declared`,
      );
    }
  }

  const roots = links.filter((l) => !parentJoint.has(l));
  if (roots.length !== 1) {
    const which = roots.length === 0 ? 'none (the joints form a cycle)' : roots.join(', ');
    throw new InputError(
      source,
      'robot',
      `a URDF is one tree with one root link; root links found: ${which}`,
    );
  }
  const root = roots[0] as string;
  // One root and one parent per link still allows a cycle apart from the tree.
  for (const link of links) {
    let at = link;
    for (let steps = 0; at !== root; steps++) {
      const up = parentJoint.get(at);
      if (!up || steps > links.length) {
        throw new InputError(
          source,
          `link[${link}]`,
          `is not connected to the root link '${root}' (a joint cycle)`,
        );
      }
      at = up.parent;
    }
  }
  return {
    source,
    name: attr(robot, 'name') ?? '',
    links,
    joints,
    root,
    // fromEntries defines own properties, so a link named `__proto__` stays a plain key.
    inertials: Object.fromEntries(inertials),
    collisions: Object.fromEntries(collisions),
  };
}

/**
 * The serial chain from `base` (default: the root link) to `tip`. Without a tip, the tree
 * below `base` must not branch, and the chain runs to its one leaf.
 */
export function serialChain(robot: UrdfRobot, base?: string, tip?: string): SerialChain {
  const { source } = robot;
  const from = base ?? robot.root;
  if (!robot.links.includes(from)) {
    throw new InputError(source, 'base', `link '${from}' is not in the URDF`);
  }
  const byChild = new Map(robot.joints.map((j) => [j.child, j]));
  let joints: UrdfJoint[];
  if (tip !== undefined) {
    if (!robot.links.includes(tip)) {
      throw new InputError(source, 'tip', `link '${tip}' is not in the URDF`);
    }
    joints = [];
    let at = tip;
    while (at !== from) {
      const up = byChild.get(at);
      if (!up) {
        throw new InputError(source, 'tip', `link '${tip}' is not reachable from link '${from}'`);
      }
      joints.push(up);
      at = up.parent;
    }
    joints.reverse();
  } else {
    joints = [];
    let at = from;
    for (;;) {
      const down = robot.joints.filter((j) => j.parent === at);
      if (down.length === 0) break;
      if (down.length > 1) {
        throw new InputError(
          source,
          `link[${at}]`,
          `branches into joints ${down.map((j) => j.name).join(', ')} where a serial chain is required; name a tip link`,
        );
      }
      const next = down[0] as UrdfJoint;
      joints.push(next);
      at = next.child;
    }
  }
  for (const joint of joints) {
    if (joint.type === 'floating' || joint.type === 'planar') {
      throw new InputError(
        source,
        `joint[${joint.name}].type`,
        `${joint.type} joints are not supported in a serial chain`,
      );
    }
    if (joint.mimic !== undefined) {
      throw new InputError(
        source,
        `joint[${joint.name}].mimic`,
        'mimic joints are not supported in a serial chain',
      );
    }
  }
  const end = joints.length > 0 ? (joints[joints.length - 1] as UrdfJoint).child : from;
  return {
    source,
    base: from,
    tip: end,
    joints,
    actuated: joints.filter((j) => j.type !== 'fixed').map((j) => j.name),
  };
}

function parseJoint(node: XmlNode, index: number, source: string): UrdfJoint {
  const name = attr(node, 'name');
  if (!name) throw new InputError(source, `joint[${index}].name`, 'is missing');
  const field = (f: string) => `joint[${name}].${f}`;
  const type = attr(node, 'type');
  if (!type || !(JOINT_TYPES as readonly string[]).includes(type)) {
    throw new InputError(
      source,
      field('type'),
      `${type ? `'${type}' is not` : 'is missing; must be'} one of ${JOINT_TYPES.join(', ')}`,
    );
  }
  const jointType = type as UrdfJointType;
  const parent = attr(single(node, 'parent', source, field('parent')) ?? {}, 'link');
  if (!parent) throw new InputError(source, field('parent.link'), 'is missing');
  const child = attr(single(node, 'child', source, field('child')) ?? {}, 'link');
  if (!child) throw new InputError(source, field('child.link'), 'is missing');

  const origin = parseOrigin(node, source, field('origin'));

  const axisNode = single(node, 'axis', source, field('axis'));
  let axis: Vec3 = [1, 0, 0];
  if (axisNode) {
    const raw = vec3(attr(axisNode, 'xyz') ?? '1 0 0', source, field('axis.xyz'));
    const norm = Math.hypot(...raw);
    if (!(norm > 1e-12)) throw new InputError(source, field('axis.xyz'), 'must not be zero');
    axis = [raw[0] / norm, raw[1] / norm, raw[2] / norm];
  }

  const limitNode = single(node, 'limit', source, field('limit'));
  let limit: UrdfLimit | undefined;
  if (jointType === 'revolute' || jointType === 'prismatic') {
    if (!limitNode) {
      throw new InputError(source, field('limit'), `is required for a ${jointType} joint`);
    }
    limit = {
      lower: number(limitNode, 'lower', 0, source, field('limit.lower')),
      upper: number(limitNode, 'upper', 0, source, field('limit.upper')),
      velocity: number(limitNode, 'velocity', undefined, source, field('limit.velocity')),
      effort: number(limitNode, 'effort', undefined, source, field('limit.effort')),
    };
    if (!(limit.lower < limit.upper)) {
      throw new InputError(
        source,
        field('limit.upper'),
        `must be above lower (${limit.lower}), got ${limit.upper}`,
      );
    }
  } else if (jointType === 'continuous') {
    limit = {
      lower: Number.NEGATIVE_INFINITY,
      upper: Number.POSITIVE_INFINITY,
      velocity: limitNode
        ? number(limitNode, 'velocity', undefined, source, field('limit.velocity'))
        : Number.POSITIVE_INFINITY,
      effort: limitNode
        ? number(limitNode, 'effort', undefined, source, field('limit.effort'))
        : Number.POSITIVE_INFINITY,
    };
  }
  if (limit) {
    if (!(limit.velocity > 0)) {
      throw new InputError(source, field('limit.velocity'), 'must be positive');
    }
    if (!(limit.effort >= 0)) {
      throw new InputError(source, field('limit.effort'), 'must not be negative');
    }
  }

  const mimicNode = single(node, 'mimic', source, field('mimic'));
  const joint: UrdfJoint = { name, type: jointType, parent, child, origin, axis };
  if (limit) joint.limit = limit;
  if (mimicNode) {
    const target = attr(mimicNode, 'joint');
    if (!target) throw new InputError(source, field('mimic.joint'), 'is missing');
    joint.mimic = target;
  }
  return joint;
}

function parseOrigin(node: XmlNode, source: string, field: string): UrdfOrigin {
  const origin = single(node, 'origin', source, field) ?? {};
  return {
    xyz: vec3(attr(origin, 'xyz'), source, `${field}.xyz`),
    rpy: vec3(attr(origin, 'rpy'), source, `${field}.rpy`),
  };
}

const INERTIA_KEYS = ['ixx', 'ixy', 'ixz', 'iyy', 'iyz', 'izz'] as const;

function parseInertial(node: XmlNode, source: string, field: string): UrdfInertial {
  const massNode = single(node, 'mass', source, `${field}.mass`);
  if (!massNode) throw new InputError(source, `${field}.mass`, 'is missing');
  const mass = number(massNode, 'value', undefined, source, `${field}.mass.value`);
  if (!(mass >= 0)) throw new InputError(source, `${field}.mass.value`, 'must not be negative');
  const inertiaNode = single(node, 'inertia', source, `${field}.inertia`) ?? {};
  const entries = INERTIA_KEYS.map((k) => [
    k,
    number(inertiaNode, k, 0, source, `${field}.inertia.${k}`),
  ]);
  return {
    origin: parseOrigin(node, source, `${field}.origin`),
    mass,
    inertia: Object.fromEntries(entries) as UrdfInertial['inertia'],
  };
}

const SHAPES = ['box', 'cylinder', 'sphere', 'mesh'] as const;

function parseCollision(node: XmlNode, source: string, field: string): UrdfCollision {
  const geometry = single(node, 'geometry', source, `${field}.geometry`);
  if (!geometry) throw new InputError(source, `${field}.geometry`, 'is missing');
  const present = SHAPES.filter((s) => geometry[s] !== undefined);
  if (present.length !== 1) {
    throw new InputError(
      source,
      `${field}.geometry`,
      `must hold exactly one of ${SHAPES.join(', ')}, found ${present.length}`,
    );
  }
  const type = present[0] as (typeof SHAPES)[number];
  const at = `${field}.geometry.${type}`;
  const shape = single(geometry, type, source, at) ?? {};
  const positive = (name: string) => {
    const value = number(shape, name, undefined, source, `${at}.${name}`);
    if (!(value > 0)) throw new InputError(source, `${at}.${name}`, 'must be positive');
    return value;
  };
  let parsed: UrdfGeometry;
  switch (type) {
    case 'box': {
      const size = vec3(attr(shape, 'size'), source, `${at}.size`);
      if (!size.every((v) => v > 0)) {
        throw new InputError(source, `${at}.size`, 'must be three positive numbers');
      }
      parsed = { type, size };
      break;
    }
    case 'cylinder':
      parsed = { type, radius: positive('radius'), length: positive('length') };
      break;
    case 'sphere':
      parsed = { type, radius: positive('radius') };
      break;
    case 'mesh': {
      const filename = attr(shape, 'filename');
      if (!filename) throw new InputError(source, `${at}.filename`, 'is missing');
      const scale = attr(shape, 'scale');
      parsed = { type, filename, scale: scale ? vec3(scale, source, `${at}.scale`) : [1, 1, 1] };
      break;
    }
  }
  return { origin: parseOrigin(node, source, `${field}.origin`), geometry: parsed };
}

/** An element as an object ('' for an element with neither attributes nor children). */
function element(value: unknown): XmlNode | undefined {
  if (value === undefined) return undefined;
  if (value === '' || value === null) return {};
  if (typeof value === 'object' && !Array.isArray(value)) return value as XmlNode;
  return undefined;
}

function list(value: unknown): unknown[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function single(node: XmlNode, tag: string, source: string, field: string): XmlNode | undefined {
  const value = node[tag];
  if (value === undefined) return undefined;
  if (Array.isArray(value)) throw new InputError(source, field, 'appears more than once');
  return element(value) ?? {};
}

function attr(node: XmlNode, name: string): string | undefined {
  const value = node[name];
  return typeof value === 'string' ? value : undefined;
}

function vec3(text: string | undefined, source: string, field: string): Vec3 {
  if (text === undefined) return [0, 0, 0];
  const parts = text.trim().split(/\s+/);
  const values = parts.map(Number);
  if (parts.length !== 3 || parts[0] === '' || !values.every(Number.isFinite)) {
    throw new InputError(source, field, `must be three numbers, got '${text}'`);
  }
  return values as Vec3;
}

function number(
  node: XmlNode,
  name: string,
  fallback: number | undefined,
  source: string,
  field: string,
): number {
  const text = attr(node, name);
  if (text === undefined) {
    if (fallback === undefined) throw new InputError(source, field, 'is missing');
    return fallback;
  }
  const value = text.trim() === '' ? Number.NaN : Number(text);
  if (!Number.isFinite(value)) {
    throw new InputError(source, field, `must be a finite number, got '${text}'`);
  }
  return value;
}

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { expect } from 'vitest';

/**
 * What the tests of ros/ and sim/gazebo share: XML read through fast-xml-parser's validator, and
 * launch files run against a tiny stand-in of the `launch`/`launch_ros` Python API (which cannot
 * be installed without ROS 2) that records the actions a launch would start.
 */

export const ROOT = realpathSync(new URL('../..', import.meta.url).pathname);
export const BRINGUP = join(ROOT, 'ros/pons_bringup');
export const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

export const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@' });

export type Recorded = Record<string, unknown>;

/** Parses an XML file (with `parser`) after checking that it is well formed. */
export function readXml(path: string, parser: XMLParser = xml): Record<string, unknown> {
  const text = readFileSync(path, 'utf8');
  const valid = XMLValidator.validate(text);
  expect(valid, `${path}: ${JSON.stringify(valid)}`).toBe(true);
  return parser.parse(text) as Record<string, unknown>;
}

/** fast-xml-parser gives one child as a value and several as an array: always an array. */
export function list(value: unknown): unknown[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** The bundled arm's movable joints, in URDF order. */
export function urdfJoints(): string[] {
  const robot = readXml(join(ROOT, 'sim/planar_arm.urdf')).robot as { joint: unknown };
  return list(robot.joint)
    .map((j) => j as Record<string, string>)
    .filter((j) => j['@type'] !== 'fixed')
    .map((j) => j['@name'] as string);
}

/** The one recorded action that satisfies `predicate`. */
export function one(actions: Recorded[], predicate: (a: Recorded) => boolean): Recorded {
  const found = actions.filter(predicate);
  expect(found).toHaveLength(1);
  return found[0] as Recorded;
}

/**
 * Compiles a launch file with the system Python (byte code into `tmp`), as `ros2 launch` would
 * before running it.
 */
export function compileLaunch(launch: string, tmp: string): void {
  execFileSync(PYTHON, [
    '-c',
    'import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)',
    launch,
    join(tmp, 'launch.pyc'),
  ]);
}

/**
 * Runs a launch file's generate_launch_description() and its OpaqueFunction with `args` over the
 * declared defaults, against stand-ins for launch/launch_ros written under `tmp`, and returns the
 * actions it would start. FindPackageShare finds pons_bringup at ros/pons_bringup and any other
 * package at /opt/ros/jazzy/share/<package>.
 */
export function runLaunch(launch: string, args: Record<string, string>, tmp: string): Recorded[] {
  const stubs = join(tmp, 'stubs');
  if (!existsSync(stubs)) writeStubs(stubs);
  const script = `
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("launch_under_test", sys.argv[1])
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
description = mod.generate_launch_description()
context = {a.name: a.default_value for a in description.entities if a.kind == "DeclareLaunchArgument"}
context.update(json.loads(sys.argv[2]))
context["__share__"] = sys.argv[3]
out = []
for entity in description.entities:
    if entity.kind == "OpaqueFunction":
        out.extend(entity.function(context))
print(json.dumps(out, default=lambda action: action.record()))
`;
  const stdout = execFileSync(PYTHON, ['-c', script, launch, JSON.stringify(args), BRINGUP], {
    env: { ...process.env, PYTHONPATH: stubs, PYTHONDONTWRITEBYTECODE: '1', PONS_ROOT: '' },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return JSON.parse(stdout) as Recorded[];
}

function writeStubs(dir: string): void {
  const files: Record<string, string> = {
    'launch/__init__.py': `
class LaunchDescription:
    def __init__(self, entities):
        self.entities = entities
`,
    'launch/_record.py': `
class Recorded:
    def __init__(self, *args, **kwargs):
        self.kind = type(self).__name__
        self.args = args
        self.kwargs = kwargs
        for key, value in kwargs.items():
            setattr(self, key, value)
        if args:
            self.name = args[0]
    def record(self):
        out = {"kind": self.kind}
        if self.args:
            out["args"] = list(self.args)
        out.update(self.kwargs)
        return out
`,
    'launch/actions.py': `
from launch._record import Recorded
class DeclareLaunchArgument(Recorded): pass
class ExecuteProcess(Recorded): pass
class IncludeLaunchDescription(Recorded): pass
class LogInfo(Recorded): pass
class OpaqueFunction(Recorded): pass
`,
    'launch/launch_description_sources.py': `
from launch._record import Recorded
class PythonLaunchDescriptionSource(Recorded): pass
`,
    'launch/substitutions.py': `
class LaunchConfiguration:
    def __init__(self, name):
        self.name = name
    def perform(self, context):
        return context[self.name]
`,
    'launch_ros/__init__.py': '',
    'launch_ros/actions.py': `
from launch._record import Recorded
class Node(Recorded): pass
`,
    'launch_ros/substitutions.py': `
class FindPackageShare:
    def __init__(self, package):
        self.package = package
    def perform(self, context):
        if self.package == "pons_bringup":
            return context["__share__"]
        return "/opt/ros/jazzy/share/" + self.package
`,
  };
  for (const [name, text] of Object.entries(files)) {
    const path = join(dir, name);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, text);
  }
}

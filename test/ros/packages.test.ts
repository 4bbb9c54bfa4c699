/**
 * The ROS 2 packages under ros/ are checked for what can be checked without ROS 2: XML and YAML
 * well formed and consistent with each other, the launch file compiles, and its setup runs
 * against a tiny stand-in of the `launch`/`launch_ros` Python API (which cannot be installed
 * here) and starts what it should.
 */
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadActionSpec } from '../../src/contract/index.js';
import { loadProfile } from '../../src/nodes/profile.js';

const ROOT = realpathSync(new URL('../..', import.meta.url).pathname);
const MSGS = join(ROOT, 'ros/pons_msgs');
const BRINGUP = join(ROOT, 'ros/pons_bringup');
const LAUNCH = join(BRINGUP, 'launch/cerebellum.launch.py');
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

const tmp = mkdtempSync(join(tmpdir(), 'pons-ros-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@' });

function readXml(path: string): Record<string, unknown> {
  const text = readFileSync(path, 'utf8');
  const valid = XMLValidator.validate(text);
  expect(valid, `${path}: ${JSON.stringify(valid)}`).toBe(true);
  return xml.parse(text) as Record<string, unknown>;
}

function list(value: unknown): unknown[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** The arm's movable joints, in URDF order. */
function urdfJoints(): string[] {
  const robot = readXml(join(ROOT, 'sim/planar_arm.urdf')).robot as { joint: unknown };
  return list(robot.joint)
    .map((j) => j as Record<string, string>)
    .filter((j) => j['@type'] !== 'fixed')
    .map((j) => j['@name'] as string);
}

describe('ros/pons_msgs', () => {
  it('package.xml is a format-3 rosidl interface package', () => {
    const pkg = readXml(join(MSGS, 'package.xml')).package as Record<string, unknown>;
    expect(pkg['@format']).toBe('3');
    expect(pkg.name).toBe('pons_msgs');
    expect(list(pkg.buildtool_depend)).toEqual(['ament_cmake', 'rosidl_default_generators']);
    expect(list(pkg.depend)).toEqual(['builtin_interfaces', 'std_msgs']);
    expect(pkg.exec_depend).toBe('rosidl_default_runtime');
    expect(pkg.member_of_group).toBe('rosidl_interface_packages');
    expect((pkg.export as Record<string, string>).build_type).toBe('ament_cmake');
  });

  it('CMakeLists.txt generates every .msg file, with its dependencies', () => {
    const cmake = readFileSync(join(MSGS, 'CMakeLists.txt'), 'utf8');
    const call = /rosidl_generate_interfaces\(\$\{PROJECT_NAME\}([^)]*)\)/.exec(cmake)?.[1] ?? '';
    const listed = [...call.matchAll(/"(msg\/[^"]+)"/g)].map((m) => m[1]).sort();
    const files = readdirSync(join(MSGS, 'msg'))
      .map((f) => `msg/${f}`)
      .sort();
    expect(listed).toEqual(files);
    expect(call).toMatch(/DEPENDENCIES builtin_interfaces std_msgs/);
    for (const pkg of [
      'ament_cmake',
      'rosidl_default_generators',
      'builtin_interfaces',
      'std_msgs',
    ]) {
      expect(cmake).toContain(`find_package(${pkg} REQUIRED)`);
    }
    expect(cmake.trimEnd().endsWith('ament_package()')).toBe(true);
  });
});

describe('ros/pons_bringup', () => {
  it('package.xml is well formed and names the launch dependencies', () => {
    const pkg = readXml(join(BRINGUP, 'package.xml')).package as Record<string, unknown>;
    expect(pkg['@format']).toBe('3');
    expect(pkg.name).toBe('pons_bringup');
    for (const dep of [
      'launch_ros',
      'controller_manager',
      'joint_trajectory_controller',
      'forward_command_controller',
      'joint_state_broadcaster',
      'robot_state_publisher',
    ]) {
      expect(list(pkg.exec_depend)).toContain(dep);
    }
    expect(readFileSync(join(BRINGUP, 'CMakeLists.txt'), 'utf8')).toContain(
      'install(DIRECTORY launch config DESTINATION share/$' + '{PROJECT_NAME})',
    );
  });

  it("controllers.yaml is ros2_control parameter YAML for the arm's joints", () => {
    const params = parseYaml(
      readFileSync(join(BRINGUP, 'config/controllers.yaml'), 'utf8'),
    ) as Record<string, { ros__parameters: Record<string, unknown> }>;
    const manager = params.controller_manager?.ros__parameters ?? {};
    expect(manager.update_rate).toBeGreaterThan(0);
    expect(manager.joint_trajectory_controller).toEqual({
      type: 'joint_trajectory_controller/JointTrajectoryController',
    });
    expect(manager.forward_command_controller).toEqual({
      type: 'forward_command_controller/ForwardCommandController',
    });
    expect(manager.joint_state_broadcaster).toEqual({
      type: 'joint_state_broadcaster/JointStateBroadcaster',
    });

    const joints = urdfJoints();
    expect(joints).toEqual(['shoulder_joint', 'elbow_joint', 'wrist_joint']);
    const spec = loadActionSpec(join(ROOT, 'calibration/planar-arm/action_spec.yaml'));
    expect(spec.dimensions.map((d) => d.name)).toEqual(joints);

    const jtc = params.joint_trajectory_controller?.ros__parameters ?? {};
    expect(jtc.joints).toEqual(joints);
    expect(jtc.command_interfaces).toEqual(['position']);
    expect(jtc.allow_partial_joints_goal).toBe(false);
    const fwd = params.forward_command_controller?.ros__parameters ?? {};
    expect(fwd.joints).toEqual(joints);
    expect(fwd.interface_name).toBe('position');
  });

  it('cerebellum.yaml is a valid robot profile publishing to those controllers', () => {
    const profile = loadProfile(join(BRINGUP, 'config/cerebellum.yaml'));
    for (const path of [profile.spec, profile.robot.urdf, profile.robot.joint_limits ?? '']) {
      expect(existsSync(path), path).toBe(true);
    }
    const output = profile.cerebellum.output;
    expect(output.kind).toBe('ros');
    if (output.kind !== 'ros') return;
    expect(output.trajectory_topic).toBe('/joint_trajectory_controller/joint_trajectory');
    expect(output.forward_topic).toBe('/forward_command_controller/commands');
  });

  it('the launch file compiles with the system Python', () => {
    execFileSync(PYTHON, [
      '-c',
      'import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)',
      LAUNCH,
      join(tmp, 'launch.pyc'),
    ]);
  });

  it('starts ros2_control, the spawners and `pons cerebellum --output ros` with use_sim_time', () => {
    const actions = runLaunch({
      use_sim_time: 'true',
      command: 'trajectory',
      pons_executable: 'pons',
    });

    const rsp = one(actions, (a) => a.package === 'robot_state_publisher');
    const description = (rsp.parameters as Record<string, unknown>[])[0]
      ?.robot_description as string;
    expect(XMLValidator.validate(description)).toBe(true);
    const control = (xml.parse(description).robot as Record<string, Record<string, unknown>>)
      .ros2_control;
    expect((control?.hardware as Record<string, string> | undefined)?.plugin).toBe(
      'mock_components/GenericSystem',
    );
    expect(list(control?.joint).map((j) => (j as Record<string, string>)['@name'])).toEqual(
      urdfJoints(),
    );

    const manager = one(actions, (a) => a.executable === 'ros2_control_node');
    expect(manager.parameters).toContainEqual(join(BRINGUP, 'config/controllers.yaml'));
    expect(manager.parameters).toContainEqual({ use_sim_time: true });

    const spawned = actions
      .filter((a) => a.executable === 'spawner')
      .map((a) =>
        (a.arguments as string[]).filter((x) => !x.startsWith('/') && !x.endsWith('.yaml')),
      );
    expect(spawned).toEqual([
      ['joint_state_broadcaster', '--controller-manager'],
      ['forward_command_controller', '--controller-manager', '--param-file', '--inactive'],
      ['joint_trajectory_controller', '--controller-manager', '--param-file'],
    ]);

    const pons = one(actions, (a) => a.kind === 'ExecuteProcess');
    expect(pons.cmd).toEqual([
      'pons',
      'cerebellum',
      '--config',
      join(BRINGUP, 'config/cerebellum.yaml'),
      '--output',
      'ros',
      '--ros-args',
      '-r',
      '__node:=pons_cerebellum',
      '-p',
      'use_sim_time:=true',
    ]);
    expect(pons.cwd).toBe(ROOT);
  });

  it('leaves the controller manager to Gazebo with hardware:=gazebo, and defaults to wall time', () => {
    const actions = runLaunch({ hardware: 'gazebo', pons_executable: 'pons' });
    expect(actions.some((a) => a.executable === 'ros2_control_node')).toBe(false);
    const rsp = one(actions, (a) => a.package === 'robot_state_publisher');
    expect(JSON.stringify(rsp.parameters)).toContain('gz_ros2_control/GazeboSimSystem');
    expect((one(actions, (a) => a.kind === 'ExecuteProcess').cmd as string[]).at(-1)).toBe(
      'use_sim_time:=false',
    );
  });

  it('refuses an unknown command controller', () => {
    expect(() => runLaunch({ command: 'velocity', pons_executable: 'pons' })).toThrow(
      /command must be one of/,
    );
  });
});

function one(
  actions: Record<string, unknown>[],
  predicate: (a: Record<string, unknown>) => boolean,
): Record<string, unknown> {
  const found = actions.filter(predicate);
  expect(found).toHaveLength(1);
  return found[0] as Record<string, unknown>;
}

/**
 * Runs the launch file's generate_launch_description() and its OpaqueFunction against stand-ins
 * for launch/launch_ros that record what would be started, and returns those actions.
 */
function runLaunch(args: Record<string, string>): Record<string, unknown>[] {
  const stubs = join(tmp, 'stubs');
  if (!existsSync(stubs)) writeStubs(stubs);
  const script = `
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("cerebellum_launch", sys.argv[1])
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
description = mod.generate_launch_description()
context = {a.name: a.default_value for a in description.entities if a.kind == "DeclareLaunchArgument"}
context.update(json.loads(sys.argv[2]))
context["__share__"] = sys.argv[3]
out = []
for entity in description.entities:
    if entity.kind == "OpaqueFunction":
        for action in entity.function(context):
            out.append(action.record())
print(json.dumps(out))
`;
  const stdout = execFileSync(PYTHON, ['-c', script, LAUNCH, JSON.stringify(args), BRINGUP], {
    env: { ...process.env, PYTHONPATH: stubs, PYTHONDONTWRITEBYTECODE: '1', PONS_ROOT: '' },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return JSON.parse(stdout) as Record<string, unknown>[];
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
        out.update({k: v for k, v in self.kwargs.items()})
        return out
`,
    'launch/actions.py': `
from launch._record import Recorded
class DeclareLaunchArgument(Recorded): pass
class ExecuteProcess(Recorded): pass
class LogInfo(Recorded): pass
class OpaqueFunction(Recorded): pass
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
        return context["__share__"]
`,
  };
  for (const [name, text] of Object.entries(files)) {
    const path = join(dir, name);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, text);
  }
}

/**
 * The ROS 2 packages under ros/ are checked for what can be checked without ROS 2: XML and YAML
 * well formed and consistent with each other, the launch file compiles, and its setup runs
 * against a tiny stand-in of the `launch`/`launch_ros` Python API (which cannot be installed
 * here) and starts what it should.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLValidator } from 'fast-xml-parser';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadActionSpec } from '../../src/contract/index.js';
import { loadProfile } from '../../src/nodes/profile.js';
import {
  BRINGUP,
  compileLaunch,
  list,
  one,
  ROOT,
  readXml,
  runLaunch,
  urdfJoints,
  xml,
} from '../helpers/ros-launch.js';

const MSGS = join(ROOT, 'ros/pons_msgs');
const LAUNCH = join(BRINGUP, 'launch/cerebellum.launch.py');

const tmp = mkdtempSync(join(tmpdir(), 'pons-ros-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

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
    compileLaunch(LAUNCH, tmp);
  });

  it('starts ros2_control, the spawners and `pons cerebellum --output ros` with use_sim_time', () => {
    const actions = runLaunch(
      LAUNCH,
      { use_sim_time: 'true', command: 'trajectory', pons_executable: 'pons' },
      tmp,
    );

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
    const actions = runLaunch(LAUNCH, { hardware: 'gazebo', pons_executable: 'pons' }, tmp);
    expect(actions.some((a) => a.executable === 'ros2_control_node')).toBe(false);
    const rsp = one(actions, (a) => a.package === 'robot_state_publisher');
    expect(JSON.stringify(rsp.parameters)).toContain('gz_ros2_control/GazeboSimSystem');
    expect((one(actions, (a) => a.kind === 'ExecuteProcess').cmd as string[]).at(-1)).toBe(
      'use_sim_time:=false',
    );
  });

  it('refuses an unknown command controller', () => {
    expect(() => runLaunch(LAUNCH, { command: 'velocity', pons_executable: 'pons' }, tmp)).toThrow(
      /command must be one of/,
    );
  });
});

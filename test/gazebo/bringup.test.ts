/**
 * The Gazebo bringup, checked without ROS 2 or Gazebo: the launch file compiles and, run against
 * the stand-in launch API, starts gz sim with the world, the bridge, gz_ros2_control's
 * description, the spawners and both pons nodes on sim time, naming files that exist; the bridge,
 * the world, the controllers and the Gazebo robot profile agree on topics and joints.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLValidator } from 'fast-xml-parser';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadJointLimits } from '../../src/cerebellum/joint-limits.js';
import { loadActionSpec } from '../../src/contract/index.js';
import { loadProfile } from '../../src/nodes/profile.js';
import {
  BRINGUP,
  compileLaunch,
  list,
  one,
  type Recorded,
  ROOT,
  readXml,
  runLaunch,
  urdfJoints,
  xml,
} from '../helpers/ros-launch.js';

const LAUNCH = join(BRINGUP, 'launch/gazebo.launch.py');
const WORLD = join(ROOT, 'sim/gazebo/planar_arm.sdf');
const BRIDGE = join(ROOT, 'sim/gazebo/bridge.yaml');
const CONTROLLERS = join(BRINGUP, 'config/controllers.yaml');
const PROFILE = join(ROOT, 'calibration/planar-arm/robot-gazebo.yaml');
const URDF = join(ROOT, 'sim/planar_arm.urdf');

const tmp = mkdtempSync(join(tmpdir(), 'pons-gazebo-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const launch = (args: Record<string, string> = {}) =>
  runLaunch(LAUNCH, { pons_executable: 'pons', ...args }, tmp);

interface BridgeEntry {
  ros_topic_name: string;
  gz_topic_name: string;
  ros_type_name: string;
  gz_type_name: string;
  direction: 'BIDIRECTIONAL' | 'GZ_TO_ROS' | 'ROS_TO_GZ';
  lazy?: boolean;
}

const bridge = parseYaml(readFileSync(BRIDGE, 'utf8')) as BridgeEntry[];
const profile = loadProfile(PROFILE);

function bridged(rosType: string): BridgeEntry {
  const found = bridge.filter((e) => e.ros_type_name === rosType);
  expect(found, rosType).toHaveLength(1);
  return found[0] as BridgeEntry;
}

/** The camera sensor's topics as Gazebo transport names them (absolute). */
function sensorTopics() {
  const sdf = readXml(WORLD).sdf as { world: { model: Recorded[] } };
  const camera = sdf.world.model.find((m) => m['@name'] === 'overhead_camera') as Recorded;
  const sensor = (camera.link as Recorded).sensor as Recorded;
  const absolute = (t: unknown) => (String(t).startsWith('/') ? String(t) : `/${t}`);
  return {
    image: absolute(sensor.topic),
    info: absolute((sensor.camera as Recorded).camera_info_topic),
  };
}

/** The robot description robot_state_publisher is given, parsed. */
function description(actions: Recorded[]) {
  const rsp = one(actions, (a) => a.package === 'robot_state_publisher');
  const params = (rsp.parameters as Recorded[])[0] as Recorded;
  expect(params.use_sim_time).toBe(true);
  const text = params.robot_description as string;
  expect(XMLValidator.validate(text)).toBe(true);
  return xml.parse(text).robot as Recorded;
}

/** Absolute paths inside the checkout that a recorded launch names. */
function checkoutPaths(actions: Recorded[]): string[] {
  const found = new Set<string>();
  const inCheckout = new RegExp(`${ROOT.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/[^\\s'"<>,]+`, 'g');
  const visit = (value: unknown) => {
    if (typeof value === 'string') {
      for (const m of value.matchAll(inCheckout)) found.add(m[0]);
    } else if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === 'object') Object.values(value).forEach(visit);
  };
  visit(actions);
  return [...found];
}

describe('ros/pons_bringup/launch/gazebo.launch.py', () => {
  it('compiles with the system Python', () => {
    compileLaunch(LAUNCH, tmp);
  });

  it('starts gz sim on the world through ros_gz_sim, running, with a GUI unless gui:=false', () => {
    const include = one(launch(), (a) => a.kind === 'IncludeLaunchDescription');
    const source = (include.args as Recorded[])[0] as Recorded;
    expect(source.args).toEqual(['/opt/ros/jazzy/share/ros_gz_sim/launch/gz_sim.launch.py']);
    const args = new Map(include.launch_arguments as [string, string][]);
    const gzArgs = (args.get('gz_args') ?? '').split(' ');
    expect(gzArgs.at(-1)).toBe(WORLD);
    expect(gzArgs).toContain('-r');
    expect(gzArgs).not.toContain('-s');
    expect(args.get('on_exit_shutdown')).toBe('true');

    const headless = one(launch({ gui: 'false' }), (a) => a.kind === 'IncludeLaunchDescription');
    const headlessArgs = new Map(headless.launch_arguments as [string, string][]);
    expect(headlessArgs.get('gz_args')?.split(' ')).toEqual(
      expect.arrayContaining(['-r', '-s', '--headless-rendering', WORLD]),
    );
  });

  it('spawns the arm from /robot_description and bridges with sim/gazebo/bridge.yaml', () => {
    const actions = launch();
    const spawn = one(actions, (a) => a.package === 'ros_gz_sim' && a.executable === 'create');
    const spawnArgs = spawn.arguments as string[];
    expect(spawnArgs[spawnArgs.indexOf('-topic') + 1]).toBe('robot_description');
    const node = one(actions, (a) => a.executable === 'parameter_bridge');
    expect(node.package).toBe('ros_gz_bridge');
    expect(node.parameters).toEqual([{ config_file: BRIDGE, use_sim_time: true }]);
  });

  it("describes the arm with a gz_ros2_control block on the URDF's joints and limits", () => {
    const robot = description(launch());
    const control = robot.ros2_control as Recorded;
    expect((control.hardware as Recorded).plugin).toBe('gz_ros2_control/GazeboSimSystem');

    const joints = list(control.joint) as Recorded[];
    const names = joints.map((j) => j['@name'] as string);
    const spec = loadActionSpec(join(ROOT, 'calibration/planar-arm/action_spec.yaml'));
    expect(names).toEqual(urdfJoints());
    expect(names).toEqual(spec.dimensions.map((d) => d.name));
    const params = parseYaml(readFileSync(CONTROLLERS, 'utf8')) as Record<
      string,
      { ros__parameters: { joints?: string[] } }
    >;
    expect(params.joint_trajectory_controller?.ros__parameters.joints).toEqual(names);
    expect(params.forward_command_controller?.ros__parameters.joints).toEqual(names);

    // The command limits are the URDF's, and the joint_limits YAML does not narrow them (the
    // cerebellum's safety filter uses the tighter of the two).
    const urdfOnly = loadJointLimits({ urdf: URDF, joints: names });
    const combined = loadJointLimits({
      urdf: URDF,
      jointLimitsYaml: join(ROOT, 'calibration/planar-arm/joint_limits.yaml'),
      joints: names,
    });
    joints.forEach((joint, i) => {
      const command = joint.command_interface as Recorded;
      expect(command['@name']).toBe('position');
      const param = new Map(
        (list(command.param) as Recorded[]).map((p) => [p['@name'], Number(p['#text'])]),
      );
      expect([param.get('min'), param.get('max')], names[i]).toEqual([
        urdfOnly.lower[i],
        urdfOnly.upper[i],
      ]);
      expect([combined.lower[i], combined.upper[i]], names[i]).toEqual([
        urdfOnly.lower[i],
        urdfOnly.upper[i],
      ]);
      const states = (list(joint.state_interface) as Recorded[]).map((s) => s['@name']);
      expect(states).toEqual(['position', 'velocity']);
    });

    const plugin = (robot.gazebo as Recorded).plugin as Recorded;
    expect(plugin['@filename']).toBe('gz_ros2_control-system');
    expect(plugin['@name']).toBe('gz_ros2_control::GazeboSimROS2ControlPlugin');
    expect(plugin.parameters).toBe(CONTROLLERS);
  });

  it('leaves the controller manager to Gazebo and spawns the controllers with time to wait', () => {
    const actions = launch();
    expect(actions.some((a) => a.executable === 'ros2_control_node')).toBe(false);
    const spawners = actions.filter((a) => a.executable === 'spawner');
    const spawned = spawners.map((a) => {
      const args = a.arguments as string[];
      expect(Number(args[args.indexOf('--controller-manager-timeout') + 1])).toBeGreaterThan(10);
      expect(a.parameters).toEqual([{ use_sim_time: true }]);
      return [args[0], args.includes('--inactive') ? 'inactive' : 'active'];
    });
    // The profile commands a JointTrajectoryController: that one is active.
    expect(spawned).toEqual([
      ['joint_state_broadcaster', 'active'],
      ['forward_command_controller', 'inactive'],
      ['joint_trajectory_controller', 'active'],
    ]);
    for (const spawner of spawners.slice(1)) {
      const args = spawner.arguments as string[];
      expect(args[args.indexOf('--param-file') + 1]).toBe(CONTROLLERS);
    }
  });

  it('runs pons brain and pons cerebellum on the Gazebo profile with use_sim_time', () => {
    const actions = launch();
    const pons = actions.filter((a) => a.kind === 'ExecuteProcess');
    const rosArgs = (role: string) => [
      '--ros-args',
      '-r',
      `__node:=pons_${role}`,
      '-p',
      'use_sim_time:=true',
    ];
    expect(pons.map((p) => p.cmd)).toEqual(
      expect.arrayContaining([
        ['pons', 'brain', '--config', PROFILE, ...rosArgs('brain')],
        ['pons', 'cerebellum', '--config', PROFILE, '--output', 'ros', ...rosArgs('cerebellum')],
      ]),
    );
    expect(pons).toHaveLength(2);
    for (const p of pons) expect(p.cwd).toBe(ROOT);
  });

  it('names only files that exist', () => {
    const paths = checkoutPaths(launch());
    for (const file of [WORLD, BRIDGE, CONTROLLERS, PROFILE]) expect(paths).toContain(file);
    for (const path of paths) expect(existsSync(path), path).toBe(true);
  });

  it('refuses a world that does not exist', () => {
    expect(() => launch({ world: join(tmp, 'missing.sdf') })).toThrow(/no such file/);
  });
});

describe('sim/gazebo/bridge.yaml', () => {
  it("bridges /clock and the Gazebo profile's camera from the world's sensor, Gazebo to ROS", () => {
    const types: Record<string, string> = {
      'rosgraph_msgs/msg/Clock': 'gz.msgs.Clock',
      'sensor_msgs/msg/Image': 'gz.msgs.Image',
      'sensor_msgs/msg/CameraInfo': 'gz.msgs.CameraInfo',
    };
    expect(bridge.map((e) => e.ros_type_name).sort()).toEqual(Object.keys(types).sort());
    for (const entry of bridge) {
      expect(entry.gz_type_name, entry.ros_topic_name).toBe(types[entry.ros_type_name]);
      expect(entry.direction, entry.ros_topic_name).toBe('GZ_TO_ROS');
    }

    const clock = bridged('rosgraph_msgs/msg/Clock');
    expect([clock.ros_topic_name, clock.gz_topic_name]).toEqual(['/clock', '/clock']);

    const camera = profile.brain.cameras[0];
    expect(profile.brain.source).toBe('ros');
    expect(camera?.compressed).toBe(false);
    const image = bridged('sensor_msgs/msg/Image');
    const info = bridged('sensor_msgs/msg/CameraInfo');
    expect(image.ros_topic_name).toBe(camera?.topic);
    // camera_info beside the image, as image_transport's camera subscribers expect.
    expect(info.ros_topic_name).toBe(image.ros_topic_name.replace(/[^/]+$/, 'camera_info'));
    const sensor = sensorTopics();
    expect(image.gz_topic_name).toBe(sensor.image);
    expect(info.gz_topic_name).toBe(sensor.info);
  });

  it("leaves joint states and commands to ros2_control, where the profile's topics are", () => {
    const output = profile.cerebellum.output;
    expect(output.kind).toBe('ros');
    if (output.kind !== 'ros') return;
    // joint_state_broadcaster's topic, and the active controller's (see the spawners above).
    expect(output.joint_states_topic).toBe('/joint_states');
    expect(profile.brain.joint_states_topic).toBe('/joint_states');
    expect(output.command).toBe('trajectory');
    expect(output.trajectory_topic).toBe('/joint_trajectory_controller/joint_trajectory');
    const rosTopics = bridge.map((e) => e.ros_topic_name);
    expect(rosTopics).not.toContain(output.joint_states_topic);
    expect(rosTopics).not.toContain(output.trajectory_topic);
  });
});

describe('ros/pons_bringup for Gazebo', () => {
  it('package.xml depends on ros_gz_sim, ros_gz_bridge and gz_ros2_control', () => {
    const pkg = readXml(join(BRINGUP, 'package.xml')).package as Recorded;
    expect(list(pkg.exec_depend)).toEqual(
      expect.arrayContaining(['ros_gz_sim', 'ros_gz_bridge', 'gz_ros2_control']),
    );
  });

  it("ros/README.md says how to run an episode with this launch file and the profile's topic", () => {
    const readme = readFileSync(join(ROOT, 'ros/README.md'), 'utf8');
    const start = readme.indexOf('## Running an episode in Gazebo');
    expect(start).toBeGreaterThanOrEqual(0);
    const section = readme.slice(start);
    expect(section).toContain('ros2 launch pons_bringup gazebo.launch.py');
    expect(section).toContain(`ros2 topic pub --once ${profile.brain.instruction_topic}`);
    for (const pkg of ['ros-jazzy-ros-gz', 'ros-jazzy-gz-ros2-control']) {
      expect(section).toContain(pkg);
    }
    const main = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(main).toContain('ros/README.md#running-an-episode-in-gazebo');
  });
});

"""Start the pons cerebellum beside ros2_control for the bundled planar arm.

    ros2 launch pons_bringup cerebellum.launch.py [use_sim_time:=true] [command:=trajectory]

Starts:
  * robot_state_publisher with the arm's URDF (sim/planar_arm.urdf), to which a <ros2_control>
    block is added when the file has none (hardware plugin from the `hardware` argument);
  * ros2_control's controller_manager (ros2_control_node) with config/controllers.yaml, unless
    `hardware` is gazebo (gz_ros2_control runs the controller manager inside Gazebo then);
  * spawners: joint_state_broadcaster, and both command controllers, the one named by `command`
    active, the other loaded inactive (they claim the same position interfaces);
  * the pons cerebellum as a process: `pons cerebellum --config <profile> --output ros`.

pons itself is a Node.js program: the launch finds it through `pons_root` (a checkout where
`npm ci && npm run build` ran; default: $PONS_ROOT, else the checkout this file lives in when
the workspace was built with --symlink-install), or runs `pons_executable` when given.
"""

import os
import shutil

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, ExecuteProcess, LogInfo, OpaqueFunction
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare

JOINTS = ("shoulder_joint", "elbow_joint", "wrist_joint")
COMMAND_CONTROLLERS = {
    "forward": "forward_command_controller",
    "trajectory": "joint_trajectory_controller",
}
HARDWARE_PLUGINS = {
    "mock": "mock_components/GenericSystem",
    "gazebo": "gz_ros2_control/GazeboSimSystem",
}


def find_pons_root(given):
    """The pons checkout: the argument, $PONS_ROOT, or the one holding this file."""
    candidates = [given, os.environ.get("PONS_ROOT", "")]
    here = os.path.dirname(os.path.realpath(__file__))
    while True:
        candidates.append(here)
        parent = os.path.dirname(here)
        if parent == here:
            break
        here = parent
    for path in candidates:
        if not path:
            continue
        manifest = os.path.join(path, "package.json")
        if os.path.isfile(manifest):
            with open(manifest, encoding="utf-8") as f:
                if '"name": "pons"' in f.read():
                    return os.path.realpath(path)
    raise RuntimeError(
        "cannot find the pons checkout: pass pons_root:=<path> or set PONS_ROOT "
        "(or build this workspace with colcon build --symlink-install)"
    )


def ros2_control_block(plugin):
    """A <ros2_control> system for the three position-controlled joints."""
    joints = "".join(
        f"""
    <joint name="{name}">
      <command_interface name="position">
        <param name="min">-2.6</param>
        <param name="max">2.6</param>
      </command_interface>
      <state_interface name="position">
        <param name="initial_value">0.0</param>
      </state_interface>
      <state_interface name="velocity"/>
    </joint>"""
        for name in JOINTS
    )
    return f"""
  <ros2_control name="planar_arm" type="system">
    <hardware>
      <plugin>{plugin}</plugin>
    </hardware>{joints}
  </ros2_control>
"""


def robot_description(urdf_path, hardware):
    with open(urdf_path, encoding="utf-8") as f:
        urdf = f.read()
    if "<ros2_control" not in urdf:
        end = urdf.rindex("</robot>")
        urdf = urdf[:end] + ros2_control_block(HARDWARE_PLUGINS[hardware]) + urdf[end:]
    return urdf


def launch_setup(context):
    def arg(name):
        return LaunchConfiguration(name).perform(context)

    use_sim_time = arg("use_sim_time").lower() in ("true", "1", "yes")
    command = arg("command")
    hardware = arg("hardware")
    if command not in COMMAND_CONTROLLERS:
        raise RuntimeError(f"command must be one of {sorted(COMMAND_CONTROLLERS)}, got {command!r}")
    if hardware not in HARDWARE_PLUGINS:
        raise RuntimeError(f"hardware must be one of {sorted(HARDWARE_PLUGINS)}, got {hardware!r}")

    share = FindPackageShare("pons_bringup").perform(context)
    pons_root = find_pons_root(arg("pons_root"))
    urdf_path = arg("urdf") or os.path.join(pons_root, "sim", "planar_arm.urdf")
    controllers = arg("controllers") or os.path.join(share, "config", "controllers.yaml")
    # The profile's relative paths resolve against its real location (the source tree).
    profile = os.path.realpath(arg("profile") or os.path.join(share, "config", "cerebellum.yaml"))

    description = robot_description(urdf_path, hardware)
    actions = [
        Node(
            package="robot_state_publisher",
            executable="robot_state_publisher",
            parameters=[{"robot_description": description, "use_sim_time": use_sim_time}],
            output="screen",
        )
    ]

    if hardware != "gazebo":
        control_parameters = [controllers, {"use_sim_time": use_sim_time}]
        if os.environ.get("ROS_DISTRO", "") == "humble":
            # Humble's controller manager reads the description from a parameter; later
            # distributions subscribe to robot_state_publisher's topic.
            control_parameters.insert(0, {"robot_description": description})
        actions.append(
            Node(
                package="controller_manager",
                executable="ros2_control_node",
                parameters=control_parameters,
                remappings=[("~/robot_description", "/robot_description")],
                output="screen",
            )
        )

    def spawner(controller, *extra):
        return Node(
            package="controller_manager",
            executable="spawner",
            arguments=[controller, "--controller-manager", "/controller_manager", *extra],
            parameters=[{"use_sim_time": use_sim_time}],
            output="screen",
        )

    actions.append(spawner("joint_state_broadcaster"))
    for name, controller in COMMAND_CONTROLLERS.items():
        extra = () if name == command else ("--inactive",)
        actions.append(spawner(controller, "--param-file", controllers, *extra))

    executable = arg("pons_executable")
    if executable:
        pons = [executable]
    elif os.path.isfile(os.path.join(pons_root, "dist", "cli", "main.js")):
        pons = [shutil.which("node") or "node", os.path.join(pons_root, "dist", "cli", "main.js")]
    else:
        raise RuntimeError(f"{pons_root}: pons is not built; run npm ci && npm run build there")

    actions += [
        LogInfo(msg=f"pons cerebellum: profile {profile}, command {command}"),
        ExecuteProcess(
            cmd=[
                *pons,
                "cerebellum",
                "--config",
                profile,
                "--output",
                "ros",
                # ROS arguments for rclnodejs: node name, and ROS time following /clock.
                "--ros-args",
                "-r",
                "__node:=pons_cerebellum",
                "-p",
                f"use_sim_time:={'true' if use_sim_time else 'false'}",
            ],
            cwd=pons_root,
            name="pons_cerebellum",
            output="screen",
            # pons stops cleanly on SIGINT (commands decelerate to a hold first).
            sigterm_timeout="5",
            sigkill_timeout="5",
        ),
    ]
    return actions


def generate_launch_description():
    return LaunchDescription(
        [
            DeclareLaunchArgument(
                "use_sim_time",
                default_value="false",
                description="Follow /clock (Gazebo, ros2 bag play --clock) instead of the wall clock.",
            ),
            DeclareLaunchArgument(
                "command",
                default_value="forward",
                description="Active command controller: forward (Float64MultiArray) or "
                "trajectory (JointTrajectory); match the profile's cerebellum.output.command.",
            ),
            DeclareLaunchArgument(
                "hardware",
                default_value="mock",
                description="ros2_control hardware for a URDF without <ros2_control>: "
                "mock (mock_components) or gazebo (gz_ros2_control, controller manager in Gazebo).",
            ),
            DeclareLaunchArgument(
                "profile",
                default_value="",
                description="pons robot profile (default: this package's config/cerebellum.yaml).",
            ),
            DeclareLaunchArgument(
                "controllers",
                default_value="",
                description="ros2_control parameter file (default: config/controllers.yaml).",
            ),
            DeclareLaunchArgument(
                "urdf",
                default_value="",
                description="Robot description (default: <pons_root>/sim/planar_arm.urdf).",
            ),
            DeclareLaunchArgument(
                "pons_root",
                default_value="",
                description="The pons checkout (default: $PONS_ROOT or this file's checkout).",
            ),
            DeclareLaunchArgument(
                "pons_executable",
                default_value="",
                description="Run this instead of node <pons_root>/dist/cli/main.js (e.g. pons).",
            ),
            OpaqueFunction(function=launch_setup),
        ]
    )

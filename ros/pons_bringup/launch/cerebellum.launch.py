"""Start the pons cerebellum beside ros2_control for the bundled planar arm.

    ros2 launch pons_bringup cerebellum.launch.py [use_sim_time:=true] [command:=trajectory]

Starts:
  * robot_state_publisher with the arm's URDF (sim/planar_arm.urdf), to which a <ros2_control>
    block for its movable joints is added when the file has none (hardware plugin from the
    `hardware` argument; with gazebo also the gz_ros2_control-system plugin that runs the
    controller manager inside Gazebo with config/controllers.yaml);
  * ros2_control's controller_manager (ros2_control_node) with config/controllers.yaml, unless
    `hardware` is gazebo (gz_ros2_control runs the controller manager inside Gazebo then);
  * spawners: joint_state_broadcaster, and both command controllers, the one named by `command`
    active, the other loaded inactive (they claim the same position interfaces);
  * the pons cerebellum as a process: `pons cerebellum --config <profile> --output ros`.

pons itself is a Node.js program: the launch finds it through `pons_root` (a checkout where
`npm ci && npm run build` ran; default: $PONS_ROOT, else the checkout this file lives in when
the workspace was built with --symlink-install), or runs `pons_executable` when given.

gazebo.launch.py imports this file for the same actions (`bringup_actions`).
"""

import os
import shutil
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, ExecuteProcess, LogInfo, OpaqueFunction
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare

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


def movable_joints(urdf):
    """(name, lower, upper) of the URDF's movable joints in file order; a continuous joint has
    no position limits (None)."""
    joints = []
    for joint in ET.fromstring(urdf).findall("joint"):
        kind = joint.get("type")
        if kind in ("revolute", "prismatic"):
            limit = joint.find("limit")  # required for these types
            joints.append((joint.get("name"), limit.get("lower"), limit.get("upper")))
        elif kind == "continuous":
            joints.append((joint.get("name"), None, None))
    return joints


def ros2_control_block(plugin, joints):
    """A <ros2_control> system commanding `joints` by position, within the URDF's limits."""

    def command_interface(lower, upper):
        if lower is None:
            return '<command_interface name="position"/>'
        return f"""<command_interface name="position">
        <param name="min">{lower}</param>
        <param name="max">{upper}</param>
      </command_interface>"""

    body = "".join(
        f"""
    <joint name="{name}">
      {command_interface(lower, upper)}
      <state_interface name="position">
        <param name="initial_value">0.0</param>
      </state_interface>
      <state_interface name="velocity"/>
    </joint>"""
        for name, lower, upper in joints
    )
    return f"""
  <ros2_control name="planar_arm" type="system">
    <hardware>
      <plugin>{plugin}</plugin>
    </hardware>{body}
  </ros2_control>
"""


def gazebo_control_plugin(controllers):
    """The Gazebo system that runs the controller manager (always on sim time) with `controllers`;
    it reads the description from robot_state_publisher's topic."""
    return f"""
  <gazebo>
    <plugin filename="gz_ros2_control-system" name="gz_ros2_control::GazeboSimROS2ControlPlugin">
      <parameters>{escape(controllers)}</parameters>
    </plugin>
  </gazebo>
"""


def robot_description(urdf_path, hardware, controllers):
    with open(urdf_path, encoding="utf-8") as f:
        urdf = f.read()
    additions = ""
    if "<ros2_control" not in urdf:
        additions += ros2_control_block(HARDWARE_PLUGINS[hardware], movable_joints(urdf))
    if hardware == "gazebo" and "gz_ros2_control-system" not in urdf:
        additions += gazebo_control_plugin(controllers)
    end = urdf.rindex("</robot>")
    return urdf[:end] + additions + urdf[end:]


def pons_command(pons_root, executable):
    """How to run pons: `executable` when given, else the checkout's built CLI under node."""
    if executable:
        return [executable]
    main = os.path.join(pons_root, "dist", "cli", "main.js")
    if os.path.isfile(main):
        return [shutil.which("node") or "node", main]
    raise RuntimeError(f"{pons_root}: pons is not built; run npm ci && npm run build there")


def pons_process(pons, role, profile, pons_root, use_sim_time, *flags):
    """`pons <role> --config <profile> <flags> --ros-args …` as a launch process."""
    return ExecuteProcess(
        cmd=[
            *pons,
            role,
            "--config",
            profile,
            *flags,
            # ROS arguments for rclnodejs: node name, and ROS time following /clock.
            "--ros-args",
            "-r",
            f"__node:=pons_{role}",
            "-p",
            f"use_sim_time:={'true' if use_sim_time else 'false'}",
        ],
        cwd=pons_root,
        name=f"pons_{role}",
        output="screen",
        # pons stops cleanly on SIGINT (the cerebellum decelerates to a hold first).
        sigterm_timeout="5",
        sigkill_timeout="5",
    )


def bringup_actions(
    *, pons, pons_root, urdf_path, controllers, profile, hardware, command, use_sim_time
):
    """robot_state_publisher, the controller manager (unless Gazebo runs it), the spawners and
    `pons cerebellum --output ros`."""
    if command not in COMMAND_CONTROLLERS:
        raise RuntimeError(f"command must be one of {sorted(COMMAND_CONTROLLERS)}, got {command!r}")
    if hardware not in HARDWARE_PLUGINS:
        raise RuntimeError(f"hardware must be one of {sorted(HARDWARE_PLUGINS)}, got {hardware!r}")
    description = robot_description(urdf_path, hardware, controllers)
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

    # Gazebo's controller manager exists only once the model is spawned, which takes longer
    # than the spawner waits by default.
    wait = ("--controller-manager-timeout", "120") if hardware == "gazebo" else ()

    def spawner(controller, *extra):
        return Node(
            package="controller_manager",
            executable="spawner",
            arguments=[controller, "--controller-manager", "/controller_manager", *wait, *extra],
            parameters=[{"use_sim_time": use_sim_time}],
            output="screen",
        )

    actions.append(spawner("joint_state_broadcaster"))
    for name, controller in COMMAND_CONTROLLERS.items():
        extra = () if name == command else ("--inactive",)
        actions.append(spawner(controller, "--param-file", controllers, *extra))

    actions += [
        LogInfo(msg=f"pons cerebellum: profile {profile}, command {command}"),
        pons_process(pons, "cerebellum", profile, pons_root, use_sim_time, "--output", "ros"),
    ]
    return actions


def launch_setup(context):
    def arg(name):
        return LaunchConfiguration(name).perform(context)

    share = FindPackageShare("pons_bringup").perform(context)
    pons_root = find_pons_root(arg("pons_root"))
    return bringup_actions(
        pons=pons_command(pons_root, arg("pons_executable")),
        pons_root=pons_root,
        urdf_path=arg("urdf") or os.path.join(pons_root, "sim", "planar_arm.urdf"),
        controllers=arg("controllers") or os.path.join(share, "config", "controllers.yaml"),
        # The profile's relative paths resolve against its real location (the source tree).
        profile=os.path.realpath(arg("profile") or os.path.join(share, "config", "cerebellum.yaml")),
        hardware=arg("hardware"),
        command=arg("command"),
        use_sim_time=arg("use_sim_time").lower() in ("true", "1", "yes"),
    )


def common_arguments():
    """The launch arguments every pons bringup takes: files and where pons is."""
    return [
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
    ]


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
                "mock (mock_components) or gazebo (gz_ros2_control, whose Gazebo plugin is added "
                "and runs the controller manager; see gazebo.launch.py).",
            ),
            DeclareLaunchArgument(
                "profile",
                default_value="",
                description="pons robot profile (default: this package's config/cerebellum.yaml).",
            ),
            *common_arguments(),
            OpaqueFunction(function=launch_setup),
        ]
    )

"""Run the bundled planar arm in Gazebo (gz sim Harmonic, ROS 2 Jazzy) with both pons nodes.

    ros2 launch pons_bringup gazebo.launch.py [gui:=false]

Starts:
  * gz sim with the world sim/gazebo/planar_arm.sdf (table, coloured blocks, goal zones, the
    overhead camera), through ros_gz_sim's gz_sim.launch.py;
  * what cerebellum.launch.py starts with hardware:=gazebo, on sim time: robot_state_publisher
    (the URDF with a gz_ros2_control <ros2_control> block and plugin), the spawners for
    joint_state_broadcaster and the command controllers, and
    `pons cerebellum --config <profile> --output ros`;
  * ros_gz_sim's `create`, which spawns the arm from the /robot_description topic; the
    gz_ros2_control plugin in it starts the controller manager inside Gazebo;
  * ros_gz_bridge with sim/gazebo/bridge.yaml (/clock, the overhead camera's image and
    camera_info);
  * `pons brain --config <profile>`, which sees the overhead camera and /joint_states and takes
    instructions on /pons/instruction.

Commands go ros2_control's way (joint_trajectory_controller on gz_ros2_control), the same path
as on mock hardware and a real robot; joint states come from joint_state_broadcaster.
"""

import importlib.util
import os
import shlex

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, IncludeLaunchDescription, OpaqueFunction
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare


def _cerebellum_launch():
    """cerebellum.launch.py beside this file, as a module: its helpers and actions are reused."""
    path = os.path.join(os.path.dirname(os.path.realpath(__file__)), "cerebellum.launch.py")
    spec = importlib.util.spec_from_file_location("pons_cerebellum_launch", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


cerebellum = _cerebellum_launch()


def launch_setup(context):
    def arg(name):
        return LaunchConfiguration(name).perform(context)

    share = FindPackageShare("pons_bringup").perform(context)
    pons_root = cerebellum.find_pons_root(arg("pons_root"))
    pons = cerebellum.pons_command(pons_root, arg("pons_executable"))
    world = arg("world") or os.path.join(pons_root, "sim", "gazebo", "planar_arm.sdf")
    bridge = arg("bridge") or os.path.join(pons_root, "sim", "gazebo", "bridge.yaml")
    # Relative paths in the profile resolve against its real location (the source tree).
    profile = os.path.realpath(
        arg("profile") or os.path.join(pons_root, "calibration", "planar-arm", "robot-gazebo.yaml")
    )
    for path in (world, bridge, profile):
        if not os.path.isfile(path):
            raise RuntimeError(f"{path}: no such file")

    # -r: run from the start, so /clock advances. Without a GUI the camera still renders,
    # offscreen (EGL).
    gz_args = ["-r", "-v", "2"]
    if arg("gui").lower() not in ("true", "1", "yes"):
        gz_args += ["-s", "--headless-rendering"]
    gz_sim = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(
            os.path.join(FindPackageShare("ros_gz_sim").perform(context), "launch", "gz_sim.launch.py")
        ),
        # gz_sim.launch.py runs `gz sim <gz_args>` through a shell.
        launch_arguments=[
            ("gz_args", " ".join([*gz_args, shlex.quote(world)])),
            ("on_exit_shutdown", "true"),
        ],
    )
    spawn = Node(
        package="ros_gz_sim",
        executable="create",
        arguments=["-topic", "robot_description", "-name", "planar_arm"],
        parameters=[{"use_sim_time": True}],
        output="screen",
    )
    bridge_node = Node(
        package="ros_gz_bridge",
        executable="parameter_bridge",
        parameters=[{"config_file": bridge, "use_sim_time": True}],
        output="screen",
    )
    control = cerebellum.bringup_actions(
        pons=pons,
        pons_root=pons_root,
        urdf_path=arg("urdf") or os.path.join(pons_root, "sim", "planar_arm.urdf"),
        controllers=arg("controllers") or os.path.join(share, "config", "controllers.yaml"),
        profile=profile,
        hardware="gazebo",
        command=arg("command"),
        use_sim_time=True,
    )
    brain = cerebellum.pons_process(pons, "brain", profile, pons_root, True)
    return [gz_sim, bridge_node, *control, spawn, brain]


def generate_launch_description():
    return LaunchDescription(
        [
            DeclareLaunchArgument(
                "gui",
                default_value="true",
                description="Open Gazebo's window; false runs the server only, rendering offscreen.",
            ),
            DeclareLaunchArgument(
                "command",
                default_value="trajectory",
                description="Active command controller (trajectory or forward); match the "
                "profile's cerebellum.output.command.",
            ),
            DeclareLaunchArgument(
                "profile",
                default_value="",
                description="pons robot profile for both nodes "
                "(default: <pons_root>/calibration/planar-arm/robot-gazebo.yaml).",
            ),
            DeclareLaunchArgument(
                "world",
                default_value="",
                description="Gazebo world (default: <pons_root>/sim/gazebo/planar_arm.sdf).",
            ),
            DeclareLaunchArgument(
                "bridge",
                default_value="",
                description="ros_gz_bridge YAML (default: <pons_root>/sim/gazebo/bridge.yaml).",
            ),
            *cerebellum.common_arguments(),
            OpaqueFunction(function=launch_setup),
        ]
    )

import { clockMsg, imageMsg, jointStateMsg, ROS_TYPES, stringMsg } from './messages.js';
import { resolveQos, toRclnodejsQos } from './qos.js';
import { loadRclnodejs, type RclNode, type Rclnodejs, type RclPublisher } from './rclnodejs.js';

/**
 * The embedded simulator's ROS 2 side, where ROS 2 is present: what Gazebo's bridge gives a
 * robot (camera image, joint states, /clock in sim time) and what ros2_control's command
 * controllers take (JointTrajectory, Float64MultiArray) — so `pons brain --source ros` and
 * `pons cerebellum --output ros` drive it as they drive Gazebo or a robot. Thin: every
 * message is built by messages.ts, which the tests check against the ROS 2 definitions.
 */

export interface SimRosOptions {
  nodeName: string;
  cameraTopic: string;
  jointStatesTopic: string;
  instructionTopic: string;
  trajectoryTopic: string;
  forwardTopic: string;
  joints: readonly string[];
}

interface TrajectoryIn {
  joint_names: string[];
  points: { positions: ArrayLike<number>; velocities: ArrayLike<number> }[];
}

export class SimRos {
  private readonly camera: RclPublisher;
  private readonly jointStates: RclPublisher;
  private readonly clock: RclPublisher;
  private readonly instruction: RclPublisher;

  private constructor(
    private readonly rcl: Rclnodejs,
    private readonly node: RclNode,
    private readonly options: SimRosOptions,
  ) {
    const sensor = toRclnodejsQos(resolveQos(undefined, 'sensor_data'), rcl.QoS);
    const reliable = toRclnodejsQos(resolveQos(undefined, 'reliable'), rcl.QoS);
    this.camera = node.createPublisher(ROS_TYPES.image, options.cameraTopic, { qos: sensor });
    this.jointStates = node.createPublisher(ROS_TYPES.jointState, options.jointStatesTopic, {
      qos: sensor,
    });
    this.clock = node.createPublisher(ROS_TYPES.clock, '/clock', { qos: reliable });
    this.instruction = node.createPublisher(ROS_TYPES.string, options.instructionTopic, {
      qos: reliable,
    });
  }

  /** Throws RosUnavailableError (one line saying how to fix it) where ROS 2 is absent. */
  static async open(options: SimRosOptions): Promise<SimRos> {
    const rcl = await loadRclnodejs();
    await rcl.init();
    const node = new rcl.Node(options.nodeName);
    const io = new SimRos(rcl, node, options);
    node.spin();
    return io;
  }

  publishFrame(stampNs: bigint, width: number, height: number, data: Uint8Array): void {
    this.clock.publish(clockMsg(stampNs));
    this.camera.publish(
      imageMsg({
        stampNs,
        frameId: 'overhead',
        width,
        height,
        encoding: 'rgb8',
        step: 3 * width,
        data,
      }),
    );
  }

  publishJoints(
    stampNs: bigint,
    names: readonly string[],
    position: ArrayLike<number>,
    velocity: ArrayLike<number>,
  ): void {
    this.jointStates.publish(jointStateMsg({ stampNs, names, position, velocity }));
  }

  publishInstruction(text: string): void {
    this.instruction.publish(stringMsg(text));
  }

  /** Joint position targets (and velocities) in `joints` order, from either command topic. */
  onCommand(handler: (position: Float64Array, velocity: Float64Array | undefined) => void): void {
    const { joints } = this.options;
    const reliable = toRclnodejsQos(resolveQos(undefined, 'reliable'), this.rcl.QoS);
    this.node.createSubscription(
      ROS_TYPES.float64MultiArray,
      this.options.forwardTopic,
      { qos: reliable },
      (m) => {
        const data = (m as { data: ArrayLike<number> }).data;
        if (data.length === joints.length) handler(Float64Array.from(data), undefined);
      },
    );
    this.node.createSubscription(
      ROS_TYPES.jointTrajectory,
      this.options.trajectoryTopic,
      { qos: reliable },
      (m) => {
        const t = m as TrajectoryIn;
        const point = t.points[0];
        const order = joints.map((j) => t.joint_names.indexOf(j));
        if (!point || order.some((i) => i < 0)) return;
        handler(
          Float64Array.from(order, (i) => point.positions[i] as number),
          point.velocities.length === t.joint_names.length
            ? Float64Array.from(order, (i) => point.velocities[i] as number)
            : undefined,
        );
      },
    );
  }

  async close(): Promise<void> {
    this.node.destroy();
    await this.rcl.shutdown();
  }
}

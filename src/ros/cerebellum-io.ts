import { JointOrder } from '../contract/index.js';
import {
  type boolMsg,
  type DiagnosticStatusInput,
  diagnosticArrayMsg,
  float64MultiArrayMsg,
  jointTrajectoryMsg,
  ROS_TYPES,
  twistFromComponents,
  twistMsg,
  twistStampedMsg,
} from './messages.js';
import { type QosProfileName, type QosSetting, resolveQos, toRclnodejsQos } from './qos.js';
import { loadRclnodejs, type RclNode, type Rclnodejs, type RclPublisher } from './rclnodejs.js';

/**
 * The cerebellum's ROS 2 side: commands out (JointTrajectory to a JointTrajectoryController
 * or Float64MultiArray to a forward_command_controller), joint states and an e-stop Bool
 * in, diagnostics out. Header stamps are the node's ROS time, so `use_sim_time` is honoured.
 * Kept thin on purpose: it only maps messages; everything it maps is built and checked by
 * messages.ts, which the tests serialize against the official definitions.
 */
export interface CerebellumRosOptions {
  nodeName: string;
  joints: readonly string[];
  command: 'trajectory' | 'forward' | 'twist_stamped' | 'twist';
  trajectoryTopic: string;
  forwardTopic: string;
  twistTopic: string;
  jointStatesTopic: string;
  estopTopic: string;
  diagnosticsTopic: string;
  /** time_from_start of the single point of each streamed trajectory (ns). */
  pointTimeNs: bigint;
  /** QoS overrides by topic name (robot profile `output.qos`). */
  qos?: Readonly<Record<string, QosSetting>>;
}

interface JointStateIn {
  name: string[];
  position: ArrayLike<number>;
}

export class CerebellumRos {
  private readonly command: RclPublisher;
  private readonly commandTopic: [string, string];
  private readonly diagnostics: RclPublisher;
  private readonly order: JointOrder;
  /** Joint-state messages that did not name every controlled joint. */
  incompleteJointStates = 0;

  private constructor(
    private readonly rcl: Rclnodejs,
    private readonly node: RclNode,
    private readonly options: CerebellumRosOptions,
  ) {
    const publishers: Record<CerebellumRosOptions['command'], [string, string]> = {
      trajectory: [ROS_TYPES.jointTrajectory, options.trajectoryTopic],
      forward: [ROS_TYPES.float64MultiArray, options.forwardTopic],
      twist_stamped: [ROS_TYPES.twistStamped, options.twistTopic],
      twist: [ROS_TYPES.twist, options.twistTopic],
    };
    this.commandTopic = publishers[options.command];
    const [type, topic] = this.commandTopic;
    this.command = node.createPublisher(type, topic, { qos: this.qos(topic, 'reliable') });
    this.diagnostics = node.createPublisher(ROS_TYPES.diagnosticArray, options.diagnosticsTopic, {
      qos: this.qos(options.diagnosticsTopic, 'reliable'),
    });
    this.order = new JointOrder(options.joints);
  }

  /** Throws RosUnavailableError (one line saying how to fix it) where ROS 2 is absent. */
  static async open(options: CerebellumRosOptions): Promise<CerebellumRos> {
    const rcl = await loadRclnodejs();
    await rcl.init();
    const node = new rcl.Node(options.nodeName);
    const io = new CerebellumRos(rcl, node, options);
    node.spin();
    return io;
  }

  /** Joint states in the controller's joint order; messages missing a joint are counted, not used. */
  onJointState(handler: (position: Float64Array) => void): void {
    const qos = this.qos(this.options.jointStatesTopic, 'sensor_data');
    this.node.createSubscription(
      ROS_TYPES.jointState,
      this.options.jointStatesTopic,
      { qos },
      (message) => {
        const m = message as JointStateIn;
        if (this.order.take(m.name, m.position)) handler(this.order.position);
        else this.incompleteJointStates++;
      },
    );
  }

  /** `true` engages the e-stop; `false` is the explicit reset. */
  onEstop(handler: (engage: boolean) => void): void {
    const qos = this.qos(this.options.estopTopic, 'reliable');
    this.node.createSubscription(ROS_TYPES.bool, this.options.estopTopic, { qos }, (message) =>
      handler((message as ReturnType<typeof boolMsg>).data),
    );
  }

  /**
   * One command: joint positions (and velocities), or, for a base, the twist's components.
   * Returns the message as published (for the recorder).
   */
  publishCommand(
    position: ArrayLike<number>,
    velocity: ArrayLike<number>,
  ): { type: string; topic: string; message: object } {
    const published = this.commandMessage(position, velocity);
    this.command.publish(published.message);
    return published;
  }

  /** The command message this node publishes, and its type and topic (for the recorder). */
  commandMessage(
    position: ArrayLike<number>,
    velocity: ArrayLike<number>,
  ): { type: string; topic: string; message: object } {
    const { command, joints } = this.options;
    const [type, topic] = this.commandTopic;
    if (command === 'twist' || command === 'twist_stamped') {
      const twist = twistFromComponents(joints, position);
      const message =
        command === 'twist'
          ? twistMsg(twist)
          : twistStampedMsg({ ...twist, stampNs: this.node.now().nanoseconds });
      return { type, topic, message };
    }
    if (command === 'forward') {
      return {
        type,
        topic,
        message: float64MultiArrayMsg(position, 'joints', this.options.joints.length),
      };
    }
    return {
      type,
      topic,
      message: jointTrajectoryMsg({
        stampNs: this.node.now().nanoseconds,
        jointNames: this.options.joints,
        points: [
          { positions: position, velocities: velocity, timeFromStartNs: this.options.pointTimeNs },
        ],
      }),
    };
  }

  publishDiagnostics(status: DiagnosticStatusInput): void {
    this.diagnostics.publish(
      diagnosticArrayMsg({ stampNs: this.node.now().nanoseconds, status: [status] }),
    );
  }

  /** The topic's QoS: its profile override, else `fallback`. */
  private qos(topic: string, fallback: QosProfileName): unknown {
    return toRclnodejsQos(resolveQos(this.options.qos?.[topic], fallback), this.rcl.QoS);
  }

  async close(): Promise<void> {
    this.node.destroy();
    await this.rcl.shutdown();
  }
}

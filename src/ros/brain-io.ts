import { InputError } from '../contract/index.js';
import { type DiagnosticStatusInput, diagnosticArrayMsg, ROS_TYPES } from './messages.js';
import { type QosSetting, resolveQos, toRclnodejsQos } from './qos.js';
import { loadRclnodejs, type RclNode, type Rclnodejs, type RclPublisher } from './rclnodejs.js';
import {
  type CompressedImage,
  type CompressedImageIn,
  type ImageIn,
  type JointStateIn,
  type RawImage,
  readCompressedImage,
  readImage,
  readJointState,
} from './sensor-messages.js';

/**
 * The brain's ROS 2 side: camera images (raw or compressed), joint states and a
 * std_msgs/String instruction in; diagnostics out. Kept thin: every message goes through
 * the readers of sensor-messages.ts, which the tests run on CDR-serialized messages.
 * Sensors use the sensor-data QoS (best effort) unless the profile says otherwise.
 */

export interface BrainRosOptions {
  nodeName: string;
  cameras: readonly { name: string; topic: string; compressed: boolean }[];
  jointStatesTopic?: string;
  instructionTopic: string;
  diagnosticsTopic: string;
  qos?: Readonly<Record<string, QosSetting>>;
}

export interface BrainRosHandlers {
  frame(camera: string, stampNs: bigint, image: RawImage | CompressedImage): void;
  joints(stampNs: bigint, name: string[], position: Float64Array): void;
  instruction(text: string): void;
  /** A message refused at the boundary (counted by the caller). */
  invalid(err: InputError): void;
}

export class BrainRos {
  private readonly diagnostics: RclPublisher;

  private constructor(
    private readonly rcl: Rclnodejs,
    private readonly node: RclNode,
    private readonly options: BrainRosOptions,
    handlers: BrainRosHandlers,
  ) {
    const guard =
      <M>(read: (m: M) => void) =>
      (message: unknown) => {
        try {
          read(message as M);
        } catch (err) {
          if (err instanceof InputError) handlers.invalid(err);
          else throw err;
        }
      };
    const sensorQos = (topic: string) => this.qos(topic, 'sensor_data');
    for (const camera of options.cameras) {
      const type = camera.compressed ? ROS_TYPES.compressedImage : ROS_TYPES.image;
      node.createSubscription(
        type,
        camera.topic,
        { qos: sensorQos(camera.topic), enableTypedArray: true },
        guard<ImageIn & CompressedImageIn>((m) => {
          const { stampNs, image } = camera.compressed
            ? readCompressedImage(m, camera.topic)
            : readImage(m, camera.topic);
          handlers.frame(camera.name, stampNs, image);
        }),
      );
    }
    const jointsTopic = options.jointStatesTopic;
    if (jointsTopic !== undefined) {
      node.createSubscription(
        ROS_TYPES.jointState,
        jointsTopic,
        { qos: sensorQos(jointsTopic), enableTypedArray: true },
        guard<JointStateIn>((m) => {
          const { stampNs, name, position } = readJointState(m, jointsTopic);
          handlers.joints(stampNs, name, position);
        }),
      );
    }
    node.createSubscription(
      ROS_TYPES.string,
      options.instructionTopic,
      { qos: this.qos(options.instructionTopic, 'reliable') },
      guard<{ data: string }>((m) => handlers.instruction(m.data)),
    );
    this.diagnostics = node.createPublisher(ROS_TYPES.diagnosticArray, options.diagnosticsTopic, {
      qos: this.qos(options.diagnosticsTopic, 'reliable'),
    });
  }

  /** Throws RosUnavailableError (one line saying how to fix it) where ROS 2 is absent. */
  static async open(options: BrainRosOptions, handlers: BrainRosHandlers): Promise<BrainRos> {
    const rcl = await loadRclnodejs();
    await rcl.init();
    const node = new rcl.Node(options.nodeName);
    const io = new BrainRos(rcl, node, options, handlers);
    node.spin();
    return io;
  }

  /** ROS time (follows /clock under use_sim_time). */
  now(): bigint {
    return this.node.now().nanoseconds;
  }

  publishDiagnostics(status: DiagnosticStatusInput): void {
    this.diagnostics.publish(diagnosticArrayMsg({ stampNs: this.now(), status: [status] }));
  }

  private qos(topic: string, fallback: 'sensor_data' | 'reliable'): unknown {
    return toRclnodejsQos(resolveQos(this.options.qos?.[topic], fallback), this.rcl.QoS);
  }

  async close(): Promise<void> {
    this.node.destroy();
    await this.rcl.shutdown();
  }
}

import { resolveQos, toRclnodejsQos } from './qos.js';
import { loadRclnodejs, type RclNode, type Rclnodejs, type RclPublisher } from './rclnodejs.js';

/**
 * Publishes recorded messages on ROS 2 as their CDR bytes (rclnodejs sends a Buffer as
 * pre-serialized CDR), so what goes out is exactly what was recorded. One publisher per
 * topic, reliable QoS.
 */
export class RosRepublisher {
  private readonly publishers = new Map<string, RclPublisher>();

  private constructor(
    private readonly rcl: Rclnodejs,
    private readonly node: RclNode,
  ) {}

  /** Throws RosUnavailableError (one line saying how to fix it) where ROS 2 is absent. */
  static async open(nodeName: string): Promise<RosRepublisher> {
    const rcl = await loadRclnodejs();
    await rcl.init();
    return new RosRepublisher(rcl, new rcl.Node(nodeName));
  }

  publish(topic: string, type: string, cdr: Uint8Array): void {
    let publisher = this.publishers.get(topic);
    if (!publisher) {
      const qos = toRclnodejsQos(resolveQos(undefined, 'reliable'), this.rcl.QoS);
      publisher = this.node.createPublisher(type, topic, { qos });
      this.publishers.set(topic, publisher);
    }
    publisher.publish(Buffer.from(cdr.buffer, cdr.byteOffset, cdr.byteLength));
  }

  async close(): Promise<void> {
    this.node.destroy();
    await this.rcl.shutdown();
  }
}

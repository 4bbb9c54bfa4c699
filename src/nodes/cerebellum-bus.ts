import type { ControlCommand } from '../cerebellum/control-protocol.js';
import { JointOrder } from '../contract/index.js';
import { BusPublisher, BusSubscriber, type LinkLog } from '../link/index.js';

/**
 * The cerebellum's side of a robot or simulator without ROS: commands out on the robot's
 * command bus, measured joint states in from its observation bus (mapped to the controller's
 * joint order by name; a message missing a joint is counted, not used).
 */
export class CerebellumBus {
  private readonly order: JointOrder;
  /** Joint-state packets that did not name every controlled joint. */
  incompleteJointStates = 0;

  private constructor(
    private readonly commands: BusPublisher,
    private readonly observations: BusSubscriber,
    joints: readonly string[],
  ) {
    this.order = new JointOrder(joints);
  }

  static async open(options: {
    commands: string;
    observations: string;
    joints: readonly string[];
    log: LinkLog;
  }): Promise<CerebellumBus> {
    const commands = await BusPublisher.open({
      endpoint: options.commands,
      bind: false,
      log: options.log,
    });
    const observations = await BusSubscriber.open(
      { endpoint: options.observations, bind: false, log: options.log },
      ['joints'],
    );
    return new CerebellumBus(commands, observations, options.joints);
  }

  onJointState(handler: (position: Float64Array) => void): void {
    this.observations.onPacket((packet) => {
      if (packet.kind !== 'joints') return;
      if (this.order.take(packet.name, packet.position)) handler(this.order.position);
      else this.incompleteJointStates++;
    });
  }

  publishCommand(command: ControlCommand, obsStampNs: bigint): void {
    this.commands.publish({
      kind: 'command',
      stamp_ns: command.stampNs,
      obs_stamp_ns: obsStampNs,
      mode: command.mode,
      position: command.position,
      velocity: command.velocity,
    });
  }

  close(): void {
    this.commands.close();
    this.observations.close();
  }
}

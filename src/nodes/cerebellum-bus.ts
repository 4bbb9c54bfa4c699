import type { ControlCommand } from '../cerebellum/control-protocol.js';
import { BusPublisher, BusSubscriber, type LinkLog } from '../link/index.js';

/**
 * The cerebellum's side of a robot or simulator without ROS: commands out on the robot's
 * command bus, measured joint states in from its observation bus (mapped to the controller's
 * joint order by name; a message missing a joint is counted, not used).
 */
export class CerebellumBus {
  private readonly index: Map<string, number>;
  private readonly measured: Float64Array;
  /** Joint-state packets that did not name every controlled joint. */
  incompleteJointStates = 0;

  private constructor(
    private readonly commands: BusPublisher,
    private readonly observations: BusSubscriber,
    private readonly joints: readonly string[],
  ) {
    this.index = new Map(joints.map((name, i) => [name, i]));
    this.measured = new Float64Array(joints.length);
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
      let found = 0;
      packet.name.forEach((name, i) => {
        const j = this.index.get(name);
        if (j !== undefined) {
          this.measured[j] = packet.position[i] as number;
          found++;
        }
      });
      if (found === this.joints.length) handler(this.measured);
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

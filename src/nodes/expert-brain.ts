import { type ActionSpec, JointOrder, specId, specJson } from '../contract/index.js';
import { BusSubscriber, type LinkLog, LinkServer } from '../link/index.js';
import {
  type ArmModel,
  type BlockColour,
  createSimulator,
  parseInstruction,
  ScriptedExpert,
  type Task,
  tipPose,
  type WorldState,
} from '../sim/index.js';
import { tokenizerFor } from '../tokenizer/index.js';

/**
 * A brain stand-in for the embedded simulator: the scripted expert, planning from the
 * simulator's privileged scene state and joint states on the observation bus, its chunks
 * going through the same ActionSpec, tokenizer and link as a model's would. It decides on
 * camera frames at `rateHz`, each packet stamped with that frame's capture time, so the
 * cerebellum's time alignment, smoothing and safety filter do exactly what they do for a
 * model. The instruction it hears on the bus says the task.
 */

export interface ExpertBrainOptions {
  spec: ActionSpec;
  observations: string;
  link: { tokens: string; state: string };
  rateHz: number;
  episodeId: string;
  log: LinkLog;
}

export class ExpertBrain {
  private task: Task | undefined;
  private joints: { name: string[]; position: Float64Array; velocity: Float64Array } | undefined;
  private blocks: WorldState['blocks'] = [];
  private lastDecisionNs = 0n;
  private readonly positions: JointOrder;
  private readonly velocities: JointOrder;
  decisions = 0;

  private constructor(
    options: ExpertBrainOptions,
    private readonly expert: ScriptedExpert,
    private readonly arm: ArmModel,
    readonly link: LinkServer,
    private readonly bus: BusSubscriber,
  ) {
    this.positions = new JointOrder(arm.jointNames);
    this.velocities = new JointOrder(arm.jointNames);
    const tokenizer = tokenizerFor(options.spec);
    const periodNs = BigInt(Math.round(1e9 / options.rateHz));
    bus.onPacket((packet) => {
      if (packet.kind === 'instruction') {
        try {
          this.task = parseInstruction(packet.text, 'bus instruction');
        } catch (err) {
          options.log.warn(`expert: ${(err as Error).message}`);
        }
      } else if (packet.kind === 'joints') {
        this.joints = packet;
      } else if (packet.kind === 'scene') {
        this.blocks = packet.name.map((colour, i) => ({
          colour: colour as BlockColour,
          x: packet.pose[3 * i] as number,
          y: packet.pose[3 * i + 1] as number,
          angle: packet.pose[3 * i + 2] as number,
        }));
      } else if (packet.kind === 'frame' && packet.stamp_ns - this.lastDecisionNs >= periodNs) {
        const state = this.state();
        if (!state || !this.task) return;
        this.lastDecisionNs = packet.stamp_ns;
        const chunk = this.expert.plan(state, this.task);
        this.link.publishTokens({
          episode_id: options.episodeId,
          obs_stamp_ns: packet.stamp_ns,
          tokens: tokenizer.encode(chunk),
          timings_ms: {},
        });
        this.decisions++;
      }
    });
  }

  static async start(options: ExpertBrainOptions): Promise<ExpertBrain> {
    // The expert needs the scene's geometry and the arm's kinematics: a simulator's own.
    const sim = await createSimulator();
    const expert = new ScriptedExpert(options.spec, sim.arm, sim.scene);
    const link = await LinkServer.open({
      spec: specJson(options.spec),
      specId: specId(options.spec),
      modelId: 'scripted-expert',
      software: 'pons',
      endpoints: options.link,
      log: options.log,
    });
    const bus = await BusSubscriber.open(
      { endpoint: options.observations, bind: false, log: options.log },
      ['frame', 'joints', 'instruction', 'scene'],
    );
    const node = new ExpertBrain(options, expert, sim.arm, link, bus);
    sim.dispose();
    return node;
  }

  close(): void {
    this.bus.close();
    this.link.close();
  }

  /** The world as the expert needs it, from the last joint and scene packets. */
  private state(): WorldState | undefined {
    const joints = this.joints;
    if (!joints || this.blocks.length === 0) return undefined;
    if (!this.positions.take(joints.name, joints.position)) return undefined;
    const position = Float64Array.from(this.positions.position);
    // Velocities are optional in a joint state: absent, the expert plans from rest.
    const velocity = this.velocities.take(joints.name, joints.velocity)
      ? Float64Array.from(this.velocities.position)
      : new Float64Array(position.length);
    return {
      jointNames: this.arm.jointNames,
      position,
      velocity,
      targets: position,
      tip: tipPose(this.arm, position),
      blocks: this.blocks,
    };
  }
}

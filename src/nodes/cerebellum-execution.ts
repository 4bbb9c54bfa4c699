import { ActionToJoints } from '../cerebellum/action-to-joints.js';
import { ControlCore } from '../cerebellum/control-core.js';
import type { ControlSetup } from '../cerebellum/control-protocol.js';
import { newTickOutput } from '../cerebellum/controller.js';
import type { ActionSpec } from '../contract/index.js';
import type { ChunkExecution, Simulator } from '../sim/index.js';
import { controlSetup, describeRobot } from './control-setup.js';
import type { RobotProfile } from './profile.js';

/**
 * Chunks executed by the cerebellum's own controller, in process and on sim time: the robot
 * profile's smoothing, time-aligned blending, tracker and safety filter, ticked at the
 * profile's control rate and fed the measured joint state at its state rate, as `pons
 * cerebellum` runs against `pons sim serve`, without the transport's latency or the control
 * clock's jitter. Before each physics tick the newest command (position, velocity) is
 * applied, as the sim node applies the command bus's. `pons sim collect` and `pons sim eval`
 * execute with it, so that demonstrations, DAgger data and scores see the arm move as a
 * deployed brain sees it.
 */
export class CerebellumExecution implements ChunkExecution {
  private readonly core: ControlCore;
  private readonly converter: ActionToJoints;
  /** `simJoint[i]`: the simulator's index of the controller's joint i. */
  private readonly simJoint: Int32Array;
  private readonly periodNs: bigint;
  /** Control ticks between measured states. */
  private readonly stateEvery: number;
  private readonly out;
  private readonly measured: Float64Array;
  private readonly joints: Float64Array;
  /** The next control tick to run; tick i is due at `startNs` + i·period. */
  private next = 0;
  private seq = 0;
  private commanded = false;
  /** Chunks the controller did not take (expired, or rejected by the safety filter). */
  refused = 0;

  constructor(
    private readonly sim: Simulator,
    spec: ActionSpec,
    robotJoints: readonly string[],
    setup: ControlSetup,
    stateRateHz: number,
    private readonly startNs = sim.timeNs,
  ) {
    this.core = new ControlCore(setup, startNs);
    this.converter = new ActionToJoints(spec, robotJoints, undefined, `spec ${spec.name}`);
    this.simJoint = Int32Array.from(robotJoints, (name) => sim.jointNames.indexOf(name));
    const missing = robotJoints.filter((_, i) => (this.simJoint[i] as number) < 0);
    if (missing.length > 0) {
      throw new Error(`the simulator has no joint ${missing.join(', ')} of the robot profile`);
    }
    this.periodNs = BigInt(Math.round(1e9 / setup.rateHz));
    this.stateEvery = Math.max(1, Math.round(setup.rateHz / stateRateHz));
    this.out = newTickOutput(robotJoints.length);
    this.measured = new Float64Array(robotJoints.length);
    this.joints = new Float64Array(spec.horizon * robotJoints.length);
  }

  begin(chunk: ArrayLike<number>, timeNs: bigint): void {
    this.readMeasured();
    const actions = chunk instanceof Float64Array ? chunk : Float64Array.from(chunk);
    this.converter.convert(actions, this.measured, this.joints);
    const values = this.joints;
    const refused = this.core.apply(
      { type: 'chunk', seq: this.seq++, obsNs: timeNs, values },
      this.next,
    );
    if (refused !== undefined) this.refused++;
  }

  targets(timeNs: bigint, position: Float64Array, velocity: Float64Array): void {
    while (this.startNs + BigInt(this.next) * this.periodNs <= timeNs) {
      if (this.next % this.stateEvery === 0) {
        this.readMeasured();
        this.core.apply({ type: 'measured', position: this.measured }, this.next);
      }
      if (this.core.tick(this.next, this.out)) this.commanded = true;
      this.next++;
    }
    // Until its first command the arm holds where it is, as the sim node does.
    const source = this.commanded ? this.out.position : this.readMeasured();
    for (let i = 0; i < this.simJoint.length; i++) {
      const j = this.simJoint[i] as number;
      position[j] = source[i] as number;
      velocity[j] = this.commanded ? (this.out.velocity[i] as number) : 0;
    }
  }

  private readMeasured(): Float64Array {
    const { position } = this.sim.jointState();
    for (let i = 0; i < this.simJoint.length; i++) {
      this.measured[i] = position[this.simJoint[i] as number] as number;
    }
    return this.measured;
  }
}

/** A fresh `CerebellumExecution` per episode, as the profile configures the cerebellum. */
export type ExecutionFactory = (sim: Simulator) => ChunkExecution;

export function cerebellumExecution(
  profile: RobotProfile,
  spec: ActionSpec,
): (sim: Simulator) => CerebellumExecution {
  const robot = describeRobot(profile, spec);
  const setup = controlSetup(profile, spec, robot, true);
  const stateRateHz = profile.cerebellum.state_rate_hz;
  return (sim) => new CerebellumExecution(sim, spec, robot.joints, setup, stateRateHz);
}

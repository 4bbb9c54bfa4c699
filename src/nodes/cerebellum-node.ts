import { ActionToJoints } from '../cerebellum/action-to-joints.js';
import { ChunkCorrector } from '../cerebellum/chunk-correction.js';
import type {
  ControlCommand,
  ControlEvent,
  ControlSetup,
  ControlStats,
} from '../cerebellum/control-protocol.js';
import {
  type AppliedInput,
  ControlThread,
  type SkippedTicks,
} from '../cerebellum/control-thread.js';
import { LearnedStage, LearnedStageError } from '../cerebellum/learned-stage.js';
import type { JointLimits } from '../cerebellum/types.js';
import { type ActionSpec, loadActionSpec, specId, specJson } from '../contract/index.js';
import { LinkClient, type LinkClientOptions, type LinkLog } from '../link/index.js';
import { CerebellumRos, type DiagnosticStatusInput } from '../ros/index.js';
import { tokenizerFor } from '../tokenizer/index.js';
import { epochNowNs, InputError, type TokensPacket } from '../wire/index.js';
import { CerebellumBus } from './cerebellum-bus.js';
import { controlSetup, describeRobot } from './control-setup.js';
import { JsonLinesSink } from './json-lines-sink.js';
import type { RobotProfile } from './profile.js';

/**
 * `pons cerebellum`: token packets in from the link, checked and decoded on this (main)
 * thread, executed by the control thread at the control rate, commands out to a sink,
 * state packets back to the brain. A robot command only ever comes out of the control
 * thread, whose safety filter is its last stage.
 */
export interface CerebellumNodeOptions {
  profile: RobotProfile;
  log: LinkLog;
  /** Link options beyond the profile's (keys, identity overrides), already resolved. */
  link: Omit<LinkClientOptions, 'spec' | 'specId' | 'software' | 'endpoints'> & {
    software: string;
  };
  /** Every command, as it leaves the control thread (tests, benchmarks, the simulator). */
  onCommand?: (command: ControlCommand) => void;
  /**
   * Every command the output sends, with the ROS message when the output is ROS (which
   * publishes every `decimation`-th command): what the recorder records.
   */
  onPublished?: (command: ControlCommand, ros?: PublishedRosCommand) => void;
  /** Every token packet that decoded, with its chunk in the spec's units (the recorder). */
  onChunk?: (packet: TokensPacket, actions: Float64Array) => void;
  /** Once the control thread runs: its setup, and the epoch ns of tick 0 (the recorder). */
  onControlStarted?: (setup: ControlSetup, epochStartNs: bigint) => void;
  /** Every input the control thread applied, with its tick (the recorder, for `--verify`). */
  onApplied?: (applied: AppliedInput) => void;
  /** Ticks the control clock skipped (the recorder, for `--verify`). */
  onSkipped?: (skipped: SkippedTicks) => void;
}

export interface PublishedRosCommand {
  type: string;
  topic: string;
  message: object;
}

export interface CerebellumDiagnostics {
  mode: string;
  estop_reason: string;
  commands: number;
  /** Commands the safety filter moved by more than 1 mrad (or 1 mm), and the most it moved one. */
  clamped: number;
  max_correction: number;
  chunks_in: number;
  chunks_expired: number;
  chunks_rejected: number;
  decode_errors: number;
  last_token_seq: number;
  /** The learned stage, when the profile has one: provider, corrected chunks, fallbacks. */
  learned?: { provider: string; corrected: number; fallbacks: number; last_error: string };
  /** Observation → chunk handed to the control thread, last packet (ms). */
  ingest_age_ms: number;
  link: Record<string, number>;
}

/**
 * A safety-filter change worth counting. Smaller ones are the filter shaving a smooth
 * target to the acceleration limit, tick by tick, which is its normal work.
 */
const SIGNIFICANT_CORRECTION = 1e-3;

function prefixed(prefix: string, values: object): Record<string, string | number> {
  return Object.fromEntries(
    Object.entries(values).map(([k, v]) => [`${prefix}${k}`, v as string | number]),
  );
}

export class CerebellumNode {
  private lastCommand: ControlCommand | undefined;
  private readonly diagnostics: CerebellumDiagnostics;
  private stateTimer: NodeJS.Timeout | undefined;
  /** The decoded actions (H × spec dimensions) and the joint chunk made of them (H × joints). */
  private readonly actions: Float64Array;
  private readonly chunk: Float64Array;
  private readonly corrected: Float64Array;
  private readonly rest: Float64Array;
  private readonly sink: JsonLinesSink | undefined;
  private correcting = false;
  /** Observation stamp of each recent chunk by seq, for the commands sent on a bus. */
  private readonly chunkObsStamps = new Map<number, bigint>();
  private diagnosticsTimer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly options: CerebellumNodeOptions,
    readonly spec: ActionSpec,
    readonly limits: JointLimits,
    private readonly control: ControlThread,
    readonly link: LinkClient,
    private readonly converter: ActionToJoints,
    private readonly corrector: ChunkCorrector | undefined,
    learned: LearnedStage | undefined,
    private readonly ros: CerebellumRos | undefined,
    private readonly bus: CerebellumBus | undefined,
  ) {
    this.actions = new Float64Array(spec.horizon * spec.dimensions.length);
    this.chunk = new Float64Array(spec.horizon * limits.names.length);
    this.corrected = new Float64Array(this.chunk.length);
    this.rest = Float64Array.from(limits.lower, (lo, j) => (lo + (limits.upper[j] as number)) / 2);
    this.diagnostics = {
      mode: 'hold',
      estop_reason: '',
      commands: 0,
      clamped: 0,
      max_correction: 0,
      chunks_in: 0,
      chunks_expired: 0,
      chunks_rejected: 0,
      decode_errors: 0,
      last_token_seq: -1,
      ingest_age_ms: Number.NaN,
      link: {},
      ...(learned
        ? { learned: { provider: learned.provider, corrected: 0, fallbacks: 0, last_error: '' } }
        : {}),
    };
    const output = options.profile.cerebellum.output;
    this.sink = output.kind === 'record' ? new JsonLinesSink(output.path) : undefined;
    const tokenizer = tokenizerFor(spec);
    link.onTokens((packet) => this.onTokens(packet, tokenizer));
    link.onEstop((e) => (e.engage ? this.estop(e.reason) : this.reset()));
    control.onCommand((command) => this.onCommand(command));
    control.onEvent((event) => this.onEvent(event));
    bus?.onJointState((position) => control.send({ type: 'measured', position }));
    if (ros) {
      ros.onJointState((position) => control.send({ type: 'measured', position }));
      ros.onEstop((engage) => (engage ? this.estop('ROS e-stop topic') : this.reset()));
      this.diagnosticsTimer = setInterval(() => this.publishDiagnostics(), 1000);
    }
  }

  static async start(options: CerebellumNodeOptions): Promise<CerebellumNode> {
    const { profile } = options;
    const spec = loadActionSpec(profile.spec);
    const robot = describeRobot(profile, spec);
    const { joints, limits, kinematics } = robot;
    const converter = new ActionToJoints(spec, joints, kinematics, profile.spec);
    const c = profile.cerebellum;
    const output = c.output;
    // ROS first: where ROS 2 is absent this fails at once, with one line saying how to fix it.
    const ros =
      output.kind === 'ros'
        ? await CerebellumRos.open({
            nodeName: 'pons_cerebellum',
            joints,
            command: output.command,
            trajectoryTopic: output.trajectory_topic,
            forwardTopic: output.forward_topic,
            twistTopic: output.twist_topic,
            jointStatesTopic: output.joint_states_topic,
            estopTopic: output.estop_topic,
            diagnosticsTopic: output.diagnostics_topic,
            pointTimeNs: BigInt(Math.round((1e9 / c.rate_hz) * output.decimation)),
            qos: output.qos,
          })
        : undefined;
    const bus =
      output.kind === 'bus'
        ? await CerebellumBus.open({
            commands: output.commands,
            observations: output.observations,
            joints,
            log: options.log,
          })
        : undefined;
    const setup = controlSetup(profile, spec, robot, ros !== undefined || bus !== undefined);
    const control = ControlThread.start(
      {
        ...setup,
        spinUs: c.spin_us,
        sinkRateHz: c.sink_rate_hz,
        epochOffsetNs: (epochNowNs() - process.hrtime.bigint()).toString(),
      },
      { logInputs: options.onApplied !== undefined },
    );
    const { onControlStarted, onApplied, onSkipped } = options;
    if (onControlStarted)
      control.onStarted((epochStartNs) => onControlStarted(setup, epochStartNs));
    if (onApplied) control.onApplied(onApplied);
    if (onSkipped) control.onSkipped(onSkipped);
    const link = await LinkClient.open({
      ...options.link,
      spec: specJson(spec),
      specId: specId(spec),
      endpoints: { tokens: profile.link.tokens, state: profile.link.state },
      maxAgeMs: profile.link.max_age_ms,
      insecure: profile.link.insecure,
      log: options.log,
    });
    const learned = c.learned_stage
      ? await LearnedStage.load(c.learned_stage, spec, joints)
      : undefined;
    const corrector = learned ? new ChunkCorrector(learned, spec.horizon, spec.dt) : undefined;
    const node = new CerebellumNode(
      options,
      spec,
      limits,
      control,
      link,
      converter,
      corrector,
      learned,
      ros,
      bus,
    );
    node.stateTimer = setInterval(() => node.sendState(), 1000 / c.state_rate_hz);
    return node;
  }

  estop(reason: string): void {
    this.control.send({ type: 'estop', reason });
  }

  reset(): void {
    this.control.send({ type: 'reset' });
  }

  snapshot(): CerebellumDiagnostics {
    return { ...this.diagnostics, link: this.link.counters.snapshot() };
  }

  /**
   * Stops like a robot should: e-stop (decelerate to rest within the stopping time), wait
   * for it, then end the control thread, the link and the sink.
   */
  async stop(reason = 'shutdown'): Promise<ControlStats> {
    this.estop(reason);
    await new Promise((resolve) =>
      setTimeout(resolve, this.options.profile.cerebellum.stopping_time_s * 1000 + 50),
    );
    clearInterval(this.stateTimer);
    clearInterval(this.diagnosticsTimer);
    this.sendState();
    const stats = await this.control.stop();
    this.link.close();
    await this.sink?.close();
    await this.ros?.close();
    this.bus?.close();
    return stats;
  }

  private onTokens(packet: TokensPacket, tokenizer: ReturnType<typeof tokenizerFor>): void {
    try {
      tokenizer.decodeInto(
        packet.tokens,
        this.actions,
        `tokens seq ${packet.seq} from ${packet.model_id}`,
      );
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      this.diagnostics.decode_errors++;
      this.options.log.warn(`dropped a chunk: ${err.message}`);
      return;
    }
    this.options.onChunk?.(packet, this.actions);
    this.converter.convert(this.actions, this.lastCommand?.position ?? this.rest, this.chunk);
    this.diagnostics.chunks_in++;
    this.diagnostics.ingest_age_ms = Number(epochNowNs() - packet.obs_stamp_ns) / 1e6;
    if (this.bus) {
      this.chunkObsStamps.set(packet.seq, packet.obs_stamp_ns);
      // Commands only execute recent chunks; older stamps are never asked for again.
      if (this.chunkObsStamps.size > 64) {
        this.chunkObsStamps.delete(this.chunkObsStamps.keys().next().value as number);
      }
    }
    if (this.corrector && !this.correcting) void this.correctAndSend(packet);
    else
      this.control.send({
        type: 'chunk',
        seq: packet.seq,
        obsNs: packet.obs_stamp_ns,
        values: this.chunk,
      });
  }

  /**
   * The learned stage corrects the chunk off the control thread; on any error the chunk goes
   * as it came (the analytic path), counted and reported. Either way the control thread's
   * safety filter is still the last stage.
   */
  private async correctAndSend(packet: TokensPacket): Promise<void> {
    const learned = this.diagnostics.learned;
    this.correcting = true;
    // Its own copy: the next packet may be decoded into this.chunk while this one awaits.
    const input = this.chunk.slice();
    const start = this.lastCommand?.position ?? this.rest;
    let values: Float64Array = input;
    try {
      await this.corrector?.correct(input, start, this.corrected);
      values = this.corrected;
      if (learned) learned.corrected++;
    } catch (err) {
      if (!(err instanceof LearnedStageError)) throw err;
      if (learned) {
        learned.fallbacks++;
        learned.last_error = err.message;
      }
      this.options.log.warn(
        `learned stage failed, chunk ${packet.seq} runs uncorrected: ${err.message}`,
      );
    } finally {
      this.correcting = false;
    }
    this.control.send({ type: 'chunk', seq: packet.seq, obsNs: packet.obs_stamp_ns, values });
  }

  private onCommand(command: ControlCommand): void {
    this.lastCommand = command;
    this.diagnostics.commands++;
    if (command.correction > SIGNIFICANT_CORRECTION) this.diagnostics.clamped++;
    if (command.correction > this.diagnostics.max_correction)
      this.diagnostics.max_correction = command.correction;
    this.diagnostics.mode = command.mode;
    if (command.chunkSeq >= 0) this.diagnostics.last_token_seq = command.chunkSeq;
    this.sink?.write({
      stamp_ns: command.stampNs,
      mode: command.mode,
      chunk_seq: command.chunkSeq,
      position: command.position,
      velocity: command.velocity,
      correction: command.correction,
    });
    const output = this.options.profile.cerebellum.output;
    this.bus?.publishCommand(command, this.chunkObsStamps.get(command.chunkSeq) ?? 0n);
    if (this.ros && output.kind === 'ros') {
      if (command.index % output.decimation === 0) {
        const published = this.ros.publishCommand(command.position, command.velocity);
        this.options.onPublished?.(command, published);
      }
    } else this.options.onPublished?.(command);
    this.options.onCommand?.(command);
  }

  private publishDiagnostics(): void {
    this.ros?.publishDiagnostics(this.diagnosticStatus());
  }

  /** The node's state as one diagnostic_msgs/DiagnosticStatus (ROS output and the recorder). */
  diagnosticStatus(): DiagnosticStatusInput {
    const d = this.snapshot();
    const level = d.mode === 'run' ? 'ok' : d.mode === 'hold' ? 'warn' : 'error';
    const { link, learned, ...fields } = d;
    return {
      level,
      name: 'pons_cerebellum: control',
      message: d.estop_reason ? `${d.mode}: ${d.estop_reason}` : d.mode,
      values: {
        ...fields,
        ...prefixed('link_', link),
        ...(learned ? prefixed('learned_', learned) : {}),
      },
    };
  }

  private onEvent(event: ControlEvent): void {
    switch (event.event) {
      case 'expired':
        this.diagnostics.chunks_expired++;
        break;
      case 'rejected':
        this.diagnostics.chunks_rejected++;
        this.options.log.warn(
          `refused chunk seq ${event.seq}: a step violates the limits (on_violation: reject)`,
        );
        break;
      case 'estop':
        this.diagnostics.estop_reason = event.reason;
        this.options.log.warn(
          `E-STOP latched (${event.reason}): decelerating to hold until an explicit reset`,
        );
        break;
      case 'reset':
        this.diagnostics.estop_reason = '';
        this.options.log.info('e-stop reset');
        break;
      case 'estopped':
        break;
    }
  }

  private sendState(): void {
    const c = this.lastCommand;
    if (!c) return;
    this.link.sendState({
      stamp_ns: c.stampNs,
      position: c.position,
      velocity: c.velocity,
      mode: c.mode,
      last_token_seq: this.diagnostics.last_token_seq,
    });
  }
}

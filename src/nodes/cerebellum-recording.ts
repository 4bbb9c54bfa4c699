import type { ControlCommand, ControlSetup } from '../cerebellum/control-protocol.js';
import { controlSetupToJson } from '../cerebellum/control-setup-json.js';
import type { AppliedInput, SkippedTicks } from '../cerebellum/control-thread.js';
import type { ActionSpec } from '../contract/index.js';
import type { MessageSink } from '../record/message-sink.js';
import {
  actionChunkMsg,
  actionTokensMsg,
  controlInputMsg,
  type DiagnosticStatusInput,
  float64MultiArrayMsg,
  jointStateMsg,
  PONS_TYPES,
  ROS_TYPES,
  stringMsg,
} from '../ros/index.js';
import { epochNowNs, type TokensPacket } from '../wire/index.js';
import type { PublishedRosCommand } from './cerebellum-node.js';
import { recordDiagnostics } from './diagnostics-recording.js';

/**
 * What the cerebellum receives and emits, into a recorder: each token packet it accepted as
 * pons_msgs/ActionTokens, its decoded chunk as pons_msgs/ActionChunk, every command its output
 * sends (with ROS output the exact message published, on its topic; otherwise the joint
 * positions in a std_msgs/Float64MultiArray on `/pons/commands`), the measured joint states,
 * diagnostics once a second, and what `pons replay --verify` needs to re-run the control
 * thread offline: its setup and tick-0 time (JSON, `/pons/control/setup`) and every input it
 * applied with the applying tick (pons_msgs/ControlInput, `/pons/control/inputs`).
 */
export const TOKENS_IN_TOPIC = '/pons/action_tokens';
export const CHUNKS_TOPIC = '/pons/action_chunks';
export const COMMANDS_TOPIC = '/pons/commands';
export const CONTROL_SETUP_TOPIC = '/pons/control/setup';
export const CONTROL_INPUTS_TOPIC = '/pons/control/inputs';
export const MEASURED_TOPIC = '/joint_states';

/** The JSON on CONTROL_SETUP_TOPIC. */
export interface RecordedControlSetup {
  epoch_start_ns: string;
  setup: unknown;
}

export function recordCerebellum(
  recorder: MessageSink,
  spec: ActionSpec & { id: string },
  joints: readonly string[],
) {
  const dimensionNames = spec.dimensions.map((d) => d.name);
  /** Inputs recorded so far: the index a skip record carries. */
  let applied = 0;
  return {
    onChunk: (packet: TokensPacket, actions: Float64Array) => {
      const now = epochNowNs();
      recorder.record(
        TOKENS_IN_TOPIC,
        PONS_TYPES.actionTokens,
        now,
        actionTokensMsg(packet),
        'reliable',
      );
      recorder.record(
        CHUNKS_TOPIC,
        PONS_TYPES.actionChunk,
        now,
        actionChunkMsg({
          stampNs: packet.obs_stamp_ns,
          specId: spec.id,
          dimensionNames,
          horizon: spec.horizon,
          dt: spec.dt,
          values: actions,
        }),
        'reliable',
      );
    },
    onPublished: (command: ControlCommand, ros?: PublishedRosCommand) => {
      if (ros) recorder.record(ros.topic, ros.type, command.stampNs, ros.message, 'reliable');
      else {
        recorder.record(
          COMMANDS_TOPIC,
          ROS_TYPES.float64MultiArray,
          command.stampNs,
          float64MultiArrayMsg(command.position, 'joints', command.position.length),
          'reliable',
        );
      }
    },
    onControlStarted: (setup: ControlSetup, epochStartNs: bigint) => {
      const json = `{"epoch_start_ns":"${epochStartNs}","setup":${controlSetupToJson(setup)}}`;
      recorder.record(
        CONTROL_SETUP_TOPIC,
        ROS_TYPES.string,
        epochNowNs(),
        stringMsg(json),
        'reliable',
      );
    },
    onSkipped: ({ first, count, stampNs }: SkippedTicks) => {
      recorder.record(
        CONTROL_INPUTS_TOPIC,
        PONS_TYPES.controlInput,
        stampNs,
        controlInputMsg({ stampNs, tick: first, index: applied, kind: 'skip', values: [count] }),
        'reliable',
      );
    },
    onApplied: ({ input, tick, index, stampNs }: AppliedInput) => {
      applied = index + 1;
      recorder.record(
        CONTROL_INPUTS_TOPIC,
        PONS_TYPES.controlInput,
        stampNs,
        controlInputMsg({
          stampNs,
          tick,
          index,
          kind: input.type,
          ...(input.type === 'chunk'
            ? { seq: input.seq, obsStampNs: input.obsNs, values: input.values }
            : input.type === 'measured'
              ? { values: input.position }
              : input.type === 'estop'
                ? { reason: input.reason }
                : {}),
        }),
        'reliable',
      );
      if (input.type === 'measured') {
        recorder.record(
          MEASURED_TOPIC,
          ROS_TYPES.jointState,
          stampNs,
          jointStateMsg({ stampNs, names: joints, position: input.position }),
          'sensor_data',
        );
      }
    },
    onDiagnostics: (status: DiagnosticStatusInput) => recordDiagnostics(recorder, status),
  };
}

import type { ControlCommand } from '../cerebellum/control-protocol.js';
import type { ActionSpec } from '../contract/index.js';
import type { MessageSink } from '../record/message-sink.js';
import {
  actionChunkMsg,
  actionTokensMsg,
  float64MultiArrayMsg,
  PONS_TYPES,
  ROS_TYPES,
} from '../ros/index.js';
import { epochNowNs, type TokensPacket } from '../wire/index.js';

/**
 * What the cerebellum receives and emits, into a recorder: each token packet it accepted as
 * pons_msgs/ActionTokens, its decoded chunk as pons_msgs/ActionChunk, and every command. With
 * ROS output a command is recorded as the exact message published, on its topic; otherwise
 * as the joint positions in a std_msgs/Float64MultiArray on `/pons/commands`.
 */
export const TOKENS_IN_TOPIC = '/pons/action_tokens';
export const CHUNKS_TOPIC = '/pons/action_chunks';
export const COMMANDS_TOPIC = '/pons/commands';

export function recordCerebellum(
  recorder: MessageSink,
  spec: ActionSpec & { id: string },
  rosMessage: (
    command: ControlCommand,
  ) => { type: string; topic: string; message: object } | undefined,
) {
  const dimensionNames = spec.dimensions.map((d) => d.name);
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
    onCommand: (command: ControlCommand) => {
      const ros = rosMessage(command);
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
  };
}

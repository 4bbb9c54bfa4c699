import type { Subscription } from 'rxjs';
import type { MessageSink } from '../record/message-sink.js';
import {
  actionTokensMsg,
  headerMsg,
  imageMsg,
  jointStateMsg,
  PONS_TYPES,
  ROS_TYPES,
  stringMsg,
} from '../ros/index.js';
import { epochNowNs } from '../wire/index.js';
import type { DecisionRecord } from './brain-node.js';
import type { BrainSources } from './brain-sources.js';
import type { RobotProfile } from './profile.js';

/**
 * What the brain sees and emits, into a recorder: each camera's frames on its profile topic
 * (sensor_msgs/Image or CompressedImage), joint states, instructions (std_msgs/String) and
 * every decision as pons_msgs/ActionTokens on `/pons/action_tokens`. Messages are stamped
 * with the observation's stamp; the log time is when the brain received or sent them.
 */
export const ACTION_TOKENS_TOPIC = '/pons/action_tokens';

export function recordBrain(
  recorder: MessageSink,
  sources: BrainSources,
  brain: RobotProfile['brain'],
): { onDecision: (d: DecisionRecord) => void; stop: () => void } {
  const cameras = new Map(brain.cameras.map((c) => [c.name, c]));
  const subscriptions: Subscription[] = [
    sources.sensors.subscribe((e) => {
      const now = epochNowNs();
      if (e.payload.kind === 'joints') {
        const { name, position } = e.payload;
        recorder.record(
          brain.joint_states_topic,
          ROS_TYPES.jointState,
          now,
          jointStateMsg({ stampNs: e.stampNs, names: name, position }),
          'sensor_data',
        );
        return;
      }
      const topic = cameras.get(e.topic)?.topic ?? `/${e.topic}/image_raw`;
      const frame = e.payload.frame;
      if (frame.kind === 'raw') {
        recorder.record(
          topic,
          ROS_TYPES.image,
          now,
          imageMsg({ stampNs: e.stampNs, frameId: e.topic, ...frame }),
          'sensor_data',
        );
      } else {
        recorder.record(
          topic,
          ROS_TYPES.compressedImage,
          now,
          { header: headerMsg(e.stampNs, e.topic), format: frame.format, data: frame.data },
          'sensor_data',
        );
      }
    }),
    sources.instructions.subscribe((text) =>
      recorder.record(
        brain.instruction_topic,
        ROS_TYPES.string,
        epochNowNs(),
        stringMsg(text),
        'reliable',
      ),
    ),
  ];
  return {
    onDecision: (d) =>
      recorder.record(
        ACTION_TOKENS_TOPIC,
        PONS_TYPES.actionTokens,
        d.packet.emit_stamp_ns,
        actionTokensMsg(d.packet),
        'reliable',
      ),
    stop: () => {
      for (const s of subscriptions) s.unsubscribe();
    },
  };
}

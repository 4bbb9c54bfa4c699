import type { Subscription } from 'rxjs';
import type { Frame } from '../brain/index.js';
import type { MessageSink } from '../record/message-sink.js';
import {
  type ActionTokensInput,
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
 * with the observation's stamp; the log time is when the brain received or sent them. The
 * record* functions are that layout, shared with `pons sim collect`, whose recordings must
 * read exactly like a brain's.
 */
export const ACTION_TOKENS_TOPIC = '/pons/action_tokens';

type BrainTopics = Pick<
  RobotProfile['brain'],
  'cameras' | 'joint_states_topic' | 'instruction_topic'
>;

/** The topic a camera's frames are recorded on: its profile topic. */
export function cameraTopic(brain: BrainTopics, camera: string): string {
  return brain.cameras.find((c) => c.name === camera)?.topic ?? `/${camera}/image_raw`;
}

export function recordFrame(
  recorder: MessageSink,
  brain: BrainTopics,
  camera: string,
  stampNs: bigint,
  logTimeNs: bigint,
  frame: Frame,
): void {
  const topic = cameraTopic(brain, camera);
  if (frame.kind === 'raw') {
    recorder.record(
      topic,
      ROS_TYPES.image,
      logTimeNs,
      imageMsg({ stampNs, frameId: camera, ...frame }),
      'sensor_data',
    );
  } else {
    recorder.record(
      topic,
      ROS_TYPES.compressedImage,
      logTimeNs,
      { header: headerMsg(stampNs, camera), format: frame.format, data: frame.data },
      'sensor_data',
    );
  }
}

export function recordJointState(
  recorder: MessageSink,
  brain: BrainTopics,
  stampNs: bigint,
  logTimeNs: bigint,
  names: readonly string[],
  position: ArrayLike<number>,
): void {
  recorder.record(
    brain.joint_states_topic,
    ROS_TYPES.jointState,
    logTimeNs,
    jointStateMsg({ stampNs, names, position }),
    'sensor_data',
  );
}

export function recordInstruction(
  recorder: MessageSink,
  brain: BrainTopics,
  logTimeNs: bigint,
  text: string,
): void {
  recorder.record(
    brain.instruction_topic,
    ROS_TYPES.string,
    logTimeNs,
    stringMsg(text),
    'reliable',
  );
}

/** One decision, logged when it was sent. */
export function recordDecision(recorder: MessageSink, packet: ActionTokensInput): void {
  recorder.record(
    ACTION_TOKENS_TOPIC,
    PONS_TYPES.actionTokens,
    packet.emit_stamp_ns,
    actionTokensMsg(packet),
    'reliable',
  );
}

export function recordBrain(
  recorder: MessageSink,
  sources: BrainSources,
  brain: RobotProfile['brain'],
): { onDecision: (d: DecisionRecord) => void; stop: () => void } {
  const subscriptions: Subscription[] = [
    sources.sensors.subscribe((e) => {
      const now = epochNowNs();
      if (e.payload.kind === 'joints') {
        recordJointState(recorder, brain, e.stampNs, now, e.payload.name, e.payload.position);
      } else {
        recordFrame(recorder, brain, e.topic, e.stampNs, now, e.payload.frame);
      }
    }),
    sources.instructions.subscribe((text) =>
      recordInstruction(recorder, brain, epochNowNs(), text),
    ),
  ];
  return {
    onDecision: (d) => recordDecision(recorder, d.packet),
    stop: () => {
      for (const s of subscriptions) s.unsubscribe();
    },
  };
}

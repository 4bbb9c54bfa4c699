import { Observable, Subject, share } from 'rxjs';
import type { Frame } from '../brain/index.js';
import type { BusPacket, BusSubscriber, LinkLog } from '../link/index.js';
import {
  type McapMessage,
  type McapReadReport,
  newReport,
  readRos2Mcap,
} from '../record/mcap-read.js';
import {
  BrainRos,
  type BrainRosOptions,
  type CompressedImageIn,
  type ImageIn,
  type JointStateIn,
  readCompressedImage,
  readImage,
  readJointState,
} from '../ros/index.js';
import { epochNowNs, type FramePacket, InputError } from '../wire/index.js';
import { type BrainEvent, JOINTS_TOPIC } from './brain-node.js';
import { untilDue } from './pacing.js';
import type { RobotProfile } from './profile.js';

/**
 * Observation sources for the brain node, as RxJS streams: the pons observation bus, or
 * ROS 2 topics. Sources only translate: the bus and the ROS readers validated every message
 * at the boundary.
 */

export interface BrainSources {
  sensors: Observable<BrainEvent>;
  instructions: Observable<string>;
}

/** A bus frame packet as the brain runtime's frame (raw rows are packed: step = width·channels). */
function frameOf(packet: FramePacket): Frame {
  if (packet.encoding === 'jpeg' || packet.encoding === 'png') {
    return { kind: 'compressed', format: packet.encoding, data: packet.data };
  }
  return {
    kind: 'raw',
    encoding: packet.encoding,
    width: packet.width,
    height: packet.height,
    step: packet.data.length / packet.height,
    data: packet.data,
  };
}

export function busSources(bus: BusSubscriber): BrainSources {
  const packets = new Observable<[BusPacket, bigint]>((subscriber) => {
    bus.onPacket((packet, receivedNs) => subscriber.next([packet, receivedNs]));
    return () => bus.onPacket(() => {});
  }).pipe(share());
  const sensors = new Observable<BrainEvent>((subscriber) =>
    packets.subscribe(([p, receivedNs]) => {
      if (p.kind === 'frame') {
        subscriber.next({
          topic: p.camera,
          stampNs: p.stamp_ns,
          receivedNs,
          payload: { kind: 'frame', frame: frameOf(p) },
        });
      } else if (p.kind === 'joints') {
        subscriber.next({
          topic: JOINTS_TOPIC,
          stampNs: p.stamp_ns,
          receivedNs,
          payload: { kind: 'joints', name: p.name, position: p.position },
        });
      }
    }),
  );
  const instructions = new Observable<string>((subscriber) =>
    packets.subscribe(([p]) => {
      if (p.kind === 'instruction') subscriber.next(p.text);
    }),
  );
  return { sensors, instructions };
}

/** ROS 2 topics as sources; invalid messages are logged (rate limited by the caller's log). */
export async function rosSources(
  options: BrainRosOptions,
  log: LinkLog,
  monotonic: () => bigint = process.hrtime.bigint,
): Promise<BrainSources & { ros: BrainRos; invalid: () => number }> {
  const sensors = new Subject<BrainEvent>();
  const instructions = new Subject<string>();
  let invalid = 0;
  const ros = await BrainRos.open(options, {
    frame: (camera, stampNs, frame) =>
      sensors.next({
        topic: camera,
        stampNs,
        receivedNs: monotonic(),
        payload: { kind: 'frame', frame },
      }),
    joints: (stampNs, name, position) =>
      sensors.next({
        topic: JOINTS_TOPIC,
        stampNs,
        receivedNs: monotonic(),
        payload: { kind: 'joints', name, position },
      }),
    instruction: (text) => instructions.next(text),
    invalid: (err) => {
      invalid++;
      if (invalid === 1 || invalid % 100 === 0)
        log.warn(`dropped ROS message (${invalid} so far): ${err.message}`);
    },
  });
  return { sensors, instructions, ros, invalid: () => invalid };
}

/**
 * A rosbag2 MCAP recording as the source: camera, joint-state and instruction topics (the
 * profile's) replayed with their recorded timing × `speed`, and restamped so the recording
 * starts now (stamps keep their offsets from each other; the gate's staleness check and the
 * cerebellum's time alignment then work as live). `start()` begins the replay once the
 * node listens, and resolves when the last message has been handed on, with what was read,
 * skipped and damaged.
 */
export function mcapSources(
  bytes: Uint8Array,
  file: string,
  brain: Pick<
    RobotProfile['brain'],
    'cameras' | 'joint_states_topic' | 'use_joint_states' | 'instruction_topic'
  >,
  options: { speed: number; log: LinkLog; monotonic?: () => bigint },
): BrainSources & { start: () => Promise<McapReadReport> } {
  const monotonic = options.monotonic ?? process.hrtime.bigint;
  const sensors = new Subject<BrainEvent>();
  const instructions = new Subject<string>();
  const cameras = new Map(brain.cameras.map((c) => [c.topic, c]));
  const report = newReport();
  const messages = [...readRos2Mcap(bytes, file, report)].filter(
    (m) =>
      cameras.has(m.topic) ||
      m.topic === brain.instruction_topic ||
      (brain.use_joint_states && m.topic === brain.joint_states_topic),
  );
  if (report.stopped) options.log.warn(report.stopped);
  for (const [topic, why] of Object.entries(report.skipped)) {
    options.log.warn(`${file}: skipped ${topic}: ${why}`);
  }
  const firstLog = messages[0]?.logTimeNs ?? 0n;
  let shift = 0n;
  const hand = (m: McapMessage) => {
    try {
      const camera = cameras.get(m.topic);
      if (camera) {
        const { stampNs, image } = camera.compressed
          ? readCompressedImage(m.message as CompressedImageIn, m.topic)
          : readImage(m.message as ImageIn, m.topic);
        sensors.next({
          topic: camera.name,
          stampNs: stampNs + shift,
          receivedNs: monotonic(),
          payload: { kind: 'frame', frame: image },
        });
      } else if (m.topic === brain.instruction_topic) {
        instructions.next((m.message as { data: string }).data);
      } else {
        const { stampNs, name, position } = readJointState(m.message as JointStateIn, m.topic);
        sensors.next({
          topic: JOINTS_TOPIC,
          stampNs: stampNs + shift,
          receivedNs: monotonic(),
          payload: { kind: 'joints', name, position },
        });
      }
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      report.undecodable++;
      options.log.warn(`${file}: ${err.message}`);
    }
  };
  const start = async (): Promise<McapReadReport> => {
    shift = epochNowNs() - firstLog;
    const startedAt = performance.now();
    for (const m of messages) {
      await untilDue(m.logTimeNs - firstLog, options.speed, startedAt);
      hand(m);
    }
    sensors.complete();
    instructions.complete();
    return report;
  };
  return { sensors, instructions, start };
}

import { Observable, Subject, share } from 'rxjs';
import type { Frame } from '../brain/index.js';
import type { BusPacket, BusSubscriber, LinkLog } from '../link/index.js';
import { BrainRos, type BrainRosOptions } from '../ros/index.js';
import type { FramePacket } from '../wire/index.js';
import { type BrainEvent, JOINTS_TOPIC } from './brain-node.js';

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
export function frameOf(packet: FramePacket): Frame {
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

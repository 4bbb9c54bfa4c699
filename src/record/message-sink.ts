import { cdrWriter } from '../ros/index.js';

/**
 * Where a node's topics go (an MCAP recorder, a live Foxglove view, both): messages in
 * rclnodejs's JS shape go in, each is serialized to CDR at most once, however many sinks
 * take it.
 */

export type RecordedQos = 'sensor_data' | 'reliable';

/** What the nodes write to: one message of ROS type `type` on `topic`, stamped `stampNs`. */
export interface MessageSink {
  record(topic: string, type: string, stampNs: bigint, message: object, qos: RecordedQos): void;
}

/** A sink that keeps messages as CDR bytes. */
export interface CdrSink extends MessageSink {
  /**
   * Asked before each message is serialized: false when this sink would throw it away now
   * (closed, nobody watching), so the tee need not serialize it. A sink may register the
   * topic here.
   */
  wants(topic: string, type: string, qos: RecordedQos): boolean;
  /**
   * Takes a message already serialized as CDR. `data` is shared with the tee's other sinks:
   * none may change it, and the recorder moves its buffer to its writer thread at the end of
   * this event-loop turn, so a sink that needs the bytes later keeps a copy.
   */
  recordCdr(topic: string, type: string, stampNs: bigint, data: Uint8Array, qos: RecordedQos): void;
}

/** Serializes one message once, if any of `sinks` wants it, and hands the bytes to each that does. */
export function recordInto(
  sinks: readonly CdrSink[],
  topic: string,
  type: string,
  stampNs: bigint,
  message: object,
  qos: RecordedQos,
): void {
  let data: Uint8Array | undefined;
  for (const sink of sinks) {
    if (!sink.wants(topic, type, qos)) continue;
    data ??= cdrWriter(type).writeMessage(message);
    sink.recordCdr(topic, type, stampNs, data, qos);
  }
}

/** One sink over several: `--record` and `--foxglove` together serialize each message once. */
export function teeSink(sinks: readonly CdrSink[]): MessageSink {
  return {
    record: (topic, type, stampNs, message, qos) =>
      recordInto(sinks, topic, type, stampNs, message, qos),
  };
}

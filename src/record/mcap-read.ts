import { parse } from '@foxglove/rosmsg';
import { MessageReader } from '@foxglove/rosmsg2-serialization';
import { McapStreamReader, type TypedMcapRecord } from '@mcap/core';
import { decompress as zstdDecompress } from 'fzstd';

/**
 * Reads a rosbag2 MCAP file (profile `ros2`: `ros2msg` schemas, `cdr` messages) in file
 * order, decoding each message against the schema the file itself carries. What cannot be
 * read is reported, never fatal: a channel whose encoding or schema pons cannot decode is
 * skipped (and said once), a message that does not decode is counted, and a file cut short
 * (a recorder killed mid-write) or damaged yields every message before the damage, then the
 * reason.
 */

export interface McapMessage {
  topic: string;
  /** The ROS type, as the schema names it (`sensor_msgs/msg/Image`). */
  type: string;
  logTimeNs: bigint;
  publishTimeNs: bigint;
  message: unknown;
  /** The message's CDR bytes as recorded. */
  data: Uint8Array;
}

export interface McapReadReport {
  messages: number;
  /** Messages per topic that decoded. */
  byTopic: Record<string, number>;
  /** Channels skipped, with why. */
  skipped: Record<string, string>;
  /** Messages on the skipped channels, per topic (counted, not decoded). */
  skippedMessages: Record<string, number>;
  /** Messages that did not decode against their schema. */
  undecodable: number;
  /** Why reading stopped before the file's end (truncated, corrupt); absent for a whole file. */
  stopped?: string;
  /**
   * Where it stopped, in bytes: truncated, `offset` is where the unfinished record starts;
   * corrupt, where the record that failed to read ends (it is lost too). `unreadBytes`: from
   * `offset` to the end of the file.
   */
  stoppedAt?: { kind: 'truncated' | 'corrupt'; offset: number; unreadBytes: number };
}

interface Decoder {
  topic: string;
  type: string;
  reader: MessageReader;
}

export function* readRos2Mcap(
  bytes: Uint8Array,
  source: string,
  report: McapReadReport = newReport(),
): Generator<McapMessage, McapReadReport> {
  const reader = new McapStreamReader({
    decompressHandlers: {
      zstd: (data, size) => {
        // No output buffer: fzstd compares it with `== 1`, which turns a buffer into a string
        // of all its bytes (seconds per megabyte); without one it allocates the frame's size.
        const out = zstdDecompress(data);
        if (out.byteLength !== Number(size))
          throw new Error(`zstd chunk gave ${out.byteLength} bytes, not ${size}`);
        return out;
      },
    },
  });
  const schemas = new Map<number, { name: string; encoding: string; text: string }>();
  const decoders = new Map<number, Decoder | null>();
  const channelTopics = new Map<number, string>();
  reader.append(bytes);
  for (;;) {
    let record: TypedMcapRecord | undefined;
    try {
      record = reader.nextRecord();
    } catch (err) {
      report.stopped = `${source}: corrupt after ${report.messages} messages: ${(err as Error).message}`;
      report.stoppedAt = stoppedAt('corrupt', bytes, reader);
      return report;
    }
    if (record === undefined) {
      if (!reader.done()) {
        report.stopped = `${source}: truncated after ${report.messages} messages (${reader.bytesRemaining()} bytes of an unfinished record)`;
        report.stoppedAt = stoppedAt('truncated', bytes, reader);
      }
      return report;
    }
    if (record.type === 'Schema') {
      schemas.set(record.id, {
        name: record.name,
        encoding: record.encoding,
        text: new TextDecoder().decode(record.data),
      });
    } else if (record.type === 'Channel') {
      channelTopics.set(record.id, record.topic);
      decoders.set(record.id, channelDecoder(record, schemas.get(record.schemaId), report));
    } else if (record.type === 'Message') {
      const decoder = decoders.get(record.channelId);
      if (!decoder) {
        const topic = channelTopics.get(record.channelId) ?? `channel ${record.channelId}`;
        report.skippedMessages[topic] = (report.skippedMessages[topic] ?? 0) + 1;
        continue;
      }
      let message: unknown;
      try {
        message = decoder.reader.readMessage(record.data);
      } catch {
        report.undecodable++;
        continue;
      }
      report.messages++;
      report.byTopic[decoder.topic] = (report.byTopic[decoder.topic] ?? 0) + 1;
      yield {
        topic: decoder.topic,
        type: decoder.type,
        logTimeNs: record.logTime,
        publishTimeNs: record.publishTime,
        message,
        data: record.data,
      };
    }
  }
}

export function newReport(): McapReadReport {
  return { messages: 0, byTopic: {}, skipped: {}, skippedMessages: {}, undecodable: 0 };
}

/** The reader keeps the bytes it has not parsed (after a failed record, when it throws). */
function stoppedAt(
  kind: 'truncated' | 'corrupt',
  bytes: Uint8Array,
  reader: McapStreamReader,
): McapReadReport['stoppedAt'] {
  const unreadBytes = reader.bytesRemaining();
  return { kind, offset: bytes.byteLength - unreadBytes, unreadBytes };
}

function channelDecoder(
  channel: { topic: string; messageEncoding: string },
  schema: { name: string; encoding: string; text: string } | undefined,
  report: McapReadReport,
): Decoder | null {
  const skip = (why: string) => {
    report.skipped[channel.topic] = why;
    return null;
  };
  if (channel.messageEncoding !== 'cdr') {
    return skip(`message encoding "${channel.messageEncoding}" (pons reads cdr)`);
  }
  if (!schema) return skip('no schema');
  if (schema.encoding !== 'ros2msg') {
    return skip(`schema encoding "${schema.encoding}" (pons reads ros2msg)`);
  }
  try {
    return {
      topic: channel.topic,
      type: schema.name,
      reader: ros2msgReader(schema.text),
    };
  } catch (err) {
    return skip(`schema ${schema.name} does not parse: ${(err as Error).message}`);
  }
}

/** A CDR reader for a `ros2msg` schema in rosbag2's layout (an MCAP file's, a live channel's). */
export function ros2msgReader(schema: string): MessageReader {
  return new MessageReader(parse(packageTypeNames(schema), { ros2: true }));
}

/**
 * rosbag2 names a dependency `MSG: pkg/msg/Type` but its fields `pkg/Type`; the parser matches
 * names exactly, so both are read as `pkg/Type`.
 */
function packageTypeNames(text: string): string {
  return text.replace(/^(MSG: )?([A-Za-z]\w*)\/msg\/(\w+)/gm, '$1$2/$3');
}

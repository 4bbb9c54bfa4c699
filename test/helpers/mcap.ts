import { McapWriter } from '@mcap/core';
import { ros2msgSchema } from '../../src/record/ros2msg-schema.js';
import { cdrWriter } from '../../src/ros/index.js';

/** @mcap/core's own writer into memory (uncompressed), and the bytes it has written. */
export async function memoryMcapWriter(
  chunkSize = 64 * 1024,
): Promise<{ writer: McapWriter; bytes: () => Uint8Array }> {
  const parts: Uint8Array[] = [];
  let position = 0n;
  const writer = new McapWriter({
    writable: {
      position: () => position,
      write: async (buffer: Uint8Array) => {
        parts.push(buffer.slice());
        position += BigInt(buffer.byteLength);
      },
    },
    chunkSize,
  });
  await writer.start({ profile: 'ros2', library: 'pons-test' });
  return { writer, bytes: () => Buffer.concat(parts) };
}

/** A channel of JSON messages (which pons does not read) on `topic`: its id. */
export async function jsonChannel(writer: McapWriter, topic = '/json'): Promise<number> {
  const schemaId = await writer.registerSchema({
    name: 'x',
    encoding: 'jsonschema',
    data: new Uint8Array(),
  });
  return writer.registerChannel({
    schemaId,
    topic,
    messageEncoding: 'json',
    metadata: new Map(),
  });
}

/** A rosbag2-profile MCAP file in memory, written by @mcap/core's own writer (uncompressed). */
export async function writeRos2Mcap(
  messages: { topic: string; type: string; logTimeNs: bigint; message: object }[],
  chunkSize = 64 * 1024,
): Promise<Uint8Array> {
  const { writer, bytes } = await memoryMcapWriter(chunkSize);
  const channels = new Map<string, number>();
  let sequence = 0;
  for (const m of messages) {
    let channel = channels.get(m.topic);
    if (channel === undefined) {
      const schemaId = await writer.registerSchema({
        name: m.type,
        encoding: 'ros2msg',
        data: new TextEncoder().encode(ros2msgSchema(m.type)),
      });
      channel = await writer.registerChannel({
        schemaId,
        topic: m.topic,
        messageEncoding: 'cdr',
        metadata: new Map(),
      });
      channels.set(m.topic, channel);
    }
    await writer.addMessage({
      channelId: channel,
      sequence: sequence++,
      logTime: m.logTimeNs,
      publishTime: m.logTimeNs,
      data: cdrWriter(m.type).writeMessage(m.message),
    });
  }
  await writer.end();
  return bytes();
}

import { McapWriter } from '@mcap/core';
import { ros2msgSchema } from '../../src/record/ros2msg-schema.js';
import { cdrWriter } from '../../src/ros/index.js';

/** A rosbag2-profile MCAP file in memory, written by @mcap/core's own writer (uncompressed). */
export async function writeRos2Mcap(
  messages: { topic: string; type: string; logTimeNs: bigint; message: object }[],
  chunkSize = 64 * 1024,
): Promise<Uint8Array> {
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
  return Buffer.concat(parts);
}

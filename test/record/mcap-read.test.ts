import { describe, expect, it } from 'vitest';
import { newReport, readRos2Mcap } from '../../src/record/mcap-read.js';
import { ros2msgSchema } from '../../src/record/ros2msg-schema.js';
import { ROS_TYPES } from '../../src/ros/index.js';
import { jsonChannel, memoryMcapWriter, writeRos2Mcap } from '../helpers/mcap.js';

// rosbag2-profile MCAP files written by @mcap/core's writer, read back by pons's reader.

const header = (ns: bigint) => ({
  stamp: { sec: Number(ns / 1_000_000_000n), nanosec: Number(ns % 1_000_000_000n) },
  frame_id: 'overhead',
});
const T0 = 1_700_000_000_000_000_000n;

function recording(frames: number) {
  const out: { topic: string; type: string; logTimeNs: bigint; message: object }[] = [];
  out.push({
    topic: '/pons/instruction',
    type: ROS_TYPES.string,
    logTimeNs: T0,
    message: { data: 'reach the red block' },
  });
  for (let k = 0; k < frames; k++) {
    const t = T0 + BigInt(k) * 100_000_000n;
    out.push({
      topic: '/camera/image_raw',
      type: ROS_TYPES.image,
      logTimeNs: t + 1_000_000n,
      message: {
        header: header(t),
        height: 2,
        width: 3,
        encoding: 'rgb8',
        is_bigendian: 0,
        step: 9,
        data: new Uint8Array(18).fill(k),
      },
    });
    out.push({
      topic: '/joint_states',
      type: ROS_TYPES.jointState,
      logTimeNs: t + 2_000_000n,
      message: { header: header(t), name: ['a', 'b'], position: [k, -k], velocity: [], effort: [] },
    });
  }
  return out;
}

describe('reading rosbag2 MCAP', () => {
  it('has the rosbag2 schema layout: the type text, then MSG: pkg/msg/Type sections', () => {
    const schema = ros2msgSchema(ROS_TYPES.image);
    expect(schema.split('\n').slice(0, 2)).toEqual(['std_msgs/Header header', 'uint32 height']);
    expect(schema).toContain(`${'='.repeat(80)}\nMSG: std_msgs/msg/Header\n`);
    expect(schema).toContain('MSG: builtin_interfaces/msg/Time\nint32 sec\nuint32 nanosec');
  });

  it('decodes every message against the schema the file carries, in file order', async () => {
    const bytes = await writeRos2Mcap(recording(5));
    const report = newReport();
    const messages = [...readRos2Mcap(bytes, 'rec.mcap', report)];
    expect(report).toMatchObject({
      messages: 11,
      byTopic: { '/pons/instruction': 1, '/camera/image_raw': 5, '/joint_states': 5 },
      undecodable: 0,
    });
    expect(report.stopped).toBeUndefined();
    expect(messages[0]).toMatchObject({
      topic: '/pons/instruction',
      type: 'std_msgs/msg/String',
      message: { data: 'reach the red block' },
    });
    const image = messages.find(
      (m) => m.topic === '/camera/image_raw' && (m.message as { data: Uint8Array }).data[0] === 3,
    );
    expect(image?.logTimeNs).toBe(T0 + 301_000_000n);
    expect(image?.message).toMatchObject({
      width: 3,
      height: 2,
      encoding: 'rgb8',
      step: 9,
      header: header(T0 + 300_000_000n),
    });
    const joints = messages
      .filter((m) => m.topic === '/joint_states')
      .map((m) => Array.from((m.message as { position: Float64Array }).position));
    expect(joints).toEqual([0, 1, 2, 3, 4].map((k) => [k, -k]));
  });

  it('recovers what was written before a file was cut short (a recorder killed mid-write)', async () => {
    const bytes = await writeRos2Mcap(recording(40), 512);
    const whole = [...readRos2Mcap(bytes, 'rec.mcap')].length;
    const report = newReport();
    const cut = [
      ...readRos2Mcap(bytes.subarray(0, Math.floor(bytes.length * 0.6)), 'cut.mcap', report),
    ];
    expect(cut.length).toBeGreaterThan(10);
    expect(cut.length).toBeLessThan(whole);
    expect(report.stopped).toMatch(/^cut\.mcap: truncated after \d+ messages/);
    // What was recovered is exactly the start of the recording.
    const all = [...readRos2Mcap(bytes, 'rec.mcap')];
    expect(cut.map((m) => m.logTimeNs)).toEqual(all.slice(0, cut.length).map((m) => m.logTimeNs));
  });

  it('stops at a damaged chunk with the reason, keeping the chunks before it', async () => {
    const bytes = Uint8Array.from(await writeRos2Mcap(recording(40), 512));
    const at = Math.floor(bytes.length / 2);
    bytes[at] = (bytes[at] as number) ^ 0xff;
    const report = newReport();
    const read = [...readRos2Mcap(bytes, 'bad.mcap', report)];
    expect(read.length).toBeGreaterThan(5);
    expect(report.stopped).toMatch(/^bad\.mcap: (corrupt|truncated) after \d+ messages/);
  });

  it('skips a channel it cannot decode, says why, and reads the rest', async () => {
    const { writer, bytes } = await memoryMcapWriter();
    const json = await jsonChannel(writer);
    await writer.addMessage({
      channelId: json,
      sequence: 0,
      logTime: 1n,
      publishTime: 1n,
      data: new TextEncoder().encode('{}'),
    });
    await writer.end();
    const report = newReport();
    expect([...readRos2Mcap(bytes(), 'mixed.mcap', report)]).toEqual([]);
    expect(report.skipped['/json']).toBe('message encoding "json" (pons reads cdr)');
  });
});

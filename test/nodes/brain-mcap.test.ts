import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LinkClient } from '../../src/link/index.js';
import { ROS_TYPES } from '../../src/ros/index.js';
import type { TokensPacket } from '../../src/wire/index.js';
import { TINY_VLA } from '../helpers/brain-packages.js';
import { ipcEndpoints, memoryLog, planarArmIdentity } from '../helpers/link-fixtures.js';
import { writeRos2Mcap } from '../helpers/mcap.js';
import { PonsProcess } from '../helpers/processes.js';
import { brainProfile } from '../helpers/profiles.js';

// `pons brain --mcap`: a rosbag2 MCAP recording of camera and instruction topics replayed into
// the brain node (tiny model, own process), decisions out on the link.

const golden = JSON.parse(readFileSync(join(TINY_VLA, 'golden.json'), 'utf8')) as {
  cases: { image: string; instruction: string; autoregressive: { tokens: number[] } }[];
};
const { dir, endpoints } = ipcEndpoints('pons-brain-mcap-');
const FRAMES = 8;
let profile: string;
let full: Uint8Array;

beforeAll(async () => {
  const c = golden.cases[0] as (typeof golden.cases)[number];
  const { data, info } = await sharp(readFileSync(join(TINY_VLA, c.image)))
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const t0 = 1_700_000_000_000_000_000n;
  const messages = [
    {
      topic: '/pons/instruction',
      type: ROS_TYPES.string,
      logTimeNs: t0,
      message: { data: c.instruction },
    },
    ...Array.from({ length: FRAMES }, (_, k) => {
      const t = t0 + 50_000_000n + BigInt(k) * 100_000_000n;
      return {
        topic: '/overhead/image_raw',
        type: ROS_TYPES.image,
        logTimeNs: t,
        message: {
          header: {
            stamp: { sec: Number(t / 1_000_000_000n), nanosec: Number(t % 1_000_000_000n) },
            frame_id: 'overhead',
          },
          height: info.height,
          width: info.width,
          encoding: 'rgb8',
          is_bigendian: 0,
          step: info.width * 3,
          data: new Uint8Array(data),
        },
      };
    }),
  ];
  full = await writeRos2Mcap(messages, 256 * 1024);
  profile = brainProfile(dir, endpoints, {
    cameras: [{ name: 'overhead', topic: '/overhead/image_raw' }],
  });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function replay(file: string) {
  const client = await LinkClient.open({
    ...planarArmIdentity('test-arm'),
    endpoints,
    deliver: 'every',
    log: memoryLog(),
  });
  const packets: TokensPacket[] = [];
  client.onTokens((p) => packets.push(p));
  try {
    const brain = PonsProcess.start(['brain', '--config', profile, '--mcap', file, '--json']);
    const summary = await brain.waitFor((e) => e.event === 'summary', 30_000);
    expect(await brain.exited).toBe(0);
    return { summary, packets };
  } finally {
    client.close();
  }
}

describe('pons brain --mcap', () => {
  it('replays a recording into the model and ends by itself with what it read', async () => {
    const file = join(dir, 'episode.mcap');
    writeFileSync(file, full);
    const { summary, packets } = await replay(file);
    expect(summary.why).toBe('replay done');
    expect(summary.recording).toMatchObject({
      messages: FRAMES + 1,
      byTopic: { '/overhead/image_raw': FRAMES, '/pons/instruction': 1 },
    });
    // The first frame or two may go out before the link's subscriber has joined.
    expect(packets.length).toBeGreaterThanOrEqual(FRAMES - 2);
    for (const p of packets)
      expect(Array.from(p.tokens)).toEqual(golden.cases[0]?.autoregressive.tokens);
    // Restamped to now, 100 ms apart as recorded.
    const stamps = packets.map((p) => p.obs_stamp_ns);
    for (let i = 1; i < stamps.length; i++) {
      const gap = Number((stamps[i] as bigint) - (stamps[i - 1] as bigint)) / 1e6;
      expect(gap % 100).toBeCloseTo(0, 6);
    }
  }, 40_000);

  it('decides on what a cut-short recording holds, and says where it stopped', async () => {
    const file = join(dir, 'cut.mcap');
    writeFileSync(file, full.subarray(0, Math.floor(full.length * 0.7)));
    const { summary, packets } = await replay(file);
    const recording = summary.recording as { messages: number; stopped: string };
    expect(recording.messages).toBeGreaterThan(1);
    expect(recording.messages).toBeLessThan(FRAMES + 1);
    expect(recording.stopped).toMatch(/cut\.mcap: truncated after \d+ messages/);
    expect(packets.length).toBeGreaterThanOrEqual(1);
  }, 40_000);
});

import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LinkClient } from '../../src/link/index.js';
import { newReport, readRos2Mcap } from '../../src/record/mcap-read.js';
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

async function replay(file: string, ...extra: string[]) {
  const client = await LinkClient.open({
    ...planarArmIdentity('test-arm'),
    endpoints,
    deliver: 'every',
    log: memoryLog(),
  });
  const packets: TokensPacket[] = [];
  client.onTokens((p) => packets.push(p));
  try {
    const brain = PonsProcess.start([
      'brain',
      '--config',
      profile,
      '--mcap',
      file,
      '--json',
      ...extra,
    ]);
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

  it('records what it sees and decides as rosbag2 MCAP that reads back whole', async () => {
    const file = join(dir, 'in.mcap');
    const out = join(dir, 'out.mcap');
    writeFileSync(file, full);
    const { summary } = await replay(file, '--record', out);
    const recorded = summary.recorded as { recorded: number; dropped: number };
    expect(recorded.dropped).toBe(0);
    const report = newReport();
    const messages = [...readRos2Mcap(readFileSync(out), 'out.mcap', report)];
    expect(report.stopped).toBeUndefined();
    expect(report.undecodable).toBe(0);
    expect(report.byTopic['/overhead/image_raw']).toBe(FRAMES);
    expect(report.byTopic['/pons/instruction']).toBe(1);
    const tokens = messages.filter((m) => m.topic === '/pons/action_tokens');
    expect(tokens.length).toBe(summary.decisions);
    expect(tokens[0]?.type).toBe('pons_msgs/msg/ActionTokens');
    const first = tokens[0]?.message as { tokens: Uint32Array } | undefined;
    expect(Array.from(first?.tokens ?? [])).toEqual(golden.cases[0]?.autoregressive.tokens);
    expect(messages.length).toBe(recorded.recorded);
    // The file says how it was written: zstd chunks, rosbag2 QoS metadata.
    expect(Buffer.from(readFileSync(out)).includes('offered_qos_profiles')).toBe(true);
    expect(Buffer.from(readFileSync(out)).includes('zstd')).toBe(true);
  }, 40_000);

  it('leaves a readable recording when killed with SIGKILL mid-recording', async () => {
    const file = join(dir, 'long.mcap');
    const out = join(dir, 'killed.mcap');
    writeFileSync(file, full);
    const brain = PonsProcess.start([
      'brain',
      '--config',
      profile,
      '--mcap',
      file,
      '--speed',
      '0.5',
      '--json',
      '--record',
      out,
    ]);
    await brain.waitFor((e) => e.event === 'ready', 20_000);
    await new Promise((r) => setTimeout(r, 900));
    await brain.kill('SIGKILL');
    const report = newReport();
    const messages = [...readRos2Mcap(readFileSync(out), 'killed.mcap', report)];
    expect(report.stopped).toMatch(/killed\.mcap: truncated after \d+ messages/);
    expect(report.undecodable).toBe(0);
    expect(messages.filter((m) => m.topic === '/overhead/image_raw').length).toBeGreaterThanOrEqual(
      1,
    );
  }, 40_000);

  it('replays the recorded tokens into a live cerebellum, which records them with its commands', async () => {
    const tokensFile = join(dir, 'out.mcap');
    const recorded = [...readRos2Mcap(readFileSync(tokensFile), 'out.mcap')].filter(
      (m) => m.topic === '/pons/action_tokens',
    );
    const cerebellumFile = join(dir, 'cerebellum.mcap');
    const cerebellum = PonsProcess.start([
      'cerebellum',
      '--config',
      profile,
      '--record',
      cerebellumFile,
      '--json',
    ]);
    await cerebellum.waitFor((e) => e.event === 'ready', 20_000);
    const replay = PonsProcess.start(['replay', tokensFile, '--config', profile, '--json']);
    const done = await replay.waitFor((e) => e.event === 'summary', 20_000);
    expect(done).toMatchObject({ published: recorded.length, refused_spec: 0 });
    await new Promise((r) => setTimeout(r, 300));
    cerebellum.child.kill('SIGINT');
    const summary = await cerebellum.waitFor((e) => e.event === 'summary', 10_000);
    expect(await cerebellum.exited).toBe(0);
    expect((summary.recorded as { dropped: number }).dropped).toBe(0);
    const report = newReport();
    const got = [...readRos2Mcap(readFileSync(cerebellumFile), 'cerebellum.mcap', report)];
    expect(report.stopped).toBeUndefined();
    const tokensIn = got.filter((m) => m.topic === '/pons/action_tokens');
    expect(tokensIn.length).toBeGreaterThanOrEqual(recorded.length - 1);
    for (const m of tokensIn) {
      expect(Array.from((m.message as { tokens: Uint32Array }).tokens)).toEqual(
        golden.cases[0]?.autoregressive.tokens,
      );
    }
    expect(got.filter((m) => m.topic === '/pons/action_chunks').length).toBe(tokensIn.length);
    const commands = got.filter((m) => m.topic === '/pons/commands');
    expect(commands.length).toBeGreaterThan(100);
    expect(commands[0]?.type).toBe('std_msgs/msg/Float64MultiArray');
    const command = commands[0]?.message as { data: Float64Array } | undefined;
    expect(command?.data).toHaveLength(3);
  }, 60_000);
});

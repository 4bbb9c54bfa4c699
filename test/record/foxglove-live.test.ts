import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StatusLevel } from '@foxglove/ws-protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { noiseBytes } from '../../src/bench/noise.js';
import { FoxgloveLive } from '../../src/record/foxglove-live.js';
import { newReport, readRos2Mcap } from '../../src/record/mcap-read.js';
import { ros2msgSchema } from '../../src/record/ros2msg-schema.js';
import { imageMsg, PONS_TYPES, ROS_TYPES } from '../../src/ros/index.js';
import { type LiveClient as Client, LiveClient, type LiveMessage } from '../helpers/foxglove.js';
import { eventually, freePort } from '../helpers/link-fixtures.js';
import { writeRos2Mcap } from '../helpers/mcap.js';
import { PonsProcess, startPatternBrain } from '../helpers/processes.js';
import { armProfile, brainProfile } from '../helpers/profiles.js';

// `--foxglove <port>`: a real node process serves its topics over the Foxglove WebSocket
// protocol; real clients (@foxglove/ws-protocol's FoxgloveClient over `ws`) list, subscribe,
// decode against the advertised schema, stall and misbehave.

/** The messages `client` got on `topic` are a run of the file's, byte for byte, in order. */
function expectRunOf(
  file: { topic: string; logTimeNs: bigint; data: Uint8Array }[],
  live: LiveMessage[],
  topic: string,
) {
  const recorded = file.filter((m) => m.topic === topic);
  const first = live[0] as LiveMessage;
  const start = recorded.findIndex(
    (m) => m.logTimeNs === first.timestamp && Buffer.from(m.data).equals(first.data),
  );
  expect(start, `${topic}: first live message is in the file`).toBeGreaterThanOrEqual(0);
  const run = recorded.slice(start, start + live.length);
  expect(run.map((m) => m.logTimeNs)).toEqual(live.map((m) => m.timestamp));
  expect(run.every((m, i) => Buffer.from(m.data).equals((live[i] as LiveMessage).data))).toBe(true);
}

const FRAMES = 40;

describe('the Foxglove live view', () => {
  let dir: string;
  const started: PonsProcess[] = [];
  const clients: Client[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.ws.terminate();
    await Promise.all(started.splice(0).map((p) => p.kill()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves pons cerebellum topics live: the same messages, bytes and stamps it records', async () => {
    dir = mkdtempSync(join(tmpdir(), 'pons-foxglove-'));
    const port = await freePort();
    const file = join(dir, 'cerebellum.mcap');
    const cerebellum = PonsProcess.start([
      'cerebellum',
      '--config',
      armProfile(dir),
      '--json',
      '--record',
      file,
      '--foxglove',
      String(port),
    ]);
    const brain = startPatternBrain(dir);
    started.push(cerebellum, brain);
    const ready = await cerebellum.waitFor((e) => e.event === 'ready', 15_000);
    expect(ready.foxglove).toBe(`ws://127.0.0.1:${port}`);

    const client = await LiveClient.connect(`ws://127.0.0.1:${port}`);
    clients.push(client);
    const topics = {
      '/pons/commands': ROS_TYPES.float64MultiArray,
      '/pons/action_tokens': PONS_TYPES.actionTokens,
      '/pons/action_chunks': PONS_TYPES.actionChunk,
    };
    expect(
      await eventually(() => Object.keys(topics).every((t) => client.channel(t)), 10_000),
    ).toBe(true);
    for (const [topic, type] of Object.entries(topics)) {
      expect(client.channel(topic)).toMatchObject({
        encoding: 'cdr',
        schemaName: type,
        schemaEncoding: 'ros2msg',
        schema: ros2msgSchema(type),
      });
      client.subscribe(topic);
    }
    // And whatever else it records (joint states, diagnostics, …).
    for (const c of client.channels.values()) if (!(c.topic in topics)) client.subscribe(c.topic);
    // A channel that does not exist, and a message that is not the protocol: status replies.
    client.subscribeId(9999);
    client.ws.send('{"op": "subscribe", "subscriptions": 3');
    // Another client comes and goes abruptly, mid-stream.
    const passer = await LiveClient.connect(`ws://127.0.0.1:${port}`);
    await eventually(() => passer.channel('/pons/commands') !== undefined);
    passer.subscribe('/pons/commands');
    await eventually(() => passer.received.length > 0);
    passer.ws.terminate();

    expect(
      await eventually(
        () =>
          client.on('/pons/commands').length > 500 && client.on('/pons/action_tokens').length > 3,
        15_000,
      ),
    ).toBe(true);
    expect(client.statuses).toContainEqual(
      expect.objectContaining({
        level: StatusLevel.WARNING,
        message: expect.stringContaining('Channel 9999 is not available'),
      }),
    );
    expect(client.statuses).toContainEqual(
      expect.objectContaining({
        level: StatusLevel.ERROR,
        message: expect.stringMatching(/^refused: /),
      }),
    );

    cerebellum.child.kill('SIGINT');
    const summary = await cerebellum.waitFor((e) => e.event === 'summary', 10_000);
    expect(await cerebellum.exited).toBe(0);
    await client.closed;
    const live = summary.foxglove as Record<string, number>;
    expect(live).toMatchObject({ clients: 0, connections: 2, dropped: 0 });
    expect(live.client_errors).toBeGreaterThanOrEqual(1);
    expect(live.sent).toBeGreaterThanOrEqual(client.received.length + passer.received.length);
    expect((summary.recorded as { dropped: number }).dropped).toBe(0);

    // Decoded against the advertised schema: what the cerebellum commanded and received.
    const command = client.decode(client.on('/pons/commands')[0] as LiveMessage);
    expect(Array.from(command.data as Float64Array)).toHaveLength(3);
    const tokens = client.decode(client.on('/pons/action_tokens')[0] as LiveMessage);
    expect((tokens.tokens as Uint32Array).length).toBeGreaterThan(0);
    const chunk = client.decode(client.on('/pons/action_chunks')[0] as LiveMessage);
    expect(chunk.dimension_names).toEqual(['shoulder_joint', 'elbow_joint', 'wrist_joint']);

    const report = newReport();
    const recorded = [...readRos2Mcap(readFileSync(file), 'cerebellum.mcap', report)];
    expect(report.stopped).toBeUndefined();
    const seen = new Set(client.received.map((m) => m.topic));
    for (const topic of Object.keys(topics)) expect(seen).toContain(topic);
    for (const topic of seen) expectRunOf(recorded, client.on(topic), topic);
  }, 60_000);

  it('keeps pons brain running and recording while a stalled client is dropped from', async () => {
    dir = mkdtempSync(join(tmpdir(), 'pons-foxglove-'));
    // 640×480 noise frames (900 kB each, 10 a second): a stalled client's buffer fills fast.
    const pixels = noiseBytes(640 * 480 * 3);
    const t0 = 1_700_000_000_000_000_000n;
    const recording = join(dir, 'in.mcap');
    writeFileSync(
      recording,
      await writeRos2Mcap([
        {
          topic: '/pons/instruction',
          type: ROS_TYPES.string,
          logTimeNs: t0,
          message: { data: 'reach the red block' },
        },
        ...Array.from({ length: FRAMES }, (_, k) => {
          const t = t0 + 50_000_000n + BigInt(k) * 100_000_000n;
          return {
            topic: '/overhead/image_raw',
            type: ROS_TYPES.image,
            logTimeNs: t,
            message: imageMsg({
              stampNs: t,
              frameId: 'overhead',
              width: 640,
              height: 480,
              encoding: 'rgb8',
              step: 1920,
              data: pixels,
            }),
          };
        }),
      ]),
    );
    const profile = brainProfile(
      dir,
      { tokens: `ipc://${dir}/tokens`, state: `ipc://${dir}/state` },
      { cameras: [{ name: 'overhead', topic: '/overhead/image_raw' }] },
    );
    const [port, metricsPort] = [await freePort(), await freePort()];
    const out = join(dir, 'brain.mcap');
    const brain = PonsProcess.start([
      'brain',
      '--config',
      profile,
      '--mcap',
      recording,
      '--json',
      '--record',
      out,
      '--speed',
      '0.5',
      '--metrics-port',
      String(metricsPort),
      '--foxglove',
      String(port),
      '--foxglove-send-buffer',
      String(2 * 2 ** 20),
    ]);
    started.push(brain);
    await brain.waitFor((e) => e.event === 'ready', 30_000);
    const healthy = await LiveClient.connect(`ws://127.0.0.1:${port}`);
    const stalled = await LiveClient.connect(`ws://127.0.0.1:${port}`);
    clients.push(healthy, stalled);
    expect(
      await eventually(
        () => [healthy, stalled].every((c) => c.channel('/overhead/image_raw')),
        10_000,
      ),
    ).toBe(true);
    for (const c of [healthy, stalled]) c.subscribe('/overhead/image_raw');
    // Subscribed, then it stops reading: the node's socket to it fills up.
    await eventually(() => stalled.received.length > 0, 5000);
    stalled.ws.pause();
    // While it runs, the node's metrics count what the stalled client misses.
    let scraped = '';
    const droppedMetric = /^pons_brain_foxglove_messages_total\{outcome="dropped"\} ([1-9]\d*)$/m;
    const scrape = async () => {
      scraped = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    };
    for (let i = 0; i < 100 && !droppedMetric.test(scraped); i++) {
      await scrape();
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(scraped).toMatch(droppedMetric);
    expect(scraped).toMatch(/^pons_brain_foxglove_clients 2$/m);
    // Reading again, it gets what was queued for it, then why the rest is missing.
    stalled.ws.resume();
    expect(
      await eventually(
        () =>
          stalled.statuses.some(
            (s) => s.level === StatusLevel.WARNING && /too slow/.test(s.message),
          ),
        10_000,
      ),
    ).toBe(true);

    const summary = await brain.waitFor((e) => e.event === 'summary', 40_000);
    expect(await brain.exited).toBe(0);
    expect(summary.why).toBe('replay done');
    expect(summary.decisions as number).toBeGreaterThan(0);
    const live = summary.foxglove as Record<string, number>;
    expect(live.dropped).toBeGreaterThan(0);
    expect(live.connections).toBe(2);
    // The recording has every frame; the healthy client a gap-free run of them.
    const recorded = [...readRos2Mcap(readFileSync(out), 'brain.mcap')];
    expect(recorded.filter((m) => m.topic === '/overhead/image_raw')).toHaveLength(FRAMES);
    expect((summary.recorded as { dropped: number }).dropped).toBe(0);
    const frames = healthy.on('/overhead/image_raw');
    expect(frames.length).toBeGreaterThan(FRAMES / 2);
    expectRunOf(recorded, frames, '/overhead/image_raw');
    const frame = healthy.decode(frames[0] as LiveMessage);
    expect(frame).toMatchObject({ width: 640, height: 480, encoding: 'rgb8', step: 1920 });
    expect(stalled.received.length).toBeLessThan(frames.length);
  }, 90_000);
});

describe('FoxgloveLive', () => {
  it('refuses a client that does not speak the Foxglove subprotocol, and says so', async () => {
    const live = await FoxgloveLive.open({ port: 0, name: 'test' });
    try {
      const ws = new WebSocket(live.url);
      const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
      expect(await closed).toBe(1002);
      expect(live.counters).toMatchObject({ clients: 0, connections: 0, client_errors: 1 });
    } finally {
      await live.close();
    }
  });

  it('names the flag and the address when it cannot listen', async () => {
    const live = await FoxgloveLive.open({ port: 0, name: 'test' });
    try {
      await expect(FoxgloveLive.open({ port: live.port, name: 'again' })).rejects.toThrow(
        `--foxglove: cannot listen on 127.0.0.1:${live.port}: listen EADDRINUSE`,
      );
    } finally {
      await live.close();
    }
  });
});

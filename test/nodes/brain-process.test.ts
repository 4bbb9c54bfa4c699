import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BusPublisher, LinkClient } from '../../src/link/index.js';
import { epochNowNs, type TokensPacket } from '../../src/wire/index.js';
import { TINY_VLA } from '../helpers/brain-packages.js';
import {
  eventually,
  freePort,
  ipcEndpoints,
  memoryLog,
  planarArmIdentity,
  sleep,
} from '../helpers/link-fixtures.js';
import { PonsProcess } from '../helpers/processes.js';
import { brainProfile } from '../helpers/profiles.js';

// End to end across processes: this test process is the camera (observation bus publisher)
// and the cerebellum (link client); `pons brain` runs the tiny model in its own process.
// The golden images decide to known tokens, so every packet can be checked exactly.

interface GoldenCase {
  image: string;
  instruction: string;
  autoregressive: { tokens: number[] };
}
const golden = JSON.parse(readFileSync(join(TINY_VLA, 'golden.json'), 'utf8')) as {
  cases: GoldenCase[];
};

const { dir, endpoints } = ipcEndpoints('pons-brain-');
const busEndpoint = `ipc://${dir}/bus`;
let bus: BusPublisher;
let client: LinkClient;
let brain: PonsProcess;
const packets: { packet: TokensPacket; at: number }[] = [];
const sent = new Map<bigint, number>();
let camera: NodeJS.Timeout | undefined;
let mode: 'run' | 'estop' = 'run';
let metricsPort = 0;
let state: NodeJS.Timeout | undefined;

async function rgb(c: GoldenCase) {
  const { data, info } = await sharp(readFileSync(join(TINY_VLA, c.image)))
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height };
}

/** Publishes `c`'s image at 10 Hz, remembering which golden case each stamp showed. */
async function show(index: number) {
  clearInterval(camera);
  const c = golden.cases[index] as GoldenCase;
  const image = await rgb(c);
  camera = setInterval(() => {
    const stamp = epochNowNs();
    sent.set(stamp, index);
    bus.publish({ kind: 'frame', camera: 'overhead', stamp_ns: stamp, encoding: 'rgb8', ...image });
  }, 100);
}

function say(index: number) {
  bus.publish({
    kind: 'instruction',
    stamp_ns: epochNowNs(),
    text: (golden.cases[index] as GoldenCase).instruction,
  });
}

beforeAll(async () => {
  const profile = brainProfile(dir, endpoints, {
    bus: busEndpoint,
    cameras: [{ name: 'overhead', timeout_ms: 400 }],
    max_observation_age_ms: 2000,
  });
  bus = await BusPublisher.open({ endpoint: busEndpoint, bind: true });
  client = await LinkClient.open({
    ...planarArmIdentity('test-arm'),
    endpoints,
    deliver: 'every',
    log: memoryLog(),
  });
  client.onTokens((packet) => packets.push({ packet, at: performance.now() }));
  state = setInterval(() => {
    client.sendState({
      stamp_ns: epochNowNs(),
      position: new Float64Array(3),
      velocity: new Float64Array(3),
      mode,
      last_token_seq: -1,
    });
  }, 50);
  state.unref();
  metricsPort = await freePort();
  brain = PonsProcess.start([
    'brain',
    '--config',
    profile,
    '--json',
    '--episode',
    'e2e',
    '--metrics-port',
    String(metricsPort),
  ]);
  await brain.waitFor((e) => e.event === 'ready', 20_000);
}, 30_000);

afterAll(async () => {
  clearInterval(camera);
  clearInterval(state);
  await brain?.kill();
  client?.close();
  bus?.close();
  rmSync(dir, { recursive: true, force: true });
});

const tokensOf = (p: TokensPacket) => Array.from(p.tokens);

describe('pons brain, from the observation bus to the link', () => {
  it('decides on every camera frame with the tiny model and publishes exact, valid packets', async () => {
    say(0);
    await sleep(300);
    await show(0);
    expect(await eventually(() => packets.length >= 10, 15_000)).toBe(true);
    const { specId } = planarArmIdentity();
    for (const { packet } of packets) {
      expect(packet.spec_id).toBe(specId);
      expect(packet.model_id).toBe('tiny-vla');
      expect(packet.episode_id).toBe('e2e');
      // Stamped with the observation it was decided on: a frame this test sent.
      expect(sent.get(packet.obs_stamp_ns)).toBe(0);
      expect(tokensOf(packet)).toEqual(golden.cases[0]?.autoregressive.tokens);
      expect(Object.keys(packet.timings_ms)).toEqual([
        'preprocess',
        'vision',
        'prefill',
        'decode',
        'total',
      ]);
    }
    // The model (~20 ms) keeps up with 10 frames/s: nearly every frame becomes a decision.
    const seqs = packets.map((p) => p.packet.seq);
    expect(seqs).toEqual(seqs.map((_, i) => (seqs[0] as number) + i));
  }, 30_000);

  it('serves its health as Prometheus metrics', async () => {
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const decisions = Number(/^pons_brain_decisions_total (\d+)$/m.exec(text)?.[1]);
    expect(decisions).toBeGreaterThanOrEqual(10);
    expect(text).toMatch(/^pons_brain_provider_info\{provider="cpu"\} 1$/m);
    expect(text).toMatch(/^pons_brain_latency_ms\{stage="decision",quantile="0.5"\} [\d.]+$/m);
    expect(text).toMatch(/^pons_brain_observations_dropped_total\{reason="stale"\} 0$/m);
  });

  it('applies a new instruction from the bus at the next decision', async () => {
    say(1);
    await sleep(300);
    const from = packets.length;
    await show(1);
    expect(
      await eventually(
        () => packets.slice(from).some((p) => sent.get(p.packet.obs_stamp_ns) === 1),
        10_000,
      ),
    ).toBe(true);
    await sleep(500);
    const fresh = packets.slice(from).filter((p) => sent.get(p.packet.obs_stamp_ns) === 1);
    expect(fresh.length).toBeGreaterThan(2);
    for (const { packet } of fresh)
      expect(tokensOf(packet)).toEqual(golden.cases[1]?.autoregressive.tokens);
  }, 20_000);

  it('pauses while the cerebellum reports e-stop, and resumes when it is released', async () => {
    mode = 'estop';
    await sleep(400);
    const paused = performance.now();
    await sleep(800);
    expect(packets.filter((p) => p.at > paused)).toEqual([]);
    const health = await brain.waitFor(
      (e) => e.event === 'health' && (e.gate as { estop: number }).estop > 0,
      3000,
    );
    expect(health.cerebellum_mode).toBe('estop');
    mode = 'run';
    const released = performance.now();
    expect(await eventually(() => packets.some((p) => p.at > released), 5000)).toBe(true);
  }, 20_000);

  it('reports a camera that goes silent', async () => {
    clearInterval(camera);
    const since = performance.now();
    const health = await brain.waitFor(
      (e) => e.event === 'health' && (e.cameras_silent as string[]).includes('overhead'),
      5000,
      since,
    );
    expect((health.camera_timeouts as Record<string, number>).overhead).toBeGreaterThanOrEqual(1);
  }, 10_000);

  it('stops cleanly on SIGINT with a summary', async () => {
    brain.child.kill('SIGINT');
    const summary = await brain.waitFor((e) => e.event === 'summary', 10_000);
    expect(summary.why).toBe('SIGINT');
    expect(summary.decisions as number).toBe(packets.length);
    expect(await brain.exited).toBe(0);
  }, 15_000);
});

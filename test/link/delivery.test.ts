import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { Publisher } from 'zeromq';
import { parseActionSpec, specId, specJson } from '../../src/contract/index.js';
import { LinkClient, LinkServer } from '../../src/link/index.js';
import {
  encodePacket,
  epochNowNs,
  PROTOCOL_VERSION,
  type TokensPacket,
} from '../../src/wire/index.js';
import {
  eventually,
  ipcEndpoints,
  memoryLog,
  planarArmIdentity,
  sleep,
} from '../helpers/link-fixtures.js';

const tokens = () => Uint32Array.from({ length: 24 }, (_, i) => 3840 + i);

describe('link delivery', () => {
  const cleanup: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanup.splice(0).reverse()) c();
  });

  async function pair(clientOverrides: Partial<Parameters<typeof LinkClient.open>[0]> = {}) {
    const { dir, endpoints } = ipcEndpoints();
    const id = planarArmIdentity('brain');
    const serverLog = memoryLog();
    const clientLog = memoryLog();
    const server = await LinkServer.open({ ...id, endpoints, log: serverLog });
    const client = await LinkClient.open({
      ...id,
      modelId: 'arm',
      endpoints,
      log: clientLog,
      ...clientOverrides,
    });
    cleanup.push(
      () => rmSync(dir, { recursive: true, force: true }),
      () => server.close(),
      () => client.close(),
    );
    const received: TokensPacket[] = [];
    client.onTokens((p) => received.push(p));
    return { server, client, received, serverLog, clientLog, endpoints, id };
  }

  /** PUB/SUB drops what is sent before the subscription arrives: publish until heard. */
  async function publishUntilHeard(server: LinkServer, received: unknown[]) {
    for (let i = 0; i < 200 && received.length === 0; i++) {
      server.publishTokens({
        episode_id: 'e',
        obs_stamp_ns: epochNowNs(),
        tokens: tokens(),
        timings_ms: {},
      });
      await sleep(10);
    }
    expect(received.length).toBeGreaterThan(0);
  }

  it('carries token packets to the cerebellum and state packets back, exactly', async () => {
    const { server, client, received } = await pair();
    await publishUntilHeard(server, received);
    const obs = 1_764_000_000_123_456_789n;
    const ids = tokens();
    const before = received.length;
    const sent = server.publishTokens({
      episode_id: 'ep-7',
      obs_stamp_ns: epochNowNs(),
      tokens: ids,
      timings_ms: { vision: 3.5 },
    });
    expect(await eventually(() => received.length > before)).toBe(true);
    const got = received.at(-1) as TokensPacket;
    expect(got.seq).toBe(sent.seq);
    expect(got.episode_id).toBe('ep-7');
    expect(got.emit_stamp_ns).toBe(sent.emit_stamp_ns);
    expect(Array.from(got.tokens)).toEqual(Array.from(ids));
    expect(got.timings_ms).toEqual({ vision: 3.5 });

    const states: { position: number[]; mode: string; stamp: bigint }[] = [];
    server.onState((s) =>
      states.push({ position: Array.from(s.position), mode: s.mode, stamp: s.stamp_ns }),
    );
    for (let i = 0; i < 100 && states.length === 0; i++) {
      client.sendState({
        stamp_ns: obs,
        position: Float64Array.of(0.25, -1.5, 2.125),
        velocity: new Float64Array(3),
        mode: 'hold',
        last_token_seq: got.seq,
      });
      await sleep(10);
    }
    expect(states[0]).toEqual({ position: [0.25, -1.5, 2.125], mode: 'hold', stamp: obs });
    expect(client.brain?.modelId).toBe('brain');
    expect(client.brain?.matches).toBe(true);
  });

  it('refuses packets of another spec id, counts them and says why', async () => {
    const { dir, endpoints } = ipcEndpoints();
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const id = planarArmIdentity('brain');
    const other = parseActionSpec(JSON.parse(id.spec), 'test');
    other.horizon = 4;
    const server = await LinkServer.open({ ...id, endpoints, log: memoryLog() });
    const log = memoryLog();
    const client = await LinkClient.open({
      spec: specJson(other),
      specId: specId(other),
      modelId: 'arm',
      software: 'test',
      endpoints,
      log,
    });
    cleanup.push(
      () => server.close(),
      () => client.close(),
    );
    const received: TokensPacket[] = [];
    client.onTokens((p) => received.push(p));
    for (let i = 0; i < 50; i++) {
      server.publishTokens({
        episode_id: 'e',
        obs_stamp_ns: epochNowNs(),
        tokens: tokens(),
        timings_ms: {},
      });
      await sleep(10);
    }
    expect(received).toHaveLength(0);
    expect(client.counters.dropped.get('spec_mismatch')).toBeGreaterThan(0);
    const refusal = log.lines.find((l) => l.includes('refused tokens'));
    expect(refusal).toContain(id.specId.slice(0, 12));
    expect(refusal).toContain(specId(other).slice(0, 12));
    expect(log.lines.some((l) => l.includes('its packets will be refused'))).toBe(true);
  });

  it('delivers every e-stop packet, in order, whatever the spec', async () => {
    const { server, client, received } = await pair();
    await publishUntilHeard(server, received);
    const seen: [boolean, string][] = [];
    client.onEstop((e) => seen.push([e.engage, e.reason]));
    server.publishEstop(true, 'operator pressed the red button');
    await server.drained();
    server.publishEstop(false, 'operator reset');
    expect(await eventually(() => seen.length === 2)).toBe(true);
    expect(seen).toEqual([
      [true, 'operator pressed the red button'],
      [false, 'operator reset'],
    ]);
  });

  it('drops stale, out-of-order, duplicate and invalid packets and reports sequence gaps', async () => {
    const { dir, endpoints } = ipcEndpoints();
    const id = planarArmIdentity('brain');
    const pub = new Publisher({ linger: 0 });
    await pub.bind(endpoints.tokens);
    const log = memoryLog();
    const client = await LinkClient.open({ ...id, modelId: 'arm', endpoints, log, maxAgeMs: 100 });
    cleanup.push(
      () => rmSync(dir, { recursive: true, force: true }),
      () => pub.close(),
      () => client.close(),
    );
    const received: TokensPacket[] = [];
    client.onTokens((p) => received.push(p));
    const packet = (seq: number, obs: bigint): Uint8Array =>
      encodePacket({
        v: PROTOCOL_VERSION,
        kind: 'tokens',
        spec_id: id.specId,
        model_id: 'raw',
        episode_id: 'e',
        seq,
        obs_stamp_ns: obs,
        emit_stamp_ns: obs,
        tokens: tokens(),
        timings_ms: {},
      });
    const base = epochNowNs();
    for (let i = 0; i < 200 && received.length === 0; i++) {
      await pub.send(packet(0, base));
      await sleep(10);
    }
    expect(received.length).toBeGreaterThan(0);
    const heard = received.length;
    const t = epochNowNs();
    const sequence: Uint8Array[] = [
      packet(1, t), // fine
      packet(1, t), // duplicate
      packet(5, t + 1_000n), // three missing before it
      packet(6, t - 500_000_000n), // observation half a second old: stale
      packet(7, t + 500n), // older observation than seq 5's: out of order
      Buffer.from('not msgpack at all'),
      packet(8, t + 2_000n),
    ];
    for (const bytes of sequence) {
      await pub.send(bytes);
      await sleep(15);
    }
    expect(await eventually(() => received.length >= heard + 3)).toBe(true);
    await sleep(50);
    expect(received.slice(heard).map((p) => p.seq)).toEqual([1, 5, 8]);
    const c = client.counters;
    expect(c.dropped.get('duplicate')).toBe(1);
    expect(c.dropped.get('stale')).toBe(1);
    expect(c.dropped.get('out_of_order')).toBe(1);
    expect(c.seqGaps).toBe(3);
    expect([...c.dropped.keys()].some((k) => k === 'msgpack' || k === 'not_map')).toBe(true);
    expect(log.lines.some((l) => l.includes('3 token packet(s) missing before seq 5'))).toBe(true);
    expect(log.lines.some((l) => l.includes('observation is') && l.includes('ms old'))).toBe(true);
  });
});

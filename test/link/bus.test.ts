import { afterEach, describe, expect, it } from 'vitest';
import { Publisher } from 'zeromq';
import {
  type BusPacket,
  BusPublisher,
  BusSubscriber,
  OBSERVATION_KINDS,
} from '../../src/link/index.js';
import { encodePacket } from '../../src/wire/index.js';
import { eventually, ipcEndpoints, memoryLog, sleep } from '../helpers/link-fixtures.js';
import { tokensPacket } from '../wire/samples.js';

const closers: (() => void)[] = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

async function subscriber(endpoint: string) {
  const log = memoryLog();
  const sub = await BusSubscriber.open({ endpoint, bind: false, log }, OBSERVATION_KINDS);
  const got: BusPacket[] = [];
  sub.onPacket((p) => got.push(p));
  closers.push(() => sub.close());
  return { sub, got, log };
}

describe('observation bus', () => {
  it('carries a 640×480 rgb8 frame, joint states and an instruction, each topic counting its seq', async () => {
    const endpoint = `ipc://${ipcEndpoints('pons-bus-').dir}/bus`;
    const bus = await BusPublisher.open({ endpoint, bind: true });
    closers.push(() => bus.close());
    const { got } = await subscriber(endpoint);
    await sleep(200);
    const data = new Uint8Array(640 * 480 * 3).map((_, i) => i % 251);
    for (let k = 0; k < 2; k++) {
      bus.publish({
        kind: 'frame',
        camera: 'overhead',
        stamp_ns: 10n + BigInt(k),
        encoding: 'rgb8',
        width: 640,
        height: 480,
        data,
      });
      await bus.drained();
    }
    bus.publish({
      kind: 'joints',
      stamp_ns: 20n,
      name: ['a'],
      position: Float64Array.of(0.5),
      velocity: new Float64Array(0),
    });
    bus.publish({ kind: 'instruction', stamp_ns: 30n, text: 'reach the red block' });
    expect(await eventually(() => got.length === 4)).toBe(true);
    const frames = got.filter((p) => p.kind === 'frame');
    expect(frames.map((f) => f.seq)).toEqual([0, 1]);
    expect(Buffer.from(frames[1]?.data as Uint8Array).equals(Buffer.from(data))).toBe(true);
    expect(got.find((p) => p.kind === 'joints')).toMatchObject({ seq: 0, name: ['a'] });
    expect(got.find((p) => p.kind === 'instruction')).toMatchObject({
      seq: 0,
      text: 'reach the red block',
    });
  });

  it('drops and counts garbage, multi-frame messages and packets that are not observations', async () => {
    const endpoint = `ipc://${ipcEndpoints('pons-bus-').dir}/bus`;
    const raw = new Publisher({ linger: 0 });
    await raw.bind(endpoint);
    closers.push(() => raw.close());
    const { sub, got, log } = await subscriber(endpoint);
    await sleep(200);
    await raw.send(Buffer.from([0xc1, 0x00]));
    await raw.send([Buffer.from('a'), Buffer.from('b')]);
    await raw.send(encodePacket(tokensPacket()));
    const valid: BusPacket = {
      v: 1,
      kind: 'instruction',
      seq: 0,
      stamp_ns: 1n,
      text: 'push the blue block to the left zone',
    };
    await raw.send(encodePacket(valid));
    expect(await eventually(() => got.length === 1)).toBe(true);
    expect(got[0]).toEqual(valid);
    const c = sub.counters.snapshot();
    expect(c.received).toBe(4);
    expect(c.dropped_msgpack).toBe(1);
    expect(c.dropped_frames).toBe(1);
    expect(c.dropped_unexpected_kind).toBe(1);
    expect(log.lines.join('\n')).toMatch(
      /bus ipc:\/\/.*: dropped a 'tokens' packet \(not one of frame, joints, instruction, scene\)/,
    );
  });

  it('takes a late publish after close without throwing (a timer that fires on shutdown)', async () => {
    const endpoint = `ipc://${ipcEndpoints('pons-bus-').dir}/bus`;
    const bus = await BusPublisher.open({ endpoint, bind: true });
    bus.close();
    expect(() => bus.publish({ kind: 'instruction', stamp_ns: 1n, text: 'stop' })).not.toThrow();
  });

  it('refuses to bind off this host without --insecure', async () => {
    await expect(
      BusPublisher.open({ endpoint: 'tcp://0.0.0.0:0', bind: true, log: memoryLog() }),
    ).rejects.toThrow(/leaves this host/);
  });
});

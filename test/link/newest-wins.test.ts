import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { LinkClient } from '../../src/link/index.js';
import { epochNowNs } from '../../src/wire/index.js';
import { ipcEndpoints, memoryLog, planarArmIdentity, sleep } from '../helpers/link-fixtures.js';
import { PonsProcess } from '../helpers/processes.js';

describe('newest wins', () => {
  const cleanup: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it('a subscriber 20× slower than the brain gets the newest packet, never a backlog', async () => {
    const { dir, endpoints } = ipcEndpoints();
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    // The brain, a separate process, publishes 200 decisions/s.
    const brain = PonsProcess.start([
      'link',
      'serve',
      '--rate',
      '200',
      '--json',
      '--tokens',
      endpoints.tokens,
      '--state',
      endpoints.state,
    ]);
    cleanup.push(() => brain.kill());
    await brain.waitFor((e) => e.event === 'ready');

    const client = await LinkClient.open({
      ...planarArmIdentity('slow-arm'),
      endpoints,
      log: memoryLog(),
    });
    cleanup.push(() => client.close());
    const ages: number[] = [];
    const seqs: number[] = [];
    client.onTokens((packet) => {
      ages.push(Number(epochNowNs() - packet.emit_stamp_ns) / 1e6);
      seqs.push(packet.seq);
      // A controller stuck for 100 ms per packet (20 packets arrive meanwhile).
      const until = performance.now() + 100;
      while (performance.now() < until) {}
    });
    await sleep(2000);
    client.close();

    expect(seqs.length).toBeGreaterThan(5);
    expect(seqs.length).toBeLessThan(25);
    // Each delivery after a stall is the newest packet: its age stays small instead of
    // growing by 100 ms per delivery as a queue's would.
    const later = ages.slice(1);
    expect(Math.max(...later)).toBeLessThan(50);
    // And it skips what came in between rather than working through it.
    for (let i = 1; i < seqs.length; i++)
      expect((seqs[i] as number) - (seqs[i - 1] as number)).toBeGreaterThan(5);
    expect(client.counters.dropped.get('superseded') ?? 0).toBeGreaterThan(0);
  });
});

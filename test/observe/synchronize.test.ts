import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { newSyncCounters, type SensorEvent, synchronize } from '../../src/observe/index.js';

const event = (topic: string, ms: number, receivedMs = ms): SensorEvent<string> => ({
  topic,
  stampNs: BigInt(ms) * 1_000_000n,
  receivedNs: BigInt(receivedMs) * 1_000_000n,
  payload: `${topic}@${ms}`,
});

async function sets(events: SensorEvent<string>[], topics: string[]) {
  const counters = newSyncCounters();
  const out = await lastValueFrom(
    from(events).pipe(synchronize<string>(topics, { queueSize: 10 }, counters), toArray()),
  );
  return { out, counters };
}

describe('synchronize operator', () => {
  it('emits sets in topic order, stamped by the first topic and completed by the last arrival', async () => {
    const { out } = await sets(
      [
        event('joints', 0, 1),
        event('cam', 2, 9),
        event('joints', 10, 11),
        event('cam', 12, 19),
        event('joints', 20, 21),
        event('cam', 22, 29),
      ],
      ['cam', 'joints'],
    );
    expect(out.map((s) => s.events.map((e) => e.payload))).toEqual([
      ['cam@2', 'joints@0'],
      ['cam@12', 'joints@10'],
    ]);
    expect(out.map((s) => s.stampNs)).toEqual([2_000_000n, 12_000_000n]);
    expect(out.map((s) => s.receivedNs)).toEqual([9_000_000n, 19_000_000n]);
  });

  it('drops (and counts) a message stamped before the previous one on its topic, and unknown topics', async () => {
    const { out, counters } = await sets(
      [event('cam', 0), event('cam', 30), event('cam', 20), event('lidar', 5), event('cam', 40)],
      ['cam'],
    );
    expect(out.map((s) => s.events[0]?.payload)).toEqual(['cam@0', 'cam@30', 'cam@40']);
    expect(counters).toMatchObject({ outOfOrder: 1, unknownTopic: 1, sets: 3 });
  });

  it('reports per-topic overflow while one camera is missing', async () => {
    const events = Array.from({ length: 25 }, (_, k) => event('left', k * 33));
    const { out, counters } = await sets(events, ['left', 'right']);
    expect(out).toEqual([]);
    expect(counters.overflow).toEqual({ left: 15 });
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ApproximateTimeSynchronizer, type Stamped } from '../../src/observe/index.js';

// Timestamp sequences as recordings have them: jitter, drops, interleaved arrival across
// topics, a topic that never speaks. Stamps in ms for readability (×1e6 → ns).

interface Msg extends Stamped {
  topic: number;
  id: string;
}
const ms = (n: number) => BigInt(Math.round(n * 1e6));
const msg = (topic: number, t: number, k?: number): Msg => ({
  topic,
  stampNs: ms(t),
  id: k === undefined ? `${topic}@${t}` : `${topic}@${t}#${k}`,
});

/** Feeds messages in arrival order; returns the sets as ids. */
function run(
  topics: number,
  arrivals: Msg[],
  options: { queueSize?: number; maxIntervalMs?: number; agePenalty?: number } = {},
): string[][] {
  const sets: string[][] = [];
  const sync = new ApproximateTimeSynchronizer<Msg>(
    topics,
    {
      queueSize: options.queueSize ?? 1000,
      ...(options.maxIntervalMs === undefined ? {} : { maxIntervalNs: ms(options.maxIntervalMs) }),
      ...(options.agePenalty === undefined ? {} : { agePenalty: options.agePenalty }),
    },
    (set) => sets.push(set.map((m) => m.id)),
  );
  for (const m of arrivals) sync.add(m.topic, m);
  return sets;
}

/** Per topic, messages at `period` with a deterministic jitter, minus the dropped indices. */
function stream(
  topic: number,
  count: number,
  period: number,
  offset: number,
  jitter: number,
  drop: number[] = [],
) {
  const out: Msg[] = [];
  for (let k = 0; k < count; k++) {
    if (drop.includes(k)) continue;
    out.push(msg(topic, offset + k * period + jitter * Math.sin(7 * k + topic)));
  }
  return out;
}

/** Arrival order: by stamp plus a per-topic transport delay. */
function arrive(delays: number[], ...streams: Msg[][]): Msg[] {
  return streams
    .flat()
    .map((m) => ({ m, at: Number(m.stampNs) / 1e6 + (delays[m.topic] as number) }))
    .sort((a, b) => a.at - b.at)
    .map((x) => x.m);
}

describe('ApproximateTime synchronisation', () => {
  it('pairs equal stamps exactly, message by message', () => {
    const a = stream(0, 5, 100, 0, 0);
    const b = stream(1, 5, 100, 0, 0);
    expect(run(2, arrive([0, 0], a, b))).toEqual(a.map((m, k) => [m.id, (b[k] as Msg).id]));
  });

  it('matches a 30 Hz camera with 3 ms jitter to the nearest of a jittery second camera and 100 Hz joints', () => {
    const cam0 = stream(0, 30, 33.3, 0, 3);
    const cam1 = stream(1, 30, 33.3, 5, 3);
    const joints = stream(2, 100, 10, 0, 1);
    const sets = run(3, arrive([8, 12, 1], cam0, cam1, joints));
    // Every frame of both cameras is used (the last one is still waiting for a later joint state).
    expect(sets.length).toBeGreaterThanOrEqual(29);
    sets.forEach((set, k) => {
      expect(set[0]).toBe(cam0[k]?.id);
      expect(set[1]).toBe(cam1[k]?.id);
      const stamps = set.map((id) => Number(id.split('@')[1]));
      expect(Math.max(...stamps) - Math.min(...stamps)).toBeLessThan(12);
    });
  });

  it('skips the frame whose partner was dropped, never pairing across the gap', () => {
    const a = stream(0, 10, 100, 0, 0);
    const b = stream(1, 10, 100, 2, 0, [4]);
    const sets = run(2, arrive([0, 5], a, b), { maxIntervalMs: 20 });
    expect(sets.map((s) => s[0])).toEqual(a.filter((_, k) => k !== 4 && k !== 9).map((m) => m.id));
    for (const [x, y] of sets) {
      expect(
        Math.abs(Number((x as string).split('@')[1]) - Number((y as string).split('@')[1])),
      ).toBe(2);
    }
  });

  it('emits nothing while one camera is missing, and its queue stays bounded', () => {
    const emitted: Msg[][] = [];
    const sync = new ApproximateTimeSynchronizer<Msg>(2, { queueSize: 5 }, (s) => emitted.push(s));
    for (const m of stream(0, 50, 33, 0, 0)) sync.add(0, m);
    expect(emitted).toEqual([]);
    expect(sync.overflows).toEqual([45, 0]);
    // When the camera comes back, the newest frames are matched.
    sync.add(1, msg(1, 49 * 33 + 1));
    sync.add(1, msg(1, 50 * 33 + 1));
    sync.add(0, msg(0, 50 * 33));
    expect(emitted.map((s) => s.map((m) => m.id))).toContainEqual(['0@1617', '1@1618']);
  });

  it('never emits a set wider than the maximum interval', () => {
    const a = stream(0, 20, 50, 0, 0);
    const b = stream(1, 20, 50, 30, 0);
    expect(run(2, arrive([0, 0], a, b), { maxIntervalMs: 10 })).toEqual([]);
    expect(run(2, arrive([0, 0], a, b), { maxIntervalMs: 25 })).toEqual(
      a.slice(1).map((m, k) => [m.id, (b[k] as Msg).id]),
    );
  });

  const stampsArb = fc
    .array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 25 })
    .map((gaps) => {
      let t = 0;
      return gaps.map((g) => (t += g));
    });

  it('uses each message at most once, in order, and sets never cross (any stamps)', () => {
    fc.assert(
      fc.property(
        fc.array(stampsArb, { minLength: 2, maxLength: 4 }),
        fc.integer({ min: 2, max: 8 }),
        (topics, queue) => {
          const streams = topics.map((stamps, i) => stamps.map((t, k) => msg(i, t, k)));
          const arrivals = arrive(
            topics.map((_, i) => i * 3),
            ...streams,
          );
          const sets = run(topics.length, arrivals, { queueSize: queue });
          const seen = new Set<string>();
          const last = topics.map(() => -1);
          for (const set of sets) {
            expect(set).toHaveLength(topics.length);
            set.forEach((id, i) => {
              expect(id.startsWith(`${i}@`)).toBe(true);
              expect(seen.has(id)).toBe(false);
              seen.add(id);
              const index = (streams[i] as Msg[]).findIndex((m) => m.id === id);
              expect(index).toBeGreaterThan(last[i] as number);
              last[i] = index;
            });
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('gives the same sets whatever the arrival interleaving across topics', () => {
    fc.assert(
      fc.property(
        fc.array(stampsArb, { minLength: 2, maxLength: 3 }),
        fc.array(fc.integer({ min: 0, max: 200 }), { minLength: 3, maxLength: 3 }),
        (topics, delays) => {
          const streams = topics.map((stamps, i) => stamps.map((t, k) => msg(i, t, k)));
          // Arrival order may change when a set can be proven best, never which sets.
          const a = run(
            topics.length,
            arrive(
              topics.map(() => 0),
              ...streams,
            ),
          );
          const b = run(topics.length, arrive(delays, ...streams));
          const n = Math.min(a.length, b.length);
          expect(a.slice(0, n)).toEqual(b.slice(0, n));
        },
      ),
      { numRuns: 300 },
    );
  });
});

import { describe, expect, it } from 'vitest';
import { type CdrSink, teeSink } from '../../src/record/message-sink.js';
import { cdrWriter, ROS_TYPES } from '../../src/ros/index.js';

// The tee in front of `--record` and `--foxglove`: one serialization per message, none for a
// message no sink wants.

function sink(wanted: boolean) {
  const got: { topic: string; stampNs: bigint; data: Uint8Array }[] = [];
  const s: CdrSink = {
    wants: () => wanted,
    recordCdr: (topic, _type, stampNs, data) => got.push({ topic, stampNs, data }),
    record: () => {
      throw new Error('the tee hands over CDR, never the message');
    },
  };
  return { s, got };
}

describe('teeSink', () => {
  it('serializes a message once and hands the same bytes to every sink that wants it', () => {
    const [a, b, off] = [sink(true), sink(true), sink(false)];
    const message = { layout: { dim: [], data_offset: 0 }, data: [1, 2, 3] };
    teeSink([a.s, off.s, b.s]).record('/x', ROS_TYPES.float64MultiArray, 7n, message, 'reliable');
    expect(a.got).toHaveLength(1);
    expect(b.got[0]?.data).toBe(a.got[0]?.data);
    expect(a.got[0]).toMatchObject({ topic: '/x', stampNs: 7n });
    expect(Array.from(a.got[0]?.data ?? [])).toEqual(
      Array.from(cdrWriter(ROS_TYPES.float64MultiArray).writeMessage(message)),
    );
    expect(off.got).toHaveLength(0);
  });

  it('does not serialize a message no sink wants', () => {
    const untouchable = new Proxy(
      {},
      {
        get() {
          throw new Error('serialized');
        },
      },
    );
    const off = sink(false);
    expect(() =>
      teeSink([off.s, sink(false).s]).record('/x', ROS_TYPES.image, 1n, untouchable, 'sensor_data'),
    ).not.toThrow();
    expect(off.got).toHaveLength(0);
  });
});

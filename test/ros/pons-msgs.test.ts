import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parse } from '@foxglove/rosmsg';
import { MessageReader, MessageWriter } from '@foxglove/rosmsg2-serialization';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/contract/index.js';
import {
  ACTION_CHUNK_MSG,
  ACTION_TOKENS_MSG,
  actionChunkMsg,
  actionTokensMsg,
  controlInputMsg,
  episodeEventMsg,
  messageDefinitions,
  PONS_MSG_DEFINITIONS,
  PONS_TYPES,
  ROS_DISTROS,
  readActionTokensMsg,
} from '../../src/ros/index.js';
import { expectCdrRoundTrip, plain, shapeProblemsAgainst } from './cdr-check.js';

const MSG_DIR = new URL('../../ros/pons_msgs/msg/', import.meta.url).pathname;
const COMMON = dirname(
  createRequire(import.meta.url).resolve('@foxglove/rosmsg-msgs-common/package.json'),
);

/** The official ROS 2 Jazzy std_msgs/Header text shipped with @foxglove/rosmsg-msgs-common. */
const HEADER_MSG = readFileSync(
  join(COMMON, 'msgdefs/ros2jazzy/std_msgs/msg/Header.msg'),
  'utf8',
).split(/^=+$/m)[0] as string;

/** A `.msg` file with its dependency appended, in the layout @foxglove/rosmsg resolves. */
function withHeader(text: string): string {
  return `${text}\n${'='.repeat(80)}\nMSG: std_msgs/Header\n${HEADER_MSG}`;
}

const SPEC_ID = 'a'.repeat(64);
const packet = {
  spec_id: SPEC_ID,
  model_id: 'tiny-vla@0.1.0',
  episode_id: 'ep-0007',
  seq: 2 ** 53 - 1,
  obs_stamp_ns: 1_767_225_600_123_456_789n,
  emit_stamp_ns: 1_767_225_600_223_456_789n,
  tokens: Uint32Array.of(4095, 0, 3840, 0xffff_ffff),
  timings_ms: { preprocess: 1.25, vision: 12.5, prefill: 30, decode: 41.75 },
};

describe('pons_msgs definitions', () => {
  it('the text in src/ros equals ros/pons_msgs/msg/*.msg, file for file', () => {
    const files = readdirSync(MSG_DIR)
      .filter((f) => f.endsWith('.msg'))
      .sort();
    expect(files).toContain('ActionTokens.msg');
    expect(readFileSync(join(MSG_DIR, 'ActionTokens.msg'), 'utf8')).toBe(ACTION_TOKENS_MSG);
    expect(readFileSync(join(MSG_DIR, 'ActionChunk.msg'), 'utf8')).toBe(ACTION_CHUNK_MSG);
    expect(Object.keys(PONS_MSG_DEFINITIONS).sort()).toEqual(
      files.map((f) => `pons_msgs/msg/${f.replace('.msg', '')}`).sort(),
    );
    for (const f of files) {
      expect(readFileSync(join(MSG_DIR, f), 'utf8')).toBe(
        PONS_MSG_DEFINITIONS[`pons_msgs/msg/${f.replace('.msg', '')}`],
      );
    }
    const cmake = readFileSync(join(MSG_DIR, '../CMakeLists.txt'), 'utf8');
    for (const f of files) expect(cmake).toContain(`"msg/${f}"`);
  });

  it('the files parse as ROS 2 .msg with the fields the issue asks for', () => {
    const tokens = parse(withHeader(readFileSync(join(MSG_DIR, 'ActionTokens.msg'), 'utf8')), {
      ros2: true,
    });
    expect(
      tokens[0]?.definitions.map((f) => `${f.type}${f.isArray ? '[]' : ''} ${f.name}`),
    ).toEqual([
      'std_msgs/Header header',
      'string spec_id',
      'string model_id',
      'string episode_id',
      'uint64 seq',
      'time emit_stamp',
      'uint32[] tokens',
      'string[] timing_names',
      'float64[] timing_ms',
    ]);
    const chunk = parse(withHeader(readFileSync(join(MSG_DIR, 'ActionChunk.msg'), 'utf8')), {
      ros2: true,
    });
    expect(chunk[0]?.definitions.map((f) => `${f.type}${f.isArray ? '[]' : ''} ${f.name}`)).toEqual(
      [
        'std_msgs/Header header',
        'string spec_id',
        'string[] dimension_names',
        'uint32 horizon',
        'float64 dt',
        'float64[] values',
      ],
    );
  });

  it("src/ros's resolved definitions agree with parsing the files with their dependency", () => {
    for (const [file, type] of [
      ['ActionTokens.msg', PONS_TYPES.actionTokens],
      ['ActionChunk.msg', PONS_TYPES.actionChunk],
      ['EpisodeEvent.msg', PONS_TYPES.episodeEvent],
    ] as const) {
      const fromFile = parse(withHeader(readFileSync(join(MSG_DIR, file), 'utf8')), { ros2: true });
      const resolved = messageDefinitions(type);
      expect(resolved.map((d) => d.name)).toEqual([type.replace('/msg/', '/'), 'std_msgs/Header']);
      const strip = (defs: typeof resolved) =>
        defs.map((d) =>
          d.definitions.map(({ name, type: t, isArray, isComplex }) => ({
            name,
            t,
            isArray,
            isComplex,
          })),
        );
      expect(strip(resolved)).toEqual(strip(fromFile));
    }
  });
});

describe('ActionTokens', () => {
  it('carries a tokens packet: header stamp = observation stamp, timings as parallel arrays', () => {
    const msg = actionTokensMsg(packet, 'camera');
    expect(msg.header).toEqual({
      stamp: { sec: 1_767_225_600, nanosec: 123_456_789 },
      frame_id: 'camera',
    });
    expect(msg.emit_stamp).toEqual({ sec: 1_767_225_600, nanosec: 223_456_789 });
    expect(msg.seq).toBe(2n ** 53n - 1n);
    expect(msg.tokens).toEqual([4095, 0, 3840, 0xffff_ffff]);
    expect(msg.timing_names).toEqual(['preprocess', 'vision', 'prefill', 'decode']);
    expect(msg.timing_ms).toEqual([1.25, 12.5, 30, 41.75]);
  });

  for (const distro of ROS_DISTROS) {
    it(`round-trips CDR against its definition (deps from ${distro})`, () => {
      expectCdrRoundTrip(actionTokensMsg(packet), PONS_TYPES.actionTokens, distro);
      expectCdrRoundTrip(
        actionTokensMsg({ ...packet, tokens: [], timings_ms: {}, seq: 2n ** 64n - 1n }),
        PONS_TYPES.actionTokens,
        distro,
      );
    });
  }

  it('round-trips through a writer and reader built from the .msg file alone', () => {
    const defs = parse(withHeader(ACTION_TOKENS_MSG), { ros2: true });
    const msg = actionTokensMsg(packet);
    expect(
      shapeProblemsAgainst(msg, [
        { ...defs[0], name: 'pons_msgs/ActionTokens' } as (typeof defs)[0],
        ...defs.slice(1),
      ]),
    ).toEqual([]);
    const back = new MessageReader(defs).readMessage(new MessageWriter(defs).writeMessage(msg));
    expect(plain(back)).toStrictEqual(plain(msg));
  });

  it('refuses what the message cannot hold', () => {
    expect(() => actionTokensMsg({ ...packet, seq: -1 })).toThrow(/seq: must be a uint64/);
    expect(() => actionTokensMsg({ ...packet, seq: 2n ** 64n })).toThrow(/seq/);
    expect(() => actionTokensMsg({ ...packet, seq: 0.5 })).toThrow(/seq/);
    expect(() => actionTokensMsg({ ...packet, tokens: [1, -1] })).toThrow(
      /tokens\[1\]: must be a uint32/,
    );
    expect(() => actionTokensMsg({ ...packet, tokens: [2 ** 32] })).toThrow(/tokens\[0\]/);
    expect(() => actionTokensMsg({ ...packet, timings_ms: { vision: Number.NaN } })).toThrow(
      /timing_ms\.vision/,
    );
    expect(() => actionTokensMsg({ ...packet, obs_stamp_ns: -1n })).toThrow(/header\.stamp/);
    expect(() => actionTokensMsg({ ...packet, emit_stamp_ns: 2n ** 62n })).toThrow(/emit_stamp/);
    expect(() => actionTokensMsg({ ...packet, spec_id: 5 as unknown as string })).toThrow(
      InputError,
    );
  });
});

describe('readActionTokensMsg', () => {
  const defs = parse(withHeader(ACTION_TOKENS_MSG), { ros2: true });
  const recorded = () =>
    new MessageReader(defs).readMessage(
      new MessageWriter(defs).writeMessage(actionTokensMsg(packet)),
    ) as Record<string, unknown>;

  it('reads a recorded message back into the packet it was built from', () => {
    expect(readActionTokensMsg(recorded(), '/tokens')).toEqual({
      spec_id: packet.spec_id,
      model_id: packet.model_id,
      episode_id: packet.episode_id,
      seq: BigInt(packet.seq),
      obs_stamp_ns: packet.obs_stamp_ns,
      emit_stamp_ns: packet.emit_stamp_ns,
      tokens: Uint32Array.from(packet.tokens),
      timings_ms: packet.timings_ms,
    });
  });

  it('names the field of a message that is not an ActionTokens', () => {
    const good = recorded();
    expect(() => readActionTokensMsg({ ...good, emit_stamp: undefined }, '/t')).toThrow(
      new InputError('/t', 'emit_stamp', 'is missing'),
    );
    expect(() => readActionTokensMsg({ ...good, tokens: [1, 2] }, '/t')).toThrow(
      new InputError('/t', 'tokens', 'must be a uint32 array'),
    );
    expect(() => readActionTokensMsg({ ...good, timing_names: ['a'] }, '/t')).toThrow(
      /\/t: timing_ms: must be float64s, one per timing_names entry/,
    );
    expect(() => readActionTokensMsg(null, '/t')).toThrow(/\/t: seq: must be a uint64/);
  });
});

describe('ActionChunk', () => {
  const input = {
    stampNs: 1_767_225_600_123_456_789n,
    specId: SPEC_ID,
    dimensionNames: ['shoulder_joint', 'elbow_joint', 'wrist_joint'],
    horizon: 2,
    dt: 0.1,
    values: Float64Array.of(0.1, 0.2, 0.3, 0.4, 0.5, 0.6),
  };

  for (const distro of ROS_DISTROS) {
    it(`round-trips CDR against its definition (deps from ${distro})`, () => {
      const msg = actionChunkMsg(input);
      expect(msg.values).toEqual([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]);
      expectCdrRoundTrip(msg, PONS_TYPES.actionChunk, distro);
    });
  }

  it('refuses a ragged or non-finite chunk', () => {
    expect(() => actionChunkMsg({ ...input, values: [1, 2, 3] })).toThrow(
      /values: has 3 values, horizon 2 × 3 dimensions needs 6/,
    );
    expect(() => actionChunkMsg({ ...input, values: [0, 0, 0, 0, Number.NaN, 0] })).toThrow(
      /values\[4\]/,
    );
    expect(() => actionChunkMsg({ ...input, horizon: 0 })).toThrow(/horizon/);
    expect(() => actionChunkMsg({ ...input, dt: 0 })).toThrow(/dt/);
    expect(() => actionChunkMsg({ ...input, dimensionNames: [] })).toThrow(/dimension_names/);
  });
});

describe('EpisodeEvent', () => {
  const input = {
    event: 'end' as const,
    stampNs: 12_500_000_000n,
    episodeId: 'push-7',
    task: 'push',
    seed: 7,
    instruction: 'push the red block to the left zone',
    success: true,
    duration: 12.5,
  };

  for (const distro of ROS_DISTROS) {
    it(`round-trips CDR against its definition (deps from ${distro})`, () => {
      const msg = episodeEventMsg(input);
      expect(msg.event).toBe(1);
      expect(msg.header.stamp).toEqual({ sec: 12, nanosec: 500_000_000 });
      expectCdrRoundTrip(msg, PONS_TYPES.episodeEvent, distro);
      expectCdrRoundTrip(
        episodeEventMsg({ ...input, event: 'start' }),
        PONS_TYPES.episodeEvent,
        distro,
      );
    });
  }

  it('refuses a seed that is no uint32 and a negative duration', () => {
    expect(() => episodeEventMsg({ ...input, seed: -1 })).toThrow(/seed: must be a uint32/);
    expect(() => episodeEventMsg({ ...input, seed: 1.5 })).toThrow(/seed/);
    expect(() => episodeEventMsg({ ...input, duration: -2 })).toThrow(/duration/);
  });
});

describe('ControlInput', () => {
  for (const distro of ROS_DISTROS) {
    it(`round-trips a chunk input through CDR (deps from ${distro})`, () => {
      const msg = controlInputMsg({
        stampNs: 1_767_225_600_123_456_789n,
        tick: 12_345,
        index: 7,
        kind: 'chunk',
        seq: 42,
        obsStampNs: 1_767_225_600_100_000_001n,
        values: Float64Array.of(0.1, -0.25, 1e-17),
      });
      expect(msg.values).toEqual([0.1, -0.25, 1e-17]);
      expect(msg.tick).toBe(12_345n);
      expectCdrRoundTrip(msg, PONS_TYPES.controlInput, distro);
    });
  }

  it('refuses a negative tick and an unknown kind', () => {
    const base = { stampNs: 1n, tick: 0, index: 0, kind: 'reset' as const };
    expect(() => controlInputMsg({ ...base, tick: -1 })).toThrow(/tick: must be a uint64/);
    expect(() => controlInputMsg({ ...base, kind: 'jump' as 'reset' })).toThrow(/kind: must be/);
  });
});

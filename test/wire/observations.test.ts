import { describe, expect, it } from 'vitest';
import { decodePacket, encodePacket, type Packet, WireError } from '../../src/wire/index.js';
import { nd, plainPack } from './samples.js';

// The observation bus packets: encoded and decoded by the codec, and refused from maps
// built by hand, each refusal naming its field.

const frame = {
  v: 1,
  kind: 'frame',
  camera: 'overhead',
  seq: 3,
  stamp_ns: 1_700_000_000_000_000_001n,
  encoding: 'rgb8',
  width: 2,
  height: 1,
  data: nd([1, 2, 3, 4, 5, 6], '|u1', Uint8Array),
};
const joints = {
  v: 1,
  kind: 'joints',
  seq: 0,
  stamp_ns: 5n,
  name: ['shoulder_joint', 'elbow_joint'],
  position: nd([0.1, -0.2], '<f8', Float64Array),
  velocity: nd([], '<f8', Float64Array),
};
const instruction = {
  v: 1,
  kind: 'instruction',
  seq: 1,
  stamp_ns: 7n,
  text: 'reach the red block',
};

function refusal(map: Record<string, unknown>): WireError {
  try {
    decodePacket(plainPack(map), 'bus');
  } catch (err) {
    expect(err).toBeInstanceOf(WireError);
    return err as WireError;
  }
  throw new Error('accepted');
}

describe('observation packets', () => {
  it('decode from hand-built maps and round trip through the codec', () => {
    for (const map of [frame, joints, instruction]) {
      const packet = decodePacket(plainPack(map), 'bus') as Packet;
      expect(decodePacket(encodePacket(packet), 'again')).toEqual(packet);
    }
    const f = decodePacket(plainPack(frame), 'bus');
    expect(f).toMatchObject({ kind: 'frame', camera: 'overhead', width: 2, height: 1 });
    expect(Array.from((f as { data: Uint8Array }).data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('accept compressed frames of any length with a zero size', () => {
    const jpeg = {
      ...frame,
      encoding: 'jpeg',
      width: 0,
      height: 0,
      data: nd([0xff, 0xd8], '|u1', Uint8Array),
    };
    expect(decodePacket(plainPack(jpeg), 'bus')).toMatchObject({ encoding: 'jpeg', width: 0 });
  });

  it.each([
    [
      { ...frame, data: nd([1, 2, 3], '|u1', Uint8Array) },
      'data.shape',
      /a 2×1 rgb8 frame has 6 bytes/,
    ],
    [{ ...frame, encoding: 'yuv422' }, 'encoding', /must be one of rgb8, bgr8/],
    [{ ...frame, width: 0 }, 'width', /must be in \[1, 16384\]/],
    [{ ...frame, encoding: 'png', data: nd([1], '|u1', Uint8Array) }, 'width', /must be 0 for png/],
    [{ ...frame, data: nd([1, 2, 3, 4, 5, 6], '<f8', Float64Array) }, 'data.dtype', /.*/],
    [{ ...frame, camera: '' }, 'camera', /is empty/],
    [{ ...joints, name: ['a', 'a'] }, 'name', /names an entry twice/],
    [{ ...joints, name: ['a', 7] }, 'name[1]', /must be a str/],
    [
      { ...joints, velocity: nd([1], '<f8', Float64Array) },
      'velocity.shape',
      /must be \[0\] or \[2\]/,
    ],
    [{ ...joints, position: nd([1, Number.NaN], '<f8', Float64Array) }, 'position[1]', /NaN/],
    [{ ...instruction, text: '  ' }, 'text', /is empty/],
    [{ ...instruction, text: 'go\u0007' }, 'text', /control character \(U\+0007\)/],
    [{ ...instruction, text: 'x'.repeat(2001) }, 'text', /at most 2000/],
    [{ ...instruction, extra: 1 }, 'extra', /is not a field of a instruction packet/],
  ])('refuse %# naming the field', (map, field, reason) => {
    const err = refusal(map as Record<string, unknown>);
    expect(err.field).toBe(field);
    expect(err.message).toMatch(reason);
  });

  it('keep tabs and newlines in an instruction', () => {
    const text = 'reach the red block\nthen stop\t(slowly)';
    expect(decodePacket(plainPack({ ...instruction, text }), 'bus')).toMatchObject({ text });
  });
});

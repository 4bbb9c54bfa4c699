import { describe, expect, it } from 'vitest';
import {
  type CompressedImageIn,
  cdrReader,
  cdrWriter,
  type ImageIn,
  type JointStateIn,
  ROS_DISTROS,
  ROS_TYPES,
  readCompressedImage,
  readImage,
  readJointState,
} from '../../src/ros/index.js';

// The brain's ROS readers on messages that went through CDR with the official definitions,
// as rclnodejs hands them over (typed arrays for uint8[] and float64[]).

function throughCdr<T>(type: string, message: object, distro: (typeof ROS_DISTROS)[number]): T {
  return cdrReader(type, distro).readMessage(cdrWriter(type, distro).writeMessage(message)) as T;
}

const header = { stamp: { sec: 1_700_000_000, nanosec: 123_456_789 }, frame_id: 'overhead' };
const STAMP = 1_700_000_000_123_456_789n;

for (const distro of ROS_DISTROS) {
  describe(`sensor messages from CDR (${distro})`, () => {
    it('reads an Image with padded rows, keeping the stamp exact', () => {
      const data = new Uint8Array(2 * 8).map((_, i) => i);
      const msg = throughCdr<ImageIn>(
        ROS_TYPES.image,
        { header, height: 2, width: 2, encoding: 'bgr8', is_bigendian: 0, step: 8, data },
        distro,
      );
      const { stampNs, image } = readImage(msg, '/camera/image_raw');
      expect(stampNs).toBe(STAMP);
      expect(image).toMatchObject({ kind: 'raw', encoding: 'bgr8', width: 2, height: 2, step: 8 });
      expect(Array.from(image.data)).toEqual(Array.from(data));
    });

    it('refuses an Image with an unknown encoding, short rows or missing bytes', () => {
      const base = { header, height: 2, width: 2, encoding: 'rgb8', is_bigendian: 0, step: 6 };
      const read = (m: object) =>
        readImage(throughCdr<ImageIn>(ROS_TYPES.image, m, distro), '/cam');
      expect(() => read({ ...base, encoding: '16UC1', data: new Uint8Array(12) })).toThrow(
        /^\/cam: encoding: is "16UC1"; pons reads rgb8/,
      );
      expect(() => read({ ...base, step: 5, data: new Uint8Array(10) })).toThrow(
        /^\/cam: step: is 5, a row of 2 rgb8 pixels needs 6/,
      );
      expect(() => read({ ...base, data: new Uint8Array(11) })).toThrow(
        /^\/cam: data: holds 11 bytes, step × height is 12/,
      );
      expect(() => read({ ...base, width: 0, data: new Uint8Array(12) })).toThrow(/width: is 0/);
    });

    it('reads a CompressedImage and refuses an unknown format or no bytes', () => {
      const msg = throughCdr<CompressedImageIn>(
        ROS_TYPES.compressedImage,
        { header, format: 'rgb8; jpeg compressed bgr8', data: Uint8Array.of(0xff, 0xd8, 0xff) },
        distro,
      );
      const { stampNs, image } = readCompressedImage(msg, '/cam/compressed');
      expect(stampNs).toBe(STAMP);
      expect(image.format).toBe('rgb8; jpeg compressed bgr8');
      expect(() => readCompressedImage({ ...msg, format: 'theora' }, '/cam/compressed')).toThrow(
        /format: is "theora"/,
      );
      expect(() =>
        readCompressedImage({ ...msg, data: new Uint8Array(0) }, '/cam/compressed'),
      ).toThrow(/data: is empty/);
    });

    it('reads a JointState and refuses ragged or non-finite positions', () => {
      const msg = throughCdr<JointStateIn>(
        ROS_TYPES.jointState,
        { header, name: ['a', 'b'], position: [0.5, -1], velocity: [], effort: [] },
        distro,
      );
      const js = readJointState(msg, '/joint_states');
      expect(js).toEqual({ stampNs: STAMP, name: ['a', 'b'], position: Float64Array.of(0.5, -1) });
      expect(() => readJointState({ ...msg, position: [1] }, '/joint_states')).toThrow(
        /position: has 1 entries for 2 names/,
      );
      expect(() => readJointState({ ...msg, position: [1, Number.NaN] }, '/joint_states')).toThrow(
        /position\[1\]: is NaN/,
      );
    });

    it('has a std_msgs/String definition for the instruction topic', () => {
      expect(
        throughCdr<{ data: string }>(ROS_TYPES.string, { data: 'reach the red block' }, distro),
      ).toEqual({
        data: 'reach the red block',
      });
    });
  });
}

/**
 * Readers for the sensor messages the brain subscribes to (sensor_msgs/Image,
 * CompressedImage, JointState, std_msgs/String), from rclnodejs's JS shape (or a CDR
 * reader's, which is the same) to plain values. Each checks the message at the boundary and
 * throws an InputError naming the topic, the field and the reason.
 */
import { InputError } from '../contract/index.js';
import { nsFromStamp, type RosTime } from './time.js';

/** Bytes per pixel of the encodings pons reads (sensor_msgs/image_encodings). */
const IMAGE_CHANNELS: Record<string, number> = { rgb8: 3, bgr8: 3, rgba8: 4, bgra8: 4, mono8: 1 };
const MAX_SIDE = 16384;

export interface ImageIn {
  header: { stamp: RosTime; frame_id: string };
  height: number;
  width: number;
  encoding: string;
  is_bigendian: number;
  step: number;
  data: Uint8Array | number[];
}

export interface CompressedImageIn {
  header: { stamp: RosTime; frame_id: string };
  format: string;
  data: Uint8Array | number[];
}

export interface JointStateIn {
  header: { stamp: RosTime; frame_id: string };
  name: string[];
  position: ArrayLike<number>;
  velocity: ArrayLike<number>;
}

export interface RawImage {
  kind: 'raw';
  encoding: string;
  width: number;
  height: number;
  step: number;
  data: Uint8Array;
}

export interface CompressedImage {
  kind: 'compressed';
  format: string;
  data: Uint8Array;
}

const bytes = (data: Uint8Array | number[]) =>
  data instanceof Uint8Array ? data : Uint8Array.from(data);

export function readImage(msg: ImageIn, topic: string): { stampNs: bigint; image: RawImage } {
  const stampNs = nsFromStamp(msg.header.stamp, topic, 'header.stamp');
  const channels = IMAGE_CHANNELS[msg.encoding];
  if (channels === undefined) {
    throw new InputError(
      topic,
      'encoding',
      `is "${msg.encoding}"; pons reads ${Object.keys(IMAGE_CHANNELS).join(', ')}`,
    );
  }
  for (const key of ['width', 'height'] as const) {
    const n = msg[key];
    if (!Number.isInteger(n) || n < 1 || n > MAX_SIDE) {
      throw new InputError(topic, key, `is ${n}, must be in [1, ${MAX_SIDE}]`);
    }
  }
  if (msg.step < msg.width * channels) {
    throw new InputError(
      topic,
      'step',
      `is ${msg.step}, a row of ${msg.width} ${msg.encoding} pixels needs ${msg.width * channels}`,
    );
  }
  const data = bytes(msg.data);
  if (data.length !== msg.step * msg.height) {
    throw new InputError(
      topic,
      'data',
      `holds ${data.length} bytes, step × height is ${msg.step * msg.height}`,
    );
  }
  return {
    stampNs,
    image: {
      kind: 'raw',
      encoding: msg.encoding,
      width: msg.width,
      height: msg.height,
      step: msg.step,
      data,
    },
  };
}

export function readCompressedImage(
  msg: CompressedImageIn,
  topic: string,
): { stampNs: bigint; image: CompressedImage } {
  const stampNs = nsFromStamp(msg.header.stamp, topic, 'header.stamp');
  const data = bytes(msg.data);
  if (data.length === 0) throw new InputError(topic, 'data', 'is empty');
  if (!/jpe?g|png/i.test(msg.format)) {
    throw new InputError(topic, 'format', `is "${msg.format}"; pons reads jpeg and png`);
  }
  return { stampNs, image: { kind: 'compressed', format: msg.format, data } };
}

export function readJointState(
  msg: JointStateIn,
  topic: string,
): { stampNs: bigint; name: string[]; position: Float64Array } {
  const stampNs = nsFromStamp(msg.header.stamp, topic, 'header.stamp');
  if (msg.position.length !== msg.name.length) {
    throw new InputError(
      topic,
      'position',
      `has ${msg.position.length} entries for ${msg.name.length} names`,
    );
  }
  const position = Float64Array.from(msg.position);
  position.forEach((x, i) => {
    if (!Number.isFinite(x)) throw new InputError(topic, `position[${i}]`, `is ${x}`);
  });
  return { stampNs, name: [...msg.name], position };
}

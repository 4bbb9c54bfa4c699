import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { type Frame, ImagePreprocessor, type RawFrame } from '../../src/brain/preprocess.js';
import { InputError } from '../../src/contract/index.js';

const MEAN = [0.48145466, 0.4578275, 0.40821073] as const;
const STD = [0.26862954, 0.26130258, 0.27577711] as const;

/** CLIP's processor at 336 px, as tiny-vla and Align-DS-V ship it. */
const CLIP_336 = {
  do_resize: true,
  size: { shortest_edge: 336 },
  resample: 3,
  do_center_crop: true,
  crop_size: { height: 336, width: 336 },
  do_rescale: true,
  rescale_factor: 1 / 255,
  do_normalize: true,
  image_mean: [...MEAN] as [number, number, number],
  image_std: [...STD] as [number, number, number],
};

/** A deterministic RGB image: gradients and a few hard edges. */
function rgbImage(width: number, height: number): Uint8Array {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * 3;
      data[p] = (x * 255) / (width - 1);
      data[p + 1] = (y * 255) / (height - 1);
      data[p + 2] = (x + y) % 64 < 32 ? 200 : 20;
    }
  }
  return data;
}

function raw(
  encoding: string,
  width: number,
  height: number,
  data: Uint8Array,
  step?: number,
): RawFrame {
  const channels = { rgb8: 3, bgr8: 3, rgba8: 4, bgra8: 4, mono8: 1 }[encoding] ?? 3;
  return { kind: 'raw', encoding, width, height, step: step ?? width * channels, data };
}

/** Reorders or widens an RGB buffer into another encoding's layout. */
function convert(rgb: Uint8Array, encoding: 'bgr8' | 'rgba8' | 'bgra8'): Uint8Array {
  const pixels = rgb.length / 3;
  const channels = encoding === 'bgr8' ? 3 : 4;
  const out = new Uint8Array(pixels * channels);
  for (let i = 0; i < pixels; i++) {
    const [r, g, b] = [rgb[3 * i] as number, rgb[3 * i + 1] as number, rgb[3 * i + 2] as number];
    const bgr = encoding !== 'rgba8';
    out[channels * i] = bgr ? b : r;
    out[channels * i + 1] = g;
    out[channels * i + 2] = bgr ? r : b;
    if (channels === 4) out[channels * i + 3] = (i * 13) % 256; // alpha is ignored, whatever it is
  }
  return out;
}

/** Element-wise equality without vitest's slow deep diff of 338,688 floats. */
function same(expected: Float32Array) {
  return (actual: Float32Array) =>
    actual.length === expected.length && actual.every((v, i) => v === expected[i]);
}

async function expectInputError(promise: Promise<unknown>, field: string, reason: RegExp) {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InputError);
  expect((err as InputError).source).toBe('camera');
  expect((err as InputError).field).toBe(field);
  expect((err as InputError).reason).toMatch(reason);
}

describe('image preprocessing (CLIPImageProcessor semantics)', () => {
  const pre = new ImagePreprocessor(CLIP_336);
  const native = rgbImage(336, 336);

  it('rescales and normalizes a frame of the model size, channel planes in RGB order', async () => {
    const out = await pre.run(raw('rgb8', 336, 336, native), 'camera');
    expect(out.length).toBe(3 * 336 * 336);
    const plane = 336 * 336;
    for (const i of [0, 1, 335, 336 * 100 + 17, plane - 1]) {
      for (let c = 0; c < 3; c++) {
        const expected =
          ((native[3 * i + c] as number) / 255 - (MEAN[c] as number)) / (STD[c] as number);
        expect(out[c * plane + i]).toBeCloseTo(expected, 6);
      }
    }
  });

  it('gives the same pixel values for rgb8, bgr8, rgba8, bgra8 and padded rows', async () => {
    const reference = await pre.run(raw('rgb8', 336, 336, native), 'camera');
    for (const encoding of ['bgr8', 'rgba8', 'bgra8'] as const) {
      const out = await pre.run(raw(encoding, 336, 336, convert(native, encoding)), 'camera');
      expect(out).toSatisfy(same(reference));
    }
    // Rows with 8 bytes of padding after each (step > width × 3).
    const step = 336 * 3 + 8;
    const padded = new Uint8Array(step * 336).fill(255);
    for (let y = 0; y < 336; y++) padded.set(native.subarray(y * 1008, (y + 1) * 1008), y * step);
    expect(await pre.run(raw('rgb8', 336, 336, padded, step), 'camera')).toSatisfy(same(reference));
  });

  it('repeats a mono8 frame into all three channels', async () => {
    const grey = new Uint8Array(336 * 336).map((_, i) => i % 251);
    const out = await pre.run(raw('mono8', 336, 336, grey), 'camera');
    const asRgb = new Uint8Array(grey.length * 3).map((_, i) => grey[Math.floor(i / 3)] as number);
    expect(out).toSatisfy(same(await pre.run(raw('rgb8', 336, 336, asRgb), 'camera')));
  });

  it('decodes PNG exactly and JPEG closely', async () => {
    const reference = await pre.run(raw('rgb8', 336, 336, native), 'camera');
    const input = { raw: { width: 336, height: 336, channels: 3 as const } };
    const png = await sharp(native, input).png().toBuffer();
    expect(await pre.run({ kind: 'compressed', format: 'png', data: png }, 'camera')).toEqual(
      reference,
    );
    const jpeg = await sharp(native, input).jpeg({ quality: 95 }).toBuffer();
    const decoded = await pre.run(
      { kind: 'compressed', format: 'rgb8; jpeg compressed bgr8', data: jpeg },
      'camera',
    );
    let sum = 0;
    for (let i = 0; i < decoded.length; i++)
      sum += Math.abs((decoded[i] as number) - (reference[i] as number));
    // Mean error under 6 grey levels (a level is 1/255/std ≈ 0.015 here) on hard stripes; a
    // swapped channel would be off by about 2.
    expect(sum / decoded.length).toBeLessThan(0.08);
  });

  it('resizes the shortest edge to 336 and crops the center, for any aspect ratio', async () => {
    // A 672×448 frame scales by exactly 3/4 to 504×336; the crop keeps columns 84…419.
    const wide = new Uint8Array(672 * 448 * 3);
    for (let y = 0; y < 448; y++) {
      for (let x = 0; x < 672; x++)
        wide.set(x < 112 || x >= 560 ? [255, 0, 0] : [0, 0, 255], (y * 672 + x) * 3);
    }
    const out = await pre.run(raw('rgb8', 672, 448, wide), 'camera');
    const plane = 336 * 336;
    const red = (i: number) => (out[i] as number) > 1; // R plane high
    // Red bands map to x < 84 and x ≥ 420 in the 504-wide resize: cropped away entirely,
    // except within the kernel's reach of the edges.
    for (const x of [4, 100, 168, 250, 331]) expect(red(168 * 336 + x)).toBe(false);
    const tall = await pre.run(raw('rgb8', 480, 640, rgbImage(480, 640)), 'camera');
    expect(tall.length).toBe(3 * plane);
    expect(tall.every(Number.isFinite)).toBe(true);
  });

  it('refuses bad frames with the field and reason, and keeps working', async () => {
    await expectInputError(
      pre.run(raw('yuv422', 4, 4, new Uint8Array(32)), 'camera'),
      'encoding',
      /not supported/,
    );
    await expectInputError(
      pre.run(raw('rgb8', 0, 4, new Uint8Array(0)), 'camera'),
      'width',
      /not a size/,
    );
    await expectInputError(
      pre.run(raw('rgb8', 4, 99999, new Uint8Array(12)), 'camera'),
      'height',
      /not a size/,
    );
    await expectInputError(
      pre.run(raw('rgb8', 4, 4, new Uint8Array(48), 8), 'camera'),
      'step',
      /less than/,
    );
    await expectInputError(
      pre.run(raw('rgb8', 4, 4, new Uint8Array(40)), 'camera'),
      'data',
      /holds 40 bytes/,
    );
    const png = await sharp(native, { raw: { width: 336, height: 336, channels: 3 } })
      .png()
      .toBuffer();
    const compressed = (data: Uint8Array, format = 'png'): Frame => ({
      kind: 'compressed',
      format,
      data,
    });
    await expectInputError(
      pre.run(compressed(new Uint8Array(100)), 'camera'),
      'data',
      /neither a JPEG nor a PNG/,
    );
    await expectInputError(pre.run(compressed(png, 'jpeg'), 'camera'), 'format', /data is PNG/);
    await expectInputError(
      pre.run(compressed(png.subarray(0, 200)), 'camera'),
      'data',
      /cannot be decoded/,
    );
    await expectInputError(
      pre.run(compressed(Uint8Array.of(0xff, 0xd8, 0xff, 0xe0, 0, 4), 'jpeg'), 'camera'),
      'data',
      /frame header/,
    );
    const ok = await pre.run(raw('rgb8', 336, 336, native), 'camera');
    expect(ok.every(Number.isFinite)).toBe(true);
  });
});

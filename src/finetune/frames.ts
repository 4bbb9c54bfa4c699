import sharp, { type Sharp } from 'sharp';
import { InputError } from '../contract/index.js';
import type { EpisodeFrame } from './episodes.js';

/**
 * Recorded camera frames as a dataset stores them: PNG files (compressed frames as they were
 * recorded, PNG or JPEG) or packed RGB rows for a video encoder.
 */

/** Where R, G, B sit in a pixel of each raw encoding pons records, and its channels. */
const LAYOUTS: Record<string, { channels: 1 | 3 | 4; bgr: boolean }> = {
  rgb8: { channels: 3, bgr: false },
  bgr8: { channels: 3, bgr: true },
  rgba8: { channels: 4, bgr: false },
  bgra8: { channels: 4, bgr: true },
  mono8: { channels: 1, bgr: false },
};

const BGR_TO_RGB = [
  [0, 0, 1],
  [0, 1, 0],
  [1, 0, 0],
] as [[number, number, number], [number, number, number], [number, number, number]];

function image(frame: EpisodeFrame, source: string): Sharp {
  const { image: img } = frame;
  if (img.kind === 'compressed') return sharp(img.data).removeAlpha();
  const layout = LAYOUTS[img.encoding];
  if (!layout) {
    throw new InputError(source, 'encoding', `is "${img.encoding}", not a colour encoding`);
  }
  const row = img.width * layout.channels;
  let data = img.data;
  if (img.step !== row) {
    data = new Uint8Array(row * img.height);
    for (let y = 0; y < img.height; y++) {
      data.set(img.data.subarray(y * img.step, y * img.step + row), y * row);
    }
  }
  let out = sharp(data, {
    raw: { width: img.width, height: img.height, channels: layout.channels },
  });
  if (layout.channels === 4) out = out.removeAlpha();
  if (layout.channels === 1) out = out.toColourspace('srgb');
  if (layout.bgr) out = out.recomb(BGR_TO_RGB);
  return out;
}

/** The frame as an image file's bytes and extension: recorded PNG/JPEG as is, raw as PNG. */
export async function frameFile(
  frame: EpisodeFrame,
  source: string,
): Promise<{ bytes: Uint8Array; ext: 'png' | 'jpg' }> {
  const { image: img } = frame;
  if (img.kind === 'compressed') {
    return { bytes: img.data, ext: img.data[0] === 0xff ? 'jpg' : 'png' };
  }
  return { bytes: new Uint8Array(await image(frame, source).png().toBuffer()), ext: 'png' };
}

/** The frame as packed RGB rows. */
export async function frameRgb(
  frame: EpisodeFrame,
  source: string,
): Promise<{ width: number; height: number; data: Uint8Array }> {
  const { data, info } = await image(frame, source)
    .toColourspace('srgb')
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) {
    throw new InputError(source, 'data', `decodes to ${info.channels} channels, not RGB`);
  }
  return { width: info.width, height: info.height, data: new Uint8Array(data) };
}

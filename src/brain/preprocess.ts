import sharp, { type OutputInfo, type Sharp } from 'sharp';
import { InputError } from '../contract/index.js';
import { outputSize, type PreprocessorConfig } from './model-package.js';

/**
 * Camera frame → `pixel_values` (NCHW float32), the way Hugging Face's CLIPImageProcessor
 * does it: convert to RGB, resize (shortest edge, or to a fixed size), center crop, rescale,
 * normalize. libvips (through sharp) decodes and resamples; the rescale and normalize steps
 * are one table lookup per byte, fused with the HWC → CHW transpose.
 */

/** A `sensor_msgs/Image`: raw pixels, rows `step` bytes apart. */
export interface RawFrame {
  kind: 'raw';
  encoding: string;
  width: number;
  height: number;
  step: number;
  data: Uint8Array;
}

/** A `sensor_msgs/CompressedImage`: `format` like `jpeg`, `png` or `rgb8; jpeg compressed bgr8`. */
export interface CompressedFrame {
  kind: 'compressed';
  format: string;
  data: Uint8Array;
}

export type Frame = RawFrame | CompressedFrame;

/** Channels per pixel, and where R, G and B sit in each pixel. */
const RAW_LAYOUTS: Record<string, { channels: number; rgb: [number, number, number] }> = {
  rgb8: { channels: 3, rgb: [0, 1, 2] },
  bgr8: { channels: 3, rgb: [2, 1, 0] },
  rgba8: { channels: 4, rgb: [0, 1, 2] },
  bgra8: { channels: 4, rgb: [2, 1, 0] },
  mono8: { channels: 1, rgb: [0, 0, 0] },
};
export const RAW_ENCODINGS = Object.keys(RAW_LAYOUTS);

/** The largest side accepted: a frame beyond it is a corrupt header, not a camera. */
const MAX_SIDE = 16384;

// PIL resample codes (preprocessor_config.json `resample`) → libvips kernels.
const KERNELS = ['nearest', 'lanczos3', 'linear', 'cubic', 'linear', 'cubic'] as const;

export class ImagePreprocessor {
  readonly height: number;
  readonly width: number;
  private readonly luts: [Float32Array, Float32Array, Float32Array];

  constructor(private readonly config: PreprocessorConfig) {
    [this.height, this.width] = outputSize(config);
    const scale = config.do_rescale ? config.rescale_factor : 1;
    // Float32 throughout, as the processor's numpy arrays are.
    this.luts = [0, 1, 2].map((c) => {
      const mean = config.do_normalize ? Math.fround(config.image_mean[c] as number) : 0;
      const std = config.do_normalize ? Math.fround(config.image_std[c] as number) : 1;
      return Float32Array.from({ length: 256 }, (_, v) => (Math.fround(v * scale) - mean) / std);
    }) as [Float32Array, Float32Array, Float32Array];
  }

  /**
   * The lookup tables of the rescale and normalize steps: `tables[c][v]` is the pixel value
   * of byte v in channel c (R, G, B). A training set stores resized bytes and these tables,
   * so training sees exactly the floats inference computes.
   */
  get tables(): readonly [Float32Array, Float32Array, Float32Array] {
    return this.luts;
  }

  /** Fills `out` (3·H·W floats, allocated when absent) with the frame's pixel values. */
  async run(frame: Frame, source: string, out?: Float32Array): Promise<Float32Array> {
    const size = 3 * this.height * this.width;
    const target = out ?? new Float32Array(size);
    if (target.length !== size) throw new RangeError(`out holds ${target.length}, not ${size}`);
    const { data, stride, order } = await this.resized(frame, source);
    const [lr, lg, lb] = this.luts;
    const plane = this.height * this.width;
    const [r, g, b] = order;
    for (let i = 0, p = 0; i < plane; i++, p += stride) {
      target[i] = lr[data[p + r] as number] as number;
      target[plane + i] = lg[data[p + g] as number] as number;
      target[2 * plane + i] = lb[data[p + b] as number] as number;
    }
    return target;
  }

  /** The frame converted to RGB, resized and cropped: H·W·3 bytes, row-major (HWC). */
  async rgb(frame: Frame, source: string): Promise<Uint8Array> {
    const { data, stride, order } = await this.resized(frame, source);
    const plane = this.height * this.width;
    const out = new Uint8Array(3 * plane);
    for (let i = 0, p = 0; i < plane; i++, p += stride) {
      out[3 * i] = data[p + order[0]] as number;
      out[3 * i + 1] = data[p + order[1]] as number;
      out[3 * i + 2] = data[p + order[2]] as number;
    }
    return out;
  }

  /** Decoded, resized and cropped bytes, with each pixel's stride and where R, G, B sit. */
  private async resized(
    frame: Frame,
    source: string,
  ): Promise<{ data: Buffer; stride: number; order: readonly [number, number, number] }> {
    const input = frame.kind === 'raw' ? rawInput(frame, source) : compressedInput(frame, source);
    const pipeline = this.resize(input, source);
    let pixels: { data: Buffer; info: OutputInfo };
    try {
      pixels = await pipeline.raw().toBuffer({ resolveWithObject: true });
    } catch (err) {
      throw new InputError(source, 'data', `cannot be decoded: ${(err as Error).message}`);
    }
    const { data, info } = pixels;
    if (info.width !== this.width || info.height !== this.height) {
      throw new Error(
        `resize produced ${info.width}×${info.height}, not ${this.width}×${this.height}`,
      );
    }
    // Decoded images come as 1–4 channels: grey, grey+alpha, RGB, RGBA.
    const order = info.channels < 3 ? ([0, 0, 0] as const) : (input.rgb ?? ([0, 1, 2] as const));
    return { data, stride: info.channels, order };
  }

  private resize({ image, width, height }: Input, source: string): Sharp {
    const { config } = this;
    let w = width;
    let h = height;
    if (config.do_resize) {
      const size = config.size;
      if ('shortest_edge' in size) {
        // transformers' get_resize_output_image_size: the long side is floored.
        const short = Math.min(width, height);
        const long = Math.max(width, height);
        const other = Math.floor((size.shortest_edge * long) / short);
        [w, h] = width <= height ? [size.shortest_edge, other] : [other, size.shortest_edge];
      } else {
        [w, h] = [size.width, size.height];
      }
    }
    let pipeline = image;
    if (w !== width || h !== height) {
      pipeline = pipeline.resize(w, h, { fit: 'fill', kernel: KERNELS[config.resample] });
    }
    if (w !== this.width || h !== this.height) {
      if (w < this.width || h < this.height) {
        // transformers pads small images when cropping; a frame this small is refused.
        throw new InputError(source, 'size', `${width}×${height} is too small to crop`);
      }
      // transformers' center_crop rounds the offsets down.
      const top = Math.floor((h - this.height) / 2);
      const left = Math.floor((w - this.width) / 2);
      pipeline = pipeline.extract({ left, top, width: this.width, height: this.height });
    }
    return pipeline;
  }
}

/** A frame opened for libvips, with its size (raw frames know it, encoded ones are read). */
interface Input {
  image: Sharp;
  width: number;
  height: number;
  /** Where R, G and B sit in each pixel of a raw frame; null for decoded images. */
  rgb: readonly [number, number, number] | null;
}

function rawInput(frame: RawFrame, source: string): Input {
  const layout = RAW_LAYOUTS[frame.encoding];
  if (layout === undefined) {
    throw new InputError(
      source,
      'encoding',
      `"${frame.encoding}" is not supported (use ${RAW_ENCODINGS.join(', ')} or a compressed image)`,
    );
  }
  const { width, height, step, data } = frame;
  for (const [field, value] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (!Number.isInteger(value) || value < 1 || value > MAX_SIDE) {
      throw new InputError(source, field, `${value} is not a size in 1…${MAX_SIDE}`);
    }
  }
  const row = width * layout.channels;
  if (!Number.isInteger(step) || step < row) {
    throw new InputError(
      source,
      'step',
      `${step} is less than width × ${layout.channels} = ${row}`,
    );
  }
  if (data.length < step * (height - 1) + row) {
    throw new InputError(
      source,
      'data',
      `holds ${data.length} bytes, a ${width}×${height} ${frame.encoding} image with step ${step} needs ${step * height}`,
    );
  }
  // libvips wants rows packed; padded rows are copied once.
  let packed = data;
  if (step !== row) {
    packed = new Uint8Array(row * height);
    for (let y = 0; y < height; y++) packed.set(data.subarray(y * step, y * step + row), y * row);
  }
  let image = sharp(packed, { raw: { width, height, channels: layout.channels as 1 | 3 | 4 } });
  // CLIP's convert_rgb drops alpha without compositing; so does removeAlpha.
  if (layout.channels === 4) image = image.removeAlpha();
  return { image, width, height, rgb: layout.rgb };
}

const JPEG_MAGIC = [0xff, 0xd8, 0xff];
const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47];

function compressedInput(frame: CompressedFrame, source: string): Input {
  const { data } = frame;
  const format = frame.format.toLowerCase();
  const isJpeg = startsWith(data, JPEG_MAGIC);
  const isPng = startsWith(data, PNG_MAGIC);
  if (!isJpeg && !isPng) {
    throw new InputError(source, 'data', 'is neither a JPEG nor a PNG image');
  }
  // image_transport formats name the codec: "jpeg", "png", "rgb8; jpeg compressed bgr8", ...
  if (format !== '' && !format.includes(isJpeg ? 'jpeg' : 'png')) {
    throw new InputError(
      source,
      'format',
      `says "${frame.format}" but the data is ${isJpeg ? 'JPEG' : 'PNG'}`,
    );
  }
  const [width, height] = isJpeg ? jpegSize(data, source) : pngSize(data, source);
  const image = sharp(data, { limitInputPixels: MAX_SIDE * MAX_SIDE }).removeAlpha();
  return { image, width, height, rgb: null };
}

function startsWith(data: Uint8Array, magic: readonly number[]): boolean {
  return magic.every((byte, i) => data[i] === byte);
}

function pngSize(data: Uint8Array, source: string): [number, number] {
  if (data.length < 24) throw new InputError(source, 'data', 'is a truncated PNG');
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return checkedSize(view.getUint32(16), view.getUint32(20), source);
}

/** Reads the frame header (SOF0…SOF15 but DHT, JPG, DAC) without decoding. */
function jpegSize(data: Uint8Array, source: string): [number, number] {
  let p = 2;
  while (p + 9 < data.length) {
    if (data[p] !== 0xff) break;
    const marker = data[p + 1] as number;
    const length = ((data[p + 2] as number) << 8) | (data[p + 3] as number);
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      const height = ((data[p + 5] as number) << 8) | (data[p + 6] as number);
      const width = ((data[p + 7] as number) << 8) | (data[p + 8] as number);
      return checkedSize(width, height, source);
    }
    p += 2 + length;
  }
  throw new InputError(source, 'data', 'is a JPEG without a frame header (truncated or corrupt)');
}

function checkedSize(width: number, height: number, source: string): [number, number] {
  if (width < 1 || height < 1 || width > MAX_SIDE || height > MAX_SIDE) {
    throw new InputError(source, 'data', `declares a ${width}×${height} image`);
  }
  return [width, height];
}

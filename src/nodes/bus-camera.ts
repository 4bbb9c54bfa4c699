import sharp, { type OutputInfo } from 'sharp';
import { InputError, readFileBytes } from '../contract/index.js';
import { BusPublisher } from '../link/index.js';
import { epochNowNs } from '../wire/index.js';

/**
 * A stand-in camera on the observation bus: an image file published as rgb8 frames at a
 * fixed rate (a bright band sweeps across it so consecutive frames differ, as a real
 * camera's do), and an instruction repeated every second so a brain that joins late
 * hears it. For trying a brain without a simulator or robot, and for benchmarks.
 */

export interface BusCameraOptions {
  endpoint: string;
  image: string;
  camera: string;
  rateHz: number;
  instruction?: string;
  width?: number;
  height?: number;
  /** Called with each frame's capture stamp and the monotonic time it was handed to the bus. */
  onFrame?: (stampNs: bigint, sentMonotonicNs: bigint) => void;
}

export class BusCamera {
  private frameTimer: NodeJS.Timeout | undefined;
  private instructionTimer: NodeJS.Timeout | undefined;
  frames = 0;

  private constructor(
    private readonly bus: BusPublisher,
    private readonly options: BusCameraOptions,
    private readonly pixels: Uint8Array,
    private readonly width: number,
    private readonly height: number,
  ) {}

  static async start(options: BusCameraOptions): Promise<BusCamera> {
    let decoded: { data: Buffer; info: OutputInfo };
    try {
      let image = sharp(readFileBytes(options.image)).removeAlpha();
      if (options.width !== undefined && options.height !== undefined) {
        image = image.resize(options.width, options.height, { fit: 'fill' });
      }
      decoded = await image.raw().toBuffer({ resolveWithObject: true });
    } catch (err) {
      if (err instanceof InputError) throw err;
      throw new InputError(options.image, '', `cannot be decoded: ${(err as Error).message}`);
    }
    const bus = await BusPublisher.open({ endpoint: options.endpoint, bind: true });
    const camera = new BusCamera(
      bus,
      options,
      new Uint8Array(decoded.data),
      decoded.info.width,
      decoded.info.height,
    );
    camera.frameTimer = setInterval(() => camera.publishFrame(), 1000 / options.rateHz);
    if (options.instruction !== undefined) {
      const say = () =>
        bus.publish({
          kind: 'instruction',
          stamp_ns: epochNowNs(),
          text: options.instruction as string,
        });
      say();
      camera.instructionTimer = setInterval(say, 1000);
    }
    return camera;
  }

  private publishFrame(): void {
    const { width, height } = this;
    const data = Uint8Array.from(this.pixels);
    const x0 = (this.frames * 7) % width;
    for (let y = 0; y < height; y++) {
      for (let x = Math.max(0, x0 - 4); x < Math.min(width, x0 + 4); x++)
        data[(y * width + x) * 3] = 255;
    }
    const stamp = epochNowNs();
    this.bus.publish({
      kind: 'frame',
      camera: this.options.camera,
      stamp_ns: stamp,
      encoding: 'rgb8',
      width,
      height,
      data,
    });
    this.frames++;
    this.options.onFrame?.(stamp, process.hrtime.bigint());
  }

  stop(): void {
    clearInterval(this.frameTimer);
    clearInterval(this.instructionTimer);
    this.bus.close();
  }
}

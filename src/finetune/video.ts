import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';

/**
 * Camera frames to an MP4 file through ffmpeg (Debian's), encoded as LeRobot encodes its
 * datasets' videos: AV1 (libsvtav1), yuv420p, a keyframe every 2 frames (cheap random access),
 * CRF 30. Frames go in as packed RGB rows on ffmpeg's standard input. `PONS_FFMPEG` names
 * another ffmpeg binary.
 */

export const VIDEO_CODEC = {
  name: 'av1',
  encoder: 'libsvtav1',
  pixFmt: 'yuv420p',
  gop: 2,
  crf: 30,
};

export function ffmpegBinary(): string {
  return process.env.PONS_FFMPEG ?? 'ffmpeg';
}

/** Throws a clear error where there is no ffmpeg, or it lacks the encoder. */
export function checkFfmpeg(): void {
  const binary = ffmpegBinary();
  const probe = spawnSync(binary, ['-hide_banner', '-encoders'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      `--images video needs ffmpeg, and \`${binary}\` does not run (${probe.error?.message ?? `exit ${probe.status}`}): install it (apt-get install ffmpeg) or use --images columns`,
    );
  }
  if (!probe.stdout.includes(VIDEO_CODEC.encoder)) {
    throw new Error(`${binary} has no ${VIDEO_CODEC.encoder} encoder; use --images columns`);
  }
}

export class VideoEncoder {
  private readonly stderr: string[] = [];
  frames = 0;

  private constructor(
    private readonly path: string,
    private readonly process: ChildProcess,
    private readonly frameBytes: number,
  ) {
    process.stderr?.on('data', (d: Buffer) => this.stderr.push(d.toString()));
    process.on('error', (err) => this.stderr.push(err.message));
  }

  static start(path: string, width: number, height: number, fps: number): VideoEncoder {
    const { encoder, pixFmt, gop, crf } = VIDEO_CODEC;
    const child = spawn(
      ffmpegBinary(),
      [
        ...['-hide_banner', '-loglevel', 'error', '-y'],
        ...['-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-r', String(fps)],
        ...['-i', 'pipe:0', '-c:v', encoder, '-pix_fmt', pixFmt, '-g', String(gop)],
        ...['-crf', String(crf), path],
      ],
      { stdio: ['pipe', 'ignore', 'pipe'] },
    );
    return new VideoEncoder(path, child, width * height * 3);
  }

  async write(rgb: Uint8Array): Promise<void> {
    if (rgb.length !== this.frameBytes) {
      throw new RangeError(`${this.path}: frame of ${rgb.length} bytes, not ${this.frameBytes}`);
    }
    const stdin = this.process.stdin;
    if (!stdin) throw new Error(`${this.path}: ffmpeg has no input`);
    this.frames++;
    if (!stdin.write(rgb)) await once(stdin, 'drain');
  }

  async finish(): Promise<void> {
    this.process.stdin?.end();
    const [code] = (await once(this.process, 'close')) as [number | null];
    if (code !== 0) {
      throw new Error(`${this.path}: ffmpeg exited with ${code}: ${this.stderr.join('').trim()}`);
    }
  }
}

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type ActionSpec, InputError, JointOrder, stepPeriodNs } from '../contract/index.js';
import { type EpisodeFrame, type RecordedEpisode, specJointPositions } from './episodes.js';
import { frameFile, frameRgb } from './frames.js';
import { type Column, type ImageCell, writeParquet } from './parquet.js';
import { StatsAccumulator } from './statistics.js';
import { VIDEO_CODEC, VideoEncoder } from './video.js';

/**
 * LeRobotDataset v3.0 (huggingface/lerobot, `CODEBASE_VERSION = "v3.0"`): every episode's
 * frames at the spec's rate (fps = 1/dt) in `data/chunk-000/file-000.parquet`, with
 * `observation.state` (the joint positions, in the spec's dimension order), `action` (the
 * joint targets the executing chunk holds for the next step: step k+1 of the newest decision,
 * k steps after it), `timestamp` (s from the episode's start), `frame_index`, `episode_index`,
 * `index` and `task_index`; the camera as an image column or as one AV1 video
 * (`videos/<key>/chunk-000/file-000.mp4`, episodes back to back); `meta/info.json`,
 * `meta/stats.json`, `meta/tasks.parquet` and `meta/episodes/chunk-000/file-000.parquet`.
 */

export type LeRobotImages = 'video' | 'columns';

export interface LeRobotOptions {
  dir: string;
  spec: ActionSpec;
  images: LeRobotImages;
  robotType: string;
}

const CHUNK_FILE = 'chunk-{chunk_index:03d}/file-{file_index:03d}';
export const LEROBOT_PATHS = {
  info: 'meta/info.json',
  stats: 'meta/stats.json',
  tasks: 'meta/tasks.parquet',
  episodes: 'meta/episodes/chunk-000/file-000.parquet',
  data: 'data/chunk-000/file-000.parquet',
  dataTemplate: `data/${CHUNK_FILE}.parquet`,
  videoTemplate: `videos/{video_key}/${CHUNK_FILE}.mp4`,
  video: (key: string) => `videos/${key}/chunk-000/file-000.mp4`,
};
/** LeRobot's defaults for chunk and file sizes. */
const CHUNKS_SIZE = 1000;
const DATA_FILE_MB = 100;
const VIDEO_FILE_MB = 500;
const QUANTILES = { q01: 0.01, q10: 0.1, q50: 0.5, q90: 0.9, q99: 0.99 };

interface FrameImage {
  rgb: { width: number; height: number; data: Uint8Array };
  /** The image file, for image columns. */
  file: { bytes: Uint8Array; ext: string } | undefined;
}

interface EpisodeRow {
  index: number;
  task: string;
  length: number;
  from: number;
}

export class LeRobotWriter {
  private readonly fps: number;
  private readonly dims: string[];
  private readonly columns = {
    state: [] as number[][],
    action: [] as number[][],
    timestamp: [] as number[],
    frameIndex: [] as bigint[],
    episodeIndex: [] as bigint[],
    index: [] as bigint[],
    taskIndex: [] as bigint[],
    image: [] as ImageCell[],
  };
  private readonly tasks = new Map<string, number>();
  private readonly episodes: EpisodeRow[] = [];
  private readonly stats: Record<string, StatsAccumulator>;
  /** Per-channel histograms of the camera's 8-bit values, for its stats. */
  private readonly histogram = Array.from({ length: 3 }, () => new Float64Array(256));
  private video: VideoEncoder | undefined;
  private camera: { key: string; width: number; height: number } | undefined;

  constructor(private readonly options: LeRobotOptions) {
    this.fps = Math.round(1 / options.spec.dt);
    this.dims = options.spec.dimensions.map((d) => d.name);
    const D = this.dims.length;
    this.stats = {
      'observation.state': new StatsAccumulator(D),
      action: new StatsAccumulator(D),
      timestamp: new StatsAccumulator(1),
      frame_index: new StatsAccumulator(1),
      episode_index: new StatsAccumulator(1),
      index: new StatsAccumulator(1),
      task_index: new StatsAccumulator(1),
    };
  }

  /** Adds an episode; `chunks[i]` is decision i's decoded chunk (H·D, step-major). */
  async add(episode: RecordedEpisode, chunks: readonly Float64Array[]): Promise<void> {
    const { spec } = this.options;
    const source = `${episode.file} episode ${episode.id}`;
    const H = spec.horizon;
    const D = this.dims.length;
    const periodNs = BigInt(Math.round(1e9 / this.fps));
    const stepNs = stepPeriodNs(spec);
    const start = episode.frames[0]?.stampNs;
    if (start === undefined) throw new InputError(source, 'camera', 'has no frames');
    let taskIndex = this.tasks.get(episode.instruction);
    if (taskIndex === undefined) {
      taskIndex = this.tasks.size;
      this.tasks.set(episode.instruction, taskIndex);
    }
    const episodeIndex = this.episodes.length;
    const from = this.columns.index.length;
    const order = new JointOrder(this.dims);
    // libvips decodes and encodes on its own threads: all of an episode's frames at once.
    const images = await Promise.all(episode.frames.map((f) => this.image(f, source)));
    let decision = -1;
    let joint = -1;
    for (const [i, frame] of episode.frames.entries()) {
      if (frame.stampNs - start !== BigInt(i) * periodNs) {
        throw new InputError(
          source,
          'camera header.stamp',
          `frame ${i} is ${Number(frame.stampNs - start) / 1e6} ms into the episode, not ${(i * 1000) / this.fps} ms: LeRobot needs frames at the spec's ${this.fps} fps (record with --fps ${this.fps})`,
        );
      }
      while (
        decision + 1 < episode.decisions.length &&
        (episode.decisions[decision + 1]?.stampNs as bigint) <= frame.stampNs
      ) {
        decision++;
      }
      while (
        joint + 1 < episode.joints.length &&
        (episode.joints[joint + 1]?.stampNs as bigint) <= frame.stampNs
      ) {
        joint++;
      }
      const d = episode.decisions[decision];
      const state = episode.joints[joint];
      if (!d || !state) {
        throw new InputError(
          source,
          'header.stamp',
          `frame ${i} comes before the episode's first decision or joint state`,
        );
      }
      const observation = Array.from(specJointPositions(order, state, source));
      // The next step of the chunk being executed: steps are dt apart from its stamp.
      const k = Math.min(Math.round(Number(frame.stampNs - d.stampNs) / Number(stepNs)) + 1, H - 1);
      const chunk = chunks[decision] as Float64Array;
      const action = Array.from(chunk.subarray(k * D, (k + 1) * D));
      const row = {
        'observation.state': observation,
        action,
        timestamp: [i / this.fps],
        frame_index: [i],
        episode_index: [episodeIndex],
        index: [from + i],
        task_index: [taskIndex],
      };
      for (const [key, values] of Object.entries(row)) this.stats[key]?.add(values);
      this.columns.state.push(observation);
      this.columns.action.push(action);
      this.columns.timestamp.push(i / this.fps);
      this.columns.frameIndex.push(BigInt(i));
      this.columns.episodeIndex.push(BigInt(episodeIndex));
      this.columns.index.push(BigInt(from + i));
      this.columns.taskIndex.push(BigInt(taskIndex));
      await this.addImage(images[i] as FrameImage, frame.frameId, episodeIndex, i, source);
    }
    this.episodes.push({
      index: episodeIndex,
      task: episode.instruction,
      length: episode.frames.length,
      from,
    });
  }

  private async image(frame: EpisodeFrame, source: string): Promise<FrameImage> {
    const rgb = await frameRgb(frame, source);
    return {
      rgb,
      file: this.options.images === 'columns' ? await frameFile(frame, source) : undefined,
    };
  }

  private async addImage(
    { rgb, file }: FrameImage,
    frameId: string,
    episodeIndex: number,
    i: number,
    source: string,
  ): Promise<void> {
    if (!this.camera) {
      const name = (frameId || 'camera').replace(/[^A-Za-z0-9_-]/g, '_');
      this.camera = { key: `observation.images.${name}`, width: rgb.width, height: rgb.height };
      if (this.options.images === 'video') {
        const path = join(this.options.dir, LEROBOT_PATHS.video(this.camera.key));
        mkdirSync(dirname(path), { recursive: true });
        this.video = VideoEncoder.start(path, rgb.width, rgb.height, this.fps);
      }
    }
    if (rgb.width !== this.camera.width || rgb.height !== this.camera.height) {
      throw new InputError(
        source,
        'camera',
        `frame ${i} is ${rgb.width}×${rgb.height}, earlier ones ${this.camera.width}×${this.camera.height}`,
      );
    }
    const [r, g, b] = this.histogram as [Float64Array, Float64Array, Float64Array];
    const px = rgb.data;
    for (let p = 0; p < px.length; p += 3) {
      (r[px[p] as number] as number)++;
      (g[px[p + 1] as number] as number)++;
      (b[px[p + 2] as number] as number)++;
    }
    if (this.video) {
      await this.video.write(rgb.data);
    } else if (file) {
      const { bytes, ext } = file;
      const name = `frame-${String(i).padStart(6, '0')}.${ext}`;
      this.columns.image.push({
        bytes,
        path: `episode-${String(episodeIndex).padStart(6, '0')}/${name}`,
      });
    }
  }

  /** Writes the data, the videos' end and the metadata; returns the frames and episodes. */
  async finish(): Promise<{ frames: number; episodes: number; files: string[] }> {
    const { dir, spec, robotType } = this.options;
    const camera = this.camera;
    if (!camera) throw new InputError('--from', '', 'no frames to write');
    await this.video?.finish();
    const file = (path: string) => {
      const full = join(dir, path);
      mkdirSync(dirname(full), { recursive: true });
      return full;
    };
    const D = this.dims.length;
    const c = this.columns;
    const video = this.options.images === 'video';
    writeParquet(file(LEROBOT_PATHS.data), [
      { name: 'observation.state', kind: 'float32[]', data: c.state, length: D },
      { name: 'action', kind: 'float32[]', data: c.action, length: D },
      { name: 'timestamp', kind: 'float32', data: c.timestamp },
      { name: 'frame_index', kind: 'int64', data: c.frameIndex },
      { name: 'episode_index', kind: 'int64', data: c.episodeIndex },
      { name: 'index', kind: 'int64', data: c.index },
      { name: 'task_index', kind: 'int64', data: c.taskIndex },
      ...(video ? [] : [{ name: camera.key, kind: 'image' as const, data: c.image }]),
    ]);
    writeParquet(file(LEROBOT_PATHS.tasks), tasksColumns(this.tasks), {
      pandas: pandasIndexMetadata('task', 'task_index'),
    });
    writeParquet(file(LEROBOT_PATHS.episodes), this.episodeColumns(camera.key, video));
    const frames = c.index.length;
    const features: Record<string, object> = {
      'observation.state': { dtype: 'float32', shape: [D], names: this.dims },
      action: { dtype: 'float32', shape: [D], names: this.dims },
      [camera.key]: {
        dtype: video ? 'video' : 'image',
        shape: [camera.height, camera.width, 3],
        names: ['height', 'width', 'channels'],
        ...(video
          ? {
              info: {
                'video.height': camera.height,
                'video.width': camera.width,
                'video.codec': VIDEO_CODEC.name,
                'video.pix_fmt': VIDEO_CODEC.pixFmt,
                'video.is_depth_map': false,
                'video.fps': this.fps,
                'video.channels': 3,
                has_audio: false,
              },
            }
          : {}),
      },
      timestamp: { dtype: 'float32', shape: [1], names: null },
      frame_index: { dtype: 'int64', shape: [1], names: null },
      episode_index: { dtype: 'int64', shape: [1], names: null },
      index: { dtype: 'int64', shape: [1], names: null },
      task_index: { dtype: 'int64', shape: [1], names: null },
    };
    const info = {
      codebase_version: 'v3.0',
      robot_type: robotType,
      total_episodes: this.episodes.length,
      total_frames: frames,
      total_tasks: this.tasks.size,
      chunks_size: CHUNKS_SIZE,
      data_files_size_in_mb: DATA_FILE_MB,
      video_files_size_in_mb: VIDEO_FILE_MB,
      fps: this.fps,
      splits: { train: `0:${this.episodes.length}` },
      data_path: LEROBOT_PATHS.dataTemplate,
      video_path: video ? LEROBOT_PATHS.videoTemplate : null,
      features,
      pons: { spec: spec.name },
    };
    writeFileSync(file(LEROBOT_PATHS.info), `${JSON.stringify(info, null, 4)}\n`);
    writeFileSync(
      file(LEROBOT_PATHS.stats),
      `${JSON.stringify(this.statsJson(camera.key), null, 4)}\n`,
    );
    const files = [
      LEROBOT_PATHS.data,
      LEROBOT_PATHS.tasks,
      LEROBOT_PATHS.episodes,
      LEROBOT_PATHS.info,
      LEROBOT_PATHS.stats,
    ];
    if (video) files.push(LEROBOT_PATHS.video(camera.key));
    return { frames, episodes: this.episodes.length, files: files.map((f) => join(dir, f)) };
  }

  private episodeColumns(key: string, video: boolean): Column[] {
    const e = this.episodes;
    const int = (name: string, f: (r: EpisodeRow) => number): Column => ({
      name,
      kind: 'int64',
      data: e.map((r) => BigInt(f(r))),
    });
    const columns: Column[] = [
      int('episode_index', (r) => r.index),
      { name: 'tasks', kind: 'string[]', data: e.map((r) => [r.task]) },
      int('length', (r) => r.length),
      int('data/chunk_index', () => 0),
      int('data/file_index', () => 0),
      int('dataset_from_index', (r) => r.from),
      int('dataset_to_index', (r) => r.from + r.length),
    ];
    if (video) {
      // One video for the whole dataset: an episode's span is its frames' place in it.
      columns.push(
        int(`videos/${key}/chunk_index`, () => 0),
        int(`videos/${key}/file_index`, () => 0),
        {
          name: `videos/${key}/from_timestamp`,
          kind: 'float64',
          data: e.map((r) => r.from / this.fps),
        },
        {
          name: `videos/${key}/to_timestamp`,
          kind: 'float64',
          data: e.map((r) => (r.from + r.length) / this.fps),
        },
      );
    }
    columns.push(
      int('meta/episodes/chunk_index', () => 0),
      int('meta/episodes/file_index', () => 0),
    );
    return columns;
  }

  /** meta/stats.json: per feature min, max, mean, std, count and quantiles, as arrays. */
  private statsJson(cameraKey: string): Record<string, Record<string, number[]>> {
    const out: Record<string, Record<string, number[]>> = {};
    for (const [key, acc] of Object.entries(this.stats)) {
      const s = acc.result();
      const q = acc.quantiles(Object.values(QUANTILES));
      out[key] = {
        min: s.min,
        max: s.max,
        mean: s.mean,
        std: s.std,
        count: [s.count],
        ...Object.fromEntries(Object.keys(QUANTILES).map((name, i) => [name, q[i] as number[]])),
      };
    }
    out[cameraKey] = imageStats(this.histogram, this.columns.index.length);
    return out;
  }
}

/** Per-channel statistics of 8-bit values scaled to [0, 1], shaped [3, 1, 1] as LeRobot's. */
function imageStats(histogram: Float64Array[], frames: number): Record<string, number[]> {
  const perChannel = histogram.map((h) => {
    let n = 0;
    let sum = 0;
    let squares = 0;
    let min = 255;
    let max = 0;
    h.forEach((count, v) => {
      if (count === 0) return;
      n += count;
      sum += count * v;
      squares += count * v * v;
      min = Math.min(min, v);
      max = Math.max(max, v);
    });
    const mean = sum / n;
    const quantiles = Object.values(QUANTILES).map((q) => histogramQuantile(h, n, q) / 255);
    return {
      n,
      mean: mean / 255,
      std: Math.sqrt(squares / n - mean * mean) / 255,
      min: min / 255,
      max: max / 255,
      quantiles,
    };
  });
  const shaped = (f: (c: (typeof perChannel)[number]) => number) =>
    perChannel.map((c) => [[f(c)]]) as unknown as number[];
  return {
    min: shaped((c) => c.min),
    max: shaped((c) => c.max),
    mean: shaped((c) => c.mean),
    std: shaped((c) => c.std),
    count: [frames],
    ...Object.fromEntries(
      Object.keys(QUANTILES).map((name, i) => [name, shaped((c) => c.quantiles[i] as number)]),
    ),
  };
}

/** numpy's linear quantile over the values a histogram counts. */
function histogramQuantile(h: Float64Array, n: number, q: number): number {
  const position = q * (n - 1);
  const at = (rank: number) => {
    let seen = 0;
    for (let v = 0; v < h.length; v++) {
      seen += h[v] as number;
      if (seen > rank) return v;
    }
    return h.length - 1;
  };
  const lo = Math.floor(position);
  const a = at(lo);
  return a + (position - lo) * (at(Math.min(lo + 1, n - 1)) - a);
}

function tasksColumns(tasks: Map<string, number>): Column[] {
  const entries = [...tasks.entries()];
  return [
    { name: 'task_index', kind: 'int64', data: entries.map(([, i]) => BigInt(i)) },
    { name: 'task', kind: 'string', data: entries.map(([t]) => t) },
  ];
}

/** pandas' parquet metadata making column `index` the DataFrame's index (LeRobot's tasks). */
function pandasIndexMetadata(index: string, column: string): string {
  const field = (name: string, pandas: string, numpy: string) => ({
    name,
    field_name: name,
    pandas_type: pandas,
    numpy_type: numpy,
    metadata: null,
  });
  return JSON.stringify({
    index_columns: [index],
    column_indexes: [
      {
        name: null,
        field_name: null,
        pandas_type: 'unicode',
        numpy_type: 'object',
        metadata: { encoding: 'UTF-8' },
      },
    ],
    columns: [field(column, 'int64', 'int64'), field(index, 'unicode', 'object')],
    creator: { library: 'pons', version: '0.1.0' },
    pandas_version: '2.2.0',
  });
}

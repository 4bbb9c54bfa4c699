import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ActionSpec, InputError, JointOrder, specId } from '../contract/index.js';
import { tokenizerFor } from '../tokenizer/index.js';
import { AlignAnythingWriter, type DatasetVocabulary } from './align-anything.js';
import {
  type EpisodeReadSummary,
  type RecordedEpisode,
  readEpisodes,
  specJointPositions,
} from './episodes.js';
import { type LeRobotImages, LeRobotWriter } from './lerobot.js';
import { StatsAccumulator, statisticsFile } from './statistics.js';
import { checkFfmpeg } from './video.js';

/**
 * `pons dataset export`: recorded episodes → a training dataset (Align-Anything or LeRobot
 * v3) and the action statistics computed from it, in the contract's
 * `dataset_statistics.json` layout (ready for calibration/). The recorded tokens must mean
 * what the given ActionSpec says: its spec id must be the recording's.
 */

export const DATASET_FORMATS = ['align-anything', 'lerobot'] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];
export const STATISTICS_FILE = 'dataset_statistics.json';

export interface ExportOptions {
  from: readonly string[];
  to: string;
  format: DatasetFormat;
  spec: ActionSpec;
  /** Align-Anything: the model package's prompt and vocabulary. */
  vocabulary?: DatasetVocabulary;
  valFraction?: number;
  seed?: number;
  /** Key of the statistics in dataset_statistics.json. */
  statsKey: string;
  camera?: string;
  includeFailed?: boolean;
  /** LeRobot: the camera as video (ffmpeg) or as an image column. */
  images?: LeRobotImages;
  progress?: (p: {
    file: string;
    fileIndex: number;
    files: number;
    episodes: number;
    rows: number;
  }) => void;
  warn?: (message: string) => void;
}

export interface ExportSummary {
  format: DatasetFormat;
  episodes: number;
  failedLeftOut: number;
  incomplete: number;
  decisions: number;
  /** Align-Anything rows per split, or LeRobot frames. */
  rows: Record<string, number>;
  files: string[];
  statistics: string;
}

interface Sink {
  add(episode: RecordedEpisode, chunks: Float64Array[]): Promise<void>;
  finish(): Promise<{ rows: Record<string, number>; files: string[] }>;
}

function sinkFor(options: ExportOptions): Sink {
  const { to: dir, spec } = options;
  if (options.format === 'align-anything') {
    if (!options.vocabulary) throw new RangeError('align-anything needs the model vocabulary');
    const writer = new AlignAnythingWriter({
      dir,
      spec,
      vocabulary: options.vocabulary,
      valFraction: options.valFraction ?? 0,
      seed: options.seed ?? 0,
    });
    return {
      add: (episode) => writer.add(episode),
      finish: async () => {
        const { train, validation, files } = writer.finish();
        return { rows: { train, validation }, files };
      },
    };
  }
  if ((options.valFraction ?? 0) > 0) {
    throw new InputError(
      '--val-fraction',
      '',
      'LeRobot datasets are not split; use align-anything',
    );
  }
  const images = options.images ?? 'video';
  if (images === 'video') checkFfmpeg();
  const writer = new LeRobotWriter({ dir, spec, images, robotType: spec.name });
  return {
    add: (episode, chunks) => writer.add(episode, chunks),
    finish: async () => {
      const { frames, files } = await writer.finish();
      return { rows: { frames }, files };
    },
  };
}

export async function exportDataset(options: ExportOptions): Promise<ExportSummary> {
  const { spec } = options;
  const id = specId(spec);
  const sink = sinkFor(options);
  const tokenizer = tokenizerFor(spec);
  const dims = spec.dimensions.map((d) => d.name);
  const actions = new StatsAccumulator(dims.length);
  const proprio = new StatsAccumulator(dims.length);
  const order = new JointOrder(dims);
  let file = '';
  let fileIndex = 0;
  let episodes = 0;
  let decisions = 0;
  const reader = readEpisodes(options.from, {
    ...(options.camera === undefined ? {} : { camera: options.camera }),
    includeFailed: options.includeFailed ?? false,
    onFile: (f, i) => {
      file = f;
      fileIndex = i;
      options.progress?.({
        file,
        fileIndex,
        files: options.from.length,
        episodes,
        rows: decisions,
      });
    },
    onWarning: (m) => options.warn?.(m),
  });
  let next = reader.next();
  while (!next.done) {
    const episode = next.value;
    if (episode.specId !== id) {
      throw new InputError(
        episode.file,
        '/pons/action_tokens spec_id',
        `is ${episode.specId}, but the ActionSpec given (${spec.name}) is ${id}: export with the spec the episodes were recorded with`,
      );
    }
    const chunks = episode.decisions.map((d) => {
      const chunk = tokenizer.decode(d.tokens, `${episode.file} ${episode.id} decision ${d.step}`);
      actions.add(chunk);
      proprio.add(specJointPositions(order, d.joints, `${episode.file} ${episode.id}`));
      return chunk;
    });
    await sink.add(episode, chunks);
    episodes++;
    decisions += chunks.length;
    options.progress?.({ file, fileIndex, files: options.from.length, episodes, rows: decisions });
    next = reader.next();
  }
  const read: EpisodeReadSummary = next.value;
  const { rows, files } = await sink.finish();
  mkdirSync(options.to, { recursive: true });
  const statistics = join(options.to, STATISTICS_FILE);
  const stats = statisticsFile(
    options.statsKey,
    actions.result(spec.statistics.mask),
    proprio.result(),
    episodes,
  );
  writeFileSync(statistics, `${JSON.stringify(stats, null, 2)}\n`);
  return {
    format: options.format,
    episodes,
    failedLeftOut: read.failed,
    incomplete: read.incomplete,
    decisions,
    rows,
    files,
    statistics,
  };
}

import { InputError, type JointOrder, readFileBytes } from '../contract/index.js';
import { type McapReadReport, newReport, readRos2Mcap } from '../record/mcap-read.js';
import {
  type CompressedImage,
  type CompressedImageIn,
  EPISODE_EVENT,
  type EpisodeEventMsg,
  type ImageIn,
  type JointStateIn,
  PONS_TYPES,
  type RawImage,
  ROS_TYPES,
  readActionTokensMsg,
  readCompressedImage,
  readImage,
  readJointState,
} from '../ros/index.js';

/**
 * Recorded episodes, read back from rosbag2 MCAP files in the layout `pons brain --record`
 * writes (camera frames, joint states, pons_msgs/ActionTokens) with the pons_msgs/EpisodeEvent
 * markers of `pons sim collect`: each episode's frames and joint states, and its decisions,
 * each with the frame of its stamp (the one the brain decided on) and the newest joint state
 * at or before it. Topics are found by type, so any profile's topic names work.
 *
 * Episodes are yielded one at a time (a long run's raw frames do not fit in memory at once).
 * Input that cannot make a dataset is an InputError naming the file, topic, field and reason:
 * a file with no episodes, ActionTokens of another spec than the first file's, a decision
 * without its frame or joint state. An episode cut off by a truncated file is left out and
 * counted; what was recorded before the damage is read.
 */

export interface EpisodeFrame {
  stampNs: bigint;
  /** The header's frame_id: the camera's name in a pons recording. */
  frameId: string;
  image: RawImage | CompressedImage;
}

export interface JointSample {
  stampNs: bigint;
  name: string[];
  position: Float64Array;
}

export interface Decision {
  /** Index of the decision in its episode. */
  step: number;
  stampNs: bigint;
  tokens: Uint32Array;
  frame: EpisodeFrame;
  joints: JointSample;
}

export interface RecordedEpisode {
  file: string;
  id: string;
  task: string;
  seed: number;
  instruction: string;
  success: boolean;
  /** Seconds, as the END event says. */
  duration: number;
  specId: string;
  frames: EpisodeFrame[];
  joints: JointSample[];
  decisions: Decision[];
}

export interface EpisodeReadOptions {
  /** The camera topic, where a recording has several. */
  camera?: string;
  /** Keep failed episodes too (default: successful ones only, what training wants). */
  includeFailed?: boolean;
  /** Told each file as it is opened, and each warning (truncation, undecodable messages). */
  onFile?: (file: string, index: number) => void;
  onWarning?: (message: string) => void;
}

export interface EpisodeReadSummary {
  files: number;
  episodes: number;
  /** Failed episodes left out. */
  failed: number;
  /** Episodes whose END a truncated file lost. */
  incomplete: number;
  specId: string;
  camera: string;
  reports: Record<string, McapReadReport>;
}

const IMAGE_TYPES: readonly string[] = [ROS_TYPES.image, ROS_TYPES.compressedImage];

interface OpenEpisode {
  event: EpisodeEventMsg;
  frames: EpisodeFrame[];
  joints: JointSample[];
  tokens: { stampNs: bigint; seq: bigint; tokens: Uint32Array; specId: string }[];
}

export function* readEpisodes(
  files: readonly string[],
  options: EpisodeReadOptions = {},
): Generator<RecordedEpisode, EpisodeReadSummary> {
  if (files.length === 0) throw new InputError('--from', '', 'names no recording');
  const summary: EpisodeReadSummary = {
    files: files.length,
    episodes: 0,
    failed: 0,
    incomplete: 0,
    specId: '',
    camera: options.camera ?? '',
    reports: {},
  };
  let specFile = '';
  for (const [index, file] of files.entries()) {
    options.onFile?.(file, index);
    const report = newReport();
    summary.reports[file] = report;
    let open: OpenEpisode | undefined;
    let events = 0;
    for (const m of readRos2Mcap(readFileBytes(file), file, report)) {
      if (m.type === PONS_TYPES.episodeEvent) {
        events++;
        const event = m.message as EpisodeEventMsg;
        if (event.event === EPISODE_EVENT.start) {
          if (open) {
            throw new InputError(
              file,
              `${m.topic} episode_id`,
              `episode ${event.episode_id} starts before ${open.event.episode_id} ended`,
            );
          }
          open = { event, frames: [], joints: [], tokens: [] };
          continue;
        }
        if (open?.event.episode_id !== event.episode_id) {
          throw new InputError(
            file,
            `${m.topic} episode_id`,
            `episode ${event.episode_id} ends without having started`,
          );
        }
        const episode = finish(file, open, event, summary);
        open = undefined;
        if (!episode) continue;
        if (summary.specId === '') {
          summary.specId = episode.specId;
          specFile = file;
        } else if (episode.specId !== summary.specId) {
          throw new InputError(
            file,
            '/pons/action_tokens spec_id',
            `is ${episode.specId}, but ${specFile} has ${summary.specId}: a dataset holds one ActionSpec`,
          );
        }
        if (!event.success && !options.includeFailed) {
          summary.failed++;
          continue;
        }
        summary.episodes++;
        yield episode;
      } else if (!open) {
        // Outside an episode (before the first, between two): not part of any.
      } else if (m.type === PONS_TYPES.actionTokens) {
        const msg = readActionTokensMsg(m.message, `${file} ${m.topic}`);
        open.tokens.push({
          stampNs: msg.obs_stamp_ns,
          seq: msg.seq,
          tokens: msg.tokens,
          specId: msg.spec_id,
        });
      } else if (IMAGE_TYPES.includes(m.type)) {
        if (summary.camera === '') summary.camera = m.topic;
        if (m.topic !== summary.camera) {
          if (options.camera === undefined) {
            throw new InputError(
              file,
              m.topic,
              `is a second camera topic beside ${summary.camera}: choose one with --camera`,
            );
          }
          continue;
        }
        const { stampNs, image } =
          m.type === ROS_TYPES.image
            ? readImage(m.message as ImageIn, `${file} ${m.topic}`)
            : readCompressedImage(m.message as CompressedImageIn, `${file} ${m.topic}`);
        const frameId = (m.message as { header: { frame_id: string } }).header.frame_id;
        open.frames.push({ stampNs, frameId, image });
      } else if (m.type === ROS_TYPES.jointState) {
        open.joints.push(readJointState(m.message as JointStateIn, `${file} ${m.topic}`));
      }
    }
    if (report.stopped) options.onWarning?.(report.stopped);
    if (report.undecodable > 0) {
      options.onWarning?.(`${file}: ${report.undecodable} messages did not decode`);
    }
    if (open) {
      summary.incomplete++;
      options.onWarning?.(`${file}: episode ${open.event.episode_id} has no end; left out`);
    }
    if (events === 0) {
      throw new InputError(
        file,
        'pons_msgs/msg/EpisodeEvent',
        'holds no episodes (no EpisodeEvent messages: record them with `pons sim collect`)',
      );
    }
  }
  if (summary.episodes === 0) {
    throw new InputError(
      '--from',
      '',
      `${files.length} file(s) hold no ${options.includeFailed ? '' : 'successful '}episode` +
        (summary.failed > 0 ? ` (${summary.failed} failed ones left out)` : ''),
    );
  }
  return summary;
}

/** An ended episode with each decision joined to its frame and joint state. */
function finish(
  file: string,
  open: OpenEpisode,
  end: EpisodeEventMsg,
  summary: EpisodeReadSummary,
): RecordedEpisode | undefined {
  const { event, frames, joints, tokens } = open;
  const source = `${file} episode ${event.episode_id}`;
  if (tokens.length === 0) {
    throw new InputError(source, '/pons/action_tokens', 'has no decisions');
  }
  const specIds = new Set(tokens.map((t) => t.specId));
  if (specIds.size > 1) {
    throw new InputError(source, '/pons/action_tokens spec_id', `mixes ${[...specIds].join(', ')}`);
  }
  const byStamp = new Map(frames.map((f) => [f.stampNs, f]));
  let j = 0;
  const decisions = tokens.map((t, step): Decision => {
    const frame = byStamp.get(t.stampNs);
    if (!frame) {
      throw new InputError(
        source,
        `${summary.camera || 'camera'} header.stamp`,
        `no frame is stamped ${t.stampNs} ns, the stamp of decision seq ${t.seq}`,
      );
    }
    while (j + 1 < joints.length && (joints[j + 1] as JointSample).stampNs <= t.stampNs) j++;
    const state = joints[j];
    if (!state || state.stampNs > t.stampNs) {
      throw new InputError(
        source,
        'JointState header.stamp',
        `no joint state at or before ${t.stampNs} ns, the stamp of decision seq ${t.seq}`,
      );
    }
    return { step, stampNs: t.stampNs, tokens: t.tokens, frame, joints: state };
  });
  return {
    file,
    id: event.episode_id,
    task: event.task,
    seed: event.seed,
    instruction: event.instruction,
    success: end.success,
    duration: end.duration,
    specId: tokens[0]?.specId as string,
    frames,
    joints,
    decisions,
  };
}

/** A joint state's positions in `order`'s joints (the spec's dimensions), or a clear error. */
export function specJointPositions(
  order: JointOrder,
  sample: JointSample,
  source: string,
): Float64Array {
  if (!order.take(sample.name, sample.position)) {
    throw new InputError(
      source,
      'JointState name',
      `[${sample.name.join(', ')}] lacks a joint of the spec (${order.joints.join(', ')})`,
    );
  }
  return order.position;
}

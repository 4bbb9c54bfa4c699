import { hasMcapPrefix } from '@mcap/core';
import { round } from '../bench/percentiles.js';
import { type ActionSpec, InputError } from '../contract/index.js';
import { newReport, readRos2Mcap } from '../record/mcap-read.js';
import { COMMAND_TYPES, PONS_TYPES, ROS_TYPES } from '../ros/index.js';
import {
  type CommandTracking,
  JointMessages,
  type JointSeries,
  trackCommands,
} from './command-stats.js';
import {
  ActionTokenStats,
  type ActionTokensSummary,
  knownSpecs,
  type LatencySeries,
} from './token-stats.js';
import { TopicStats, type TopicSummary } from './topic-stats.js';

/**
 * `pons inspect`: one pass over a rosbag2 MCAP recording (pons's or anyone's) that says what
 * it holds. Every topic gets the generic statistics of topic-stats.ts; ActionTokens topics the
 * decision statistics of token-stats.ts; command topics their rate and, where joint states
 * were recorded too, the command against the measured state. A file cut short or damaged is
 * inspected up to the damage, and the report says where that is and what could not be read;
 * channels pons cannot decode are listed with their message counts.
 */

export interface InspectOptions {
  file: string;
  bytes: Uint8Array;
  /** Specs whose tokens are decoded per dimension; the first is the one packets should carry. */
  specs: readonly ActionSpec[];
  /** A gap is a period longer than this × the topic's median period. */
  gapFactor?: number;
}

export interface InspectReport {
  file: string;
  bytes: number;
  /** False when reading stopped at a truncation or damage (see `damage`). */
  complete: boolean;
  messages: number;
  /** Messages that did not decode against their channel's schema. */
  undecodable: number;
  damage?: {
    reason: string;
    /** Truncated: where the unfinished record starts; corrupt: where the bad record ends. */
    kind: 'truncated' | 'corrupt';
    offset: number;
    /** Bytes from `offset` to the end of the file. */
    unread_bytes: number;
    /** Log time of the last message read (what follows it is lost). */
    last_read_ns: bigint | null;
  };
  start_ns: bigint | null;
  end_ns: bigint | null;
  duration_s: number;
  topics: TopicSummary[];
  /** Channels not decoded (an encoding or schema pons does not read), counted. */
  undecoded: { topic: string; reason: string; messages: number }[];
  action_tokens: ActionTokensSummary[];
  commands: {
    topic: string;
    type: string;
    messages: number;
    rate_hz: number | null;
    versus_state?: CommandTracking;
  }[];
}

/** What the plots draw, beside the report. */
export interface InspectSeries {
  rates: { topic: string; points: [number, number][] }[];
  latency: { topic: string; series: LatencySeries }[];
  joints: { topic: string; series: JointSeries[] }[];
}

/** Rate windows: about a second each, 10 to 120 of them. */
const rateBins = (seconds: number) => Math.min(120, Math.max(10, Math.round(seconds)));

export function inspectRecording(options: InspectOptions): {
  report: InspectReport;
  series: InspectSeries;
} {
  const { file, bytes } = options;
  if (!hasMcapPrefix(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength))) {
    throw new InputError(file, '', 'is not an MCAP file (it does not start with the MCAP magic)');
  }
  const specs = knownSpecs(options.specs);
  const expected = specs.keys().next().value;
  const topics = new Map<string, TopicStats>();
  const tokens = new Map<string, ActionTokenStats>();
  const joints = new Map<string, JointMessages>();
  const read = newReport();
  let lastNs: bigint | null = null;
  for (const m of readRos2Mcap(bytes, file, read)) {
    entry(topics, m.topic, () => new TopicStats(m.topic, m.type)).add(
      m.logTimeNs,
      m.data.byteLength,
    );
    lastNs = m.logTimeNs;
    if (m.type === PONS_TYPES.actionTokens) {
      entry(tokens, m.topic, () => new ActionTokenStats(m.topic, specs, expected)).add(
        m.message,
        m.logTimeNs,
      );
    } else if (isCommand(m.type) || m.type === ROS_TYPES.jointState) {
      const kind = m.type === ROS_TYPES.jointState ? 'state' : 'command';
      entry(joints, m.topic, () => new JointMessages(m.topic, kind)).add(
        m.type,
        m.message,
        m.logTimeNs,
      );
    }
  }

  const all = [...topics.values()];
  const startNs = all.length ? all.map((t) => t.first as bigint).reduce(min) : null;
  const endNs = all.length ? all.map((t) => t.last as bigint).reduce(max) : null;
  const start = startNs ?? 0n;
  const summaries = all.map((t) => t.summary(options.gapFactor ?? 3, start));
  // The measured state commands are compared with: the busiest JointState topic.
  const state = [...joints.values()]
    .filter((j) => j.kind === 'state')
    .sort((a, b) => b.count - a.count)[0];
  const series: InspectSeries = {
    rates: all.map((t) => ({
      topic: t.topic,
      points: t.rateSeries(start, endNs ?? start, rateBins(Number((endNs ?? start) - start) / 1e9)),
    })),
    latency: [...tokens.values()].map((t) => ({ topic: t.topic, series: t.latencySeries(start) })),
    joints: [],
  };
  const commands = summaries
    .filter((s) => isCommand(s.type))
    .map((s) => {
      const samples = joints.get(s.topic);
      const tracked = samples && state ? trackCommands(samples, state, start) : undefined;
      if (tracked) series.joints.push({ topic: s.topic, series: tracked.series });
      return {
        topic: s.topic,
        type: s.type,
        messages: s.messages,
        rate_hz: s.rate_hz,
        ...(tracked ? { versus_state: tracked.tracking } : {}),
      };
    });

  const report: InspectReport = {
    file,
    bytes: bytes.byteLength,
    complete: read.stopped === undefined,
    messages: read.messages,
    undecodable: read.undecodable,
    ...(read.stopped === undefined
      ? {}
      : {
          damage: {
            reason: read.stopped,
            kind: read.stoppedAt?.kind ?? 'corrupt',
            offset: read.stoppedAt?.offset ?? 0,
            unread_bytes: read.stoppedAt?.unreadBytes ?? 0,
            last_read_ns: lastNs,
          },
        }),
    start_ns: startNs,
    end_ns: endNs,
    duration_s: startNs === null || endNs === null ? 0 : round(Number(endNs - startNs) / 1e9, 3),
    topics: summaries,
    undecoded: Object.entries(read.skipped).map(([topic, reason]) => ({
      topic,
      reason,
      messages: read.skippedMessages[topic] ?? 0,
    })),
    action_tokens: [...tokens.values()].map((t) => t.summary()),
    commands,
  };
  return { report, series };
}

/** Whether the file held anything at all that could be read (the exit status of inspect). */
export function anythingRead(report: InspectReport): boolean {
  return report.messages + report.undecodable + report.undecoded.length > 0 || report.complete;
}

/** A file's type names are its own: `pkg/msg/Type` or not, never thrown at. */
const isCommand = (type: string) => COMMAND_TYPES.includes(type.replace('/msg/', '/'));

/** The map's value for `key`, made and added the first time. */
function entry<V>(map: Map<string, V>, key: string, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}

const min = (a: bigint, b: bigint) => (a < b ? a : b);
const max = (a: bigint, b: bigint) => (a > b ? a : b);

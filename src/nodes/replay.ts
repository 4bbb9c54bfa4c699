import { type ActionSpec, specId, specJson } from '../contract/index.js';
import { type LinkLog, LinkServer } from '../link/index.js';
import { type McapReadReport, newReport, readRos2Mcap } from '../record/mcap-read.js';
import { COMMAND_TYPES, nsFromStamp, RosRepublisher, shortTypeName } from '../ros/index.js';
import { epochNowNs } from '../wire/index.js';
import { untilDue } from './pacing.js';

/**
 * `pons replay`: the action tokens of a recording (pons_msgs/ActionTokens, as the brain or
 * the cerebellum recorded them) published again on the link, as a brain would, to a live
 * cerebellum: with the recorded timing, × speed, or as fast as the link takes them.
 * Observation stamps are moved to now, keeping their spacing, so the cerebellum's staleness
 * check and time alignment treat them as live. Tokens for another spec id are refused and
 * counted: the cerebellum would refuse them anyway.
 */

export interface ReplayOptions {
  bytes: Uint8Array;
  file: string;
  topic: string;
  spec: ActionSpec;
  link: { tokens: string; state: string };
  /** Recorded timing × speed; Infinity: as fast as the link drains. */
  speed: number;
  log: LinkLog;
}

export interface ReplayResult {
  published: number;
  refused_spec: number;
  seconds: number;
  read: McapReadReport;
}

interface RecordedTokens {
  header: { stamp: { sec: number; nanosec: number } };
  spec_id: string;
  episode_id: string;
  tokens: ArrayLike<number>;
  timing_names: string[];
  timing_ms: ArrayLike<number>;
}

export async function replayTokens(options: ReplayOptions): Promise<ReplayResult> {
  const id = specId(options.spec);
  const read = newReport();
  const recorded = [...readRos2Mcap(options.bytes, options.file, read)].filter(
    (m) => m.topic === options.topic,
  );
  if (read.stopped) options.log.warn(read.stopped);
  const link = await LinkServer.open({
    spec: specJson(options.spec),
    specId: id,
    modelId: 'replay',
    software: 'pons',
    endpoints: options.link,
    log: options.log,
  });
  // A subscriber joining a PUB socket misses what was sent before it connected.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const result: ReplayResult = { published: 0, refused_spec: 0, seconds: 0, read };
  const firstLog = recorded[0]?.logTimeNs ?? 0n;
  const firstStamp = recorded[0]
    ? nsFromStamp((recorded[0].message as RecordedTokens).header.stamp)
    : 0n;
  const started = performance.now();
  const shift = epochNowNs() - firstStamp;
  try {
    for (const m of recorded) {
      const t = m.message as RecordedTokens;
      if (t.spec_id !== id) {
        result.refused_spec++;
        if (result.refused_spec === 1) {
          options.log.warn(
            `${options.file}: tokens for spec ${t.spec_id.slice(0, 12)} refused: this replay's spec is ${id.slice(0, 12)}`,
          );
        }
        continue;
      }
      if (Number.isFinite(options.speed))
        await untilDue(m.logTimeNs - firstLog, options.speed, started);
      else await link.drained();
      const timings: Record<string, number> = {};
      t.timing_names.forEach((name, i) => {
        timings[name] = t.timing_ms[i] as number;
      });
      link.publishTokens({
        episode_id: t.episode_id,
        obs_stamp_ns: nsFromStamp(t.header.stamp) + shift,
        tokens: Uint32Array.from(t.tokens),
        timings_ms: timings,
      });
      result.published++;
    }
    await link.drained();
  } finally {
    link.close();
  }
  result.seconds = (performance.now() - started) / 1000;
  return result;
}

/**
 * `pons replay --to-ros`: the recorded commands published again on ROS 2, byte for byte, on
 * their recorded topics, with the recorded timing × speed (a robot or controller can be
 * driven with yesterday's commands). Throws RosUnavailableError where ROS 2 is absent.
 */
export async function replayCommandsToRos(options: {
  bytes: Uint8Array;
  file: string;
  speed: number;
  log: LinkLog;
}): Promise<{ published: number; read: McapReadReport }> {
  const ros = await RosRepublisher.open('pons_replay');
  const read = newReport();
  const commands = [...readRos2Mcap(options.bytes, options.file, read)].filter((m) =>
    COMMAND_TYPES.includes(shortTypeName(m.type)),
  );
  if (read.stopped) options.log.warn(read.stopped);
  const started = performance.now();
  const first = commands[0]?.logTimeNs ?? 0n;
  try {
    for (const m of commands) {
      if (Number.isFinite(options.speed))
        await untilDue(m.logTimeNs - first, options.speed, started);
      ros.publish(m.topic, m.type, m.data);
    }
  } finally {
    await ros.close();
  }
  return { published: commands.length, read };
}

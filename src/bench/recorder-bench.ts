import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadActionSpec, specId } from '../contract/index.js';
import { recordCerebellum } from '../nodes/cerebellum-recording.js';
import { Process } from '../nodes/process.js';
import type { RobotProfile } from '../nodes/profile.js';
import { FoxgloveLive } from '../record/foxglove-live.js';
import { newReport, readRos2Mcap } from '../record/mcap-read.js';
import { type MessageSink, teeSink } from '../record/message-sink.js';
import { Recorder } from '../record/recorder.js';
import { imageMsg, jointStateMsg, ROS_TYPES } from '../ros/index.js';
import { epochNowNs } from '../wire/index.js';
import { benchRate, type CerebellumBenchResult } from './cerebellum-bench.js';
import { noiseBytes } from './noise.js';
import { round } from './percentiles.js';

/**
 * The recorder under a robot's load while the cerebellum runs beside it in the same process
 * at 500 Hz: two 640×480 rgb8 cameras at 30 fps and joint states at 500 Hz recorded from
 * timers, plus everything the cerebellum records (tokens in at 10 Hz from a test-pattern
 * brain in another process, their decoded chunks, every command). Reports what was
 * recorded and dropped, the write rate, and the cerebellum's jitter meanwhile; then reads the
 * file back. With viewers, the same messages also go live to Foxglove clients in another
 * process (some of them stalled), through the tee `--record --foxglove` uses.
 */

const VIEWERS_ENTRY = fileURLToPath(new URL('./foxglove-viewers-main.js', import.meta.url));

export interface RecorderBenchResult {
  seconds: number;
  recorded: number;
  dropped: number;
  file_mb: number;
  write_mb_per_s: number;
  by_topic: Record<string, number>;
  read_back: { messages: number; undecodable: number; complete: boolean };
  cerebellum: CerebellumBenchResult;
  /** The live view, when viewers were asked for: messages each viewer received. */
  live?: {
    viewers: number;
    stalled: number;
    sent: number;
    dropped: number;
    sent_mb_per_s: number;
    received: number[];
  };
}

export async function runRecorderBench(options: {
  profile: RobotProfile;
  cli: string;
  file: string;
  seconds: number;
  /** Foxglove viewers, and how many of them stall (0: no live view). */
  viewers?: { clients: number; stalled: number };
  progress?: (message: string) => void;
}): Promise<RecorderBenchResult> {
  const spec = loadActionSpec(options.profile.spec);
  const recorder = await Recorder.open(options.file);
  const viewers = options.viewers?.clients ? options.viewers : undefined;
  const live = viewers ? await FoxgloveLive.open({ port: 0, name: 'pons bench' }) : undefined;
  const viewerProcess = live
    ? Process.start(VIEWERS_ENTRY, [JSON.stringify({ url: live.url, ...viewers })])
    : undefined;
  await viewerProcess?.waitFor((e) => e.event === 'ready', 20_000);
  const sink: MessageSink = live ? teeSink([recorder, live]) : recorder;
  const joints = spec.dimensions.map((d) => d.name);
  const cerebellumRecording = recordCerebellum(sink, { ...spec, id: specId(spec) }, joints);
  // Noise: the worst case for the chunk compressor (a camera's frames compress better).
  const pixels = noiseBytes(640 * 480 * 3);
  let startedAt = 0;
  const start = () => {
    startedAt = performance.now();
    const timers = [0, 1].map((camera) =>
      setInterval(() => {
        sink.record(
          `/camera${camera}/image_raw`,
          ROS_TYPES.image,
          epochNowNs(),
          imageMsg({
            stampNs: epochNowNs(),
            width: 640,
            height: 480,
            encoding: 'rgb8',
            step: 1920,
            data: pixels,
          }),
          'sensor_data',
        );
      }, 1000 / 30),
    );
    // 500 Hz, as 5 messages every 10 ms: Node's timers do not keep a 2 ms period.
    timers.push(
      setInterval(() => {
        for (let i = 0; i < 5; i++) {
          const now = epochNowNs();
          sink.record(
            '/joint_states',
            ROS_TYPES.jointState,
            now,
            jointStateMsg({
              stampNs: now,
              names: joints,
              position: [0.1, 0.2, 0.3],
              velocity: [0, 0, 0],
            }),
            'sensor_data',
          );
        }
      }, 10),
    );
    // Once every topic has been advertised and subscribed to, the stalled viewers stop reading.
    const stall = setTimeout(() => viewerProcess?.send('stall'), 500);
    return async () => {
      clearTimeout(stall);
      for (const t of timers) clearInterval(t);
    };
  };
  options.progress?.(
    `${options.seconds} s: cerebellum at 500 Hz, 2 cameras 640×480 at 30 fps, joints at 500 Hz`,
  );
  const cerebellum = await benchRate(
    { profile: options.profile, cli: options.cli, rates: [500], seconds: options.seconds },
    500,
    { nodeOptions: cerebellumRecording, start },
  );
  const seconds = (performance.now() - startedAt) / 1000;
  if (viewerProcess) {
    // What was sent last is still on its way to the viewers that read.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    viewerProcess.child.stdin?.end();
  }
  const seen = await viewerProcess?.waitFor((e) => e.event === 'viewers', 20_000);
  await live?.close();
  await recorder.close();
  const { recorded, dropped } = recorder.counters;
  const size = statSync(options.file).size;
  const report = newReport();
  // Read to the end: the report counts what decoded.
  Array.from(readRos2Mcap(readFileSync(options.file), options.file, report));
  return {
    seconds: round(seconds, 1),
    recorded,
    dropped,
    file_mb: round(size / 2 ** 20, 1),
    write_mb_per_s: round(size / 2 ** 20 / seconds, 1),
    by_topic: report.byTopic,
    read_back: {
      messages: report.messages,
      undecodable: report.undecodable,
      complete: report.stopped === undefined,
    },
    cerebellum,
    ...(live && viewers
      ? {
          live: {
            viewers: viewers.clients,
            stalled: viewers.stalled,
            sent: live.counters.sent,
            dropped: live.counters.dropped,
            sent_mb_per_s: round(live.counters.bytes / 2 ** 20 / seconds, 1),
            received: (seen?.received as number[] | undefined) ?? [],
          },
        }
      : {}),
  };
}

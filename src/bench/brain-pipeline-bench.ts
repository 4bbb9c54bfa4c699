import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrainOptions, BrainRuntime } from '../brain/index.js';
import { specJson } from '../contract/index.js';
import { BusSubscriber, LinkServer, OBSERVATION_KINDS } from '../link/index.js';
import { BrainNode, type DecisionRecord } from '../nodes/brain-node.js';
import { busSources } from '../nodes/brain-sources.js';
import type { RobotProfile } from '../nodes/profile.js';
import { epochNowNs } from '../wire/index.js';
import { percentile, round } from './percentiles.js';

/**
 * What the brain node adds around the model: a camera in another process (`pons bus
 * camera`, 640×480 rgb8) publishes on the observation bus; this process runs the brain
 * node (bus source → synchroniser → gate → runtime → link). For each decision: primary
 * frame off the socket → token packet handed to the link, less the model's own time and
 * any wait for a model busy with an earlier frame.
 */

export interface BrainPipelineBenchOptions extends BrainOptions {
  profile: RobotProfile;
  cli: string;
  image: string;
  instruction: string;
  rateHz: number;
  seconds: number;
  progress?: (message: string) => void;
}

export interface BrainPipelineBenchResult {
  camera_hz: number;
  frame: string;
  provider: string;
  decisions: number;
  decisions_per_s: number;
  model_ms: { p50: number; p99: number };
  pipeline_ms: { p50: number; p99: number; max: number };
  waited_ms: { p50: number; p99: number };
  superseded: number;
  stale: number;
}

export async function runBrainPipelineBench(
  options: BrainPipelineBenchOptions,
): Promise<BrainPipelineBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'pons-bench-brain-'));
  const bus = `ipc://${dir}/bus`;
  let camera: ChildProcess | undefined;
  const quiet = { info: () => {}, warn: () => {} };
  const brain = await BrainRuntime.open(options.profile.brain.model, options);
  const link = await LinkServer.open({
    spec: specJson(brain.pkg.spec),
    specId: brain.pkg.specId,
    modelId: brain.pkg.manifest.name,
    software: 'bench',
    endpoints: { tokens: `ipc://${dir}/tokens`, state: `ipc://${dir}/state` },
    log: quiet,
  });
  const subscriber = await BusSubscriber.open(
    { endpoint: bus, bind: false, log: quiet },
    OBSERVATION_KINDS,
  );
  const records: DecisionRecord[] = [];
  let measuring = false;
  // Every frame a decision: the bench measures the pipeline, not a model's decision rate.
  const { max_rate_hz: _rate, ...unthrottled } = options.profile.brain;
  const node = new BrainNode({
    profile: { ...options.profile, brain: { ...unthrottled, bus } },
    brain,
    link,
    ...busSources(subscriber),
    instruction: options.instruction,
    episodeId: 'bench',
    now: epochNowNs,
    log: quiet,
    onDecision: (r) => {
      if (measuring) records.push(r);
    },
  });
  try {
    camera = spawn(
      process.execPath,
      [
        options.cli,
        'bus',
        'camera',
        '--image',
        options.image,
        '--size',
        '640x480',
        '--rate',
        String(options.rateHz),
        '--endpoint',
        bus,
        '--camera',
        options.profile.brain.cameras[0]?.name ?? 'overhead',
      ],
      { stdio: 'ignore' },
    );
    options.progress?.(`warming up for 2 s (camera at ${options.rateHz} Hz)`);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const before = node.health().gate;
    measuring = true;
    options.progress?.(`measuring for ${options.seconds} s`);
    await new Promise((resolve) => setTimeout(resolve, options.seconds * 1000));
    measuring = false;
    const after = node.health().gate;
    const pipeline = records.map((r) => r.pipelineMs);
    const pct = (values: number[]) => ({
      p50: round(percentile(values, 50), 3),
      p99: round(percentile(values, 99), 3),
    });
    return {
      camera_hz: options.rateHz,
      frame: '640x480 rgb8',
      provider: brain.provider,
      decisions: records.length,
      decisions_per_s: round(records.length / options.seconds, 1),
      model_ms: pct(records.map((r) => r.decision.timings.total_ms)),
      pipeline_ms: { ...pct(pipeline), max: round(Math.max(...pipeline), 3) },
      waited_ms: pct(records.map((r) => r.waitedMs)),
      superseded: after.superseded - before.superseded,
      stale: after.stale - before.stale,
    };
  } finally {
    camera?.kill('SIGKILL');
    node.close();
    await node.idle();
    subscriber.close();
    link.close();
    await brain.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

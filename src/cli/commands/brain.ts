import type { Command } from 'commander';
import { BrainRuntime } from '../../brain/index.js';
import {
  type ActionSpec,
  loadActionSpec,
  readFileBytes,
  shortId,
  specId,
  specJson,
} from '../../contract/index.js';
import {
  BusSubscriber,
  type LinkLog,
  LinkServer,
  nodeLog,
  OBSERVATION_KINDS,
  readAuthorizedKeys,
  readSecretCertificate,
} from '../../link/index.js';
import { BrainMetrics } from '../../nodes/brain-metrics.js';
import { type BrainHealth, BrainNode } from '../../nodes/brain-node.js';
import { recordBrain } from '../../nodes/brain-recording.js';
import {
  type BrainSources,
  busSources,
  mcapSources,
  rosSources,
} from '../../nodes/brain-sources.js';
import { recordDiagnostics } from '../../nodes/diagnostics-recording.js';
import { NodeSinks, type SinkCounters } from '../../nodes/node-sinks.js';
import { loadProfile, type RobotProfile, recordPath } from '../../nodes/profile.js';
import type { McapReadReport } from '../../record/mcap-read.js';
import type { BrainRos } from '../../ros/index.js';
import { epochNowNs } from '../../wire/index.js';
import { addFoxgloveFlags, type FoxgloveFlags, foxgloveOptions } from '../foxglove-options.js';
import { DEFAULT_PROFILE, VERSION } from '../package-info.js';
import { emitJson, runUntilStopped } from '../run-until.js';

interface BrainFlags extends FoxgloveFlags {
  config: string;
  model?: string;
  instruction?: string;
  source?: 'bus' | 'ros' | 'mcap';
  mcap?: string;
  speed: string;
  record?: string;
  bus?: string;
  providers?: string;
  threads?: string;
  episode: string;
  metricsPort?: string;
  duration?: string;
  json?: boolean;
}

export function registerBrain(program: Command): void {
  const command = program
    .command('brain')
    .description(
      'run the brain model on synchronised observations (bus or ROS 2) and publish action tokens',
    )
    .option('--config <robot.yaml>', 'robot profile', DEFAULT_PROFILE)
    .option('--model <dir>', 'brain model package (overrides the profile)')
    .option('--instruction <text>', 'what the robot should do, until another instruction arrives')
    .option('--source <kind>', 'bus | ros | mcap (overrides the profile)')
    .option('--mcap <file>', 'replay a rosbag2 MCAP recording of the profile topics as the source')
    .option('--speed <x>', 'replay speed for --mcap', '1')
    .option(
      '--record <file.mcap>',
      'record frames, joint states, instructions and decisions (rosbag2 MCAP)',
    )
    .option('--bus <endpoint>', 'observation bus endpoint (overrides the profile)')
    .option('--providers <list>', 'execution providers in order of preference (overrides)')
    .option('--threads <n>', 'onnxruntime threads per run (overrides)')
    .option('--episode <id>', 'episode id carried by every token packet', 'live')
    .option('--metrics-port <port>', 'serve Prometheus metrics on 127.0.0.1:<port>/metrics')
    .option('--duration <s>', 'stop after this many seconds (default: until SIGINT/SIGTERM)')
    .option('--json', 'print health as JSON lines every second');
  addFoxgloveFlags(command)
    .allowUnknownOption()
    .allowExcessArguments()
    .action(async (flags: BrainFlags) => {
      const log = nodeLog('brain');
      const profile = applyFlags(loadProfile(flags.config), flags);
      const b = profile.brain;
      // Sources first: without ROS 2 a ROS source fails at once, with one line.
      const { sources, ros, bus, replay } = await openSources(profile, flags, log);
      const brain = await BrainRuntime.open(b.model, {
        providers: b.providers,
        intraOpThreads: b.threads,
        ...(b.variant === undefined ? {} : { variant: b.variant }),
      });
      for (const f of brain.fallbacks) {
        log.warn(`${f.graph}: provider ${f.provider} unavailable (${f.reason}); using the next`);
      }
      const spec = brain.pkg.spec;
      const robotSpecId = specId(loadActionSpec(profile.spec));
      if (robotSpecId !== brain.pkg.specId) {
        throw new Error(
          `${brain.pkg.dir}: the model was built for spec ${shortId(brain.pkg.specId)}…, the robot profile ${profile.file} executes ${shortId(robotSpecId)}…: they disagree on what a token means`,
        );
      }
      const link = await LinkServer.open(linkOptions(profile, brain.pkg.manifest.name, spec));
      const now = ros ? () => ros.now() : epochNowNs;
      const record = flags.record ?? profile.brain.record;
      const sinks = await NodeSinks.open({
        name: 'pons brain',
        ...(record === undefined ? {} : { mcap: recordPath(record) }),
        foxglove: foxgloveOptions(flags),
        log,
      });
      const recording = sinks ? recordBrain(sinks.sink, sources, b) : undefined;
      const node = new BrainNode({
        profile,
        brain,
        link,
        sensors: sources.sensors,
        instructions: sources.instructions,
        ...(b.instruction === undefined ? {} : { instruction: b.instruction }),
        ...(b.mode === undefined ? {} : { mode: b.mode }),
        episodeId: flags.episode,
        now,
        log,
        ...(recording ? { onDecision: recording.onDecision } : {}),
      });
      const health = () => ({ ...node.health(), ...sinks?.counters() });
      const metrics =
        b.metrics_port === undefined ? undefined : BrainMetrics.start(health, b.metrics_port);
      const report = setInterval(() => {
        const h = health();
        if (flags.json) emitJson('health', h as unknown as Record<string, unknown>);
        else process.stderr.write(`[pons brain] ${summary(h)}\n`);
        ros?.publishDiagnostics(diagnostics(h));
        if (sinks) recordDiagnostics(sinks.sink, diagnostics(h));
      }, 1000);
      if (flags.json) {
        emitJson('ready', {
          pid: process.pid,
          provider: brain.provider,
          ...(sinks?.live ? { foxglove: sinks.live.url } : {}),
        });
      }
      const stopped = runUntilStopped(
        flags.duration === undefined ? undefined : Number(flags.duration),
      );
      // A replay ends by itself: its report goes into the summary.
      let replayed: McapReadReport | undefined;
      const why = replay
        ? await Promise.race([
            stopped,
            replay().then((r) => {
              replayed = r;
              return 'replay done';
            }),
          ])
        : await stopped;
      clearInterval(report);
      node.close();
      await node.idle();
      recording?.stop();
      // Closed first, so the counts below are final.
      await sinks?.close();
      const final = health();
      if (flags.json) {
        emitJson('summary', {
          why,
          ...(final as unknown as Record<string, unknown>),
          ...(replayed ? { recording: replayed } : {}),
        });
      } else process.stderr.write(`[pons brain] stopped (${why}): ${summary(final)}\n`);
      metrics?.close();
      bus?.close();
      await ros?.close();
      await link.drained();
      link.close();
      await brain.close();
    });
}

/** The profile's observation source, opened (a replay waits for its `start`). */
async function openSources(
  profile: RobotProfile,
  flags: BrainFlags,
  log: LinkLog,
): Promise<{
  sources: BrainSources;
  ros?: BrainRos;
  bus?: BusSubscriber;
  replay?: () => Promise<McapReadReport>;
}> {
  const b = profile.brain;
  if (b.source === 'mcap') {
    if (flags.mcap === undefined) throw new Error('--source mcap needs --mcap <file>');
    const recording = mcapSources(readFileBytes(flags.mcap), flags.mcap, b, {
      speed: Number(flags.speed),
      log,
    });
    return { sources: recording, replay: recording.start };
  }
  if (b.source === 'ros') {
    const opened = await rosSources(
      {
        nodeName: 'pons_brain',
        cameras: b.cameras,
        ...(b.use_joint_states ? { jointStatesTopic: b.joint_states_topic } : {}),
        instructionTopic: b.instruction_topic,
        diagnosticsTopic: b.diagnostics_topic,
      },
      log,
    );
    return { sources: opened, ros: opened.ros };
  }
  const bus = await BusSubscriber.open(
    { endpoint: b.bus, bind: false, insecure: profile.link.insecure },
    OBSERVATION_KINDS,
  );
  return { sources: busSources(bus), bus };
}

function applyFlags(profile: RobotProfile, flags: BrainFlags): RobotProfile {
  const b = { ...profile.brain };
  if (flags.model !== undefined) b.model = flags.model;
  if (flags.instruction !== undefined) b.instruction = flags.instruction;
  if (flags.source !== undefined) b.source = flags.source;
  if (flags.mcap !== undefined) b.source = 'mcap';
  if (flags.bus !== undefined) b.bus = flags.bus;
  if (flags.providers !== undefined) b.providers = flags.providers.split(',').map((p) => p.trim());
  if (flags.threads !== undefined) b.threads = Number(flags.threads);
  if (flags.metricsPort !== undefined) b.metrics_port = Number(flags.metricsPort);
  return { ...profile, brain: b };
}

function linkOptions(profile: RobotProfile, modelId: string, spec: ActionSpec) {
  const { link } = profile;
  return {
    spec: specJson(spec),
    specId: specId(spec),
    modelId,
    software: VERSION,
    endpoints: { tokens: link.tokens, state: link.state },
    insecure: link.insecure,
    ...(link.curve_secret && link.authorized_keys
      ? {
          curve: {
            ...readSecretCertificate(link.curve_secret),
            authorizedKeys: readAuthorizedKeys(link.authorized_keys),
          },
        }
      : {}),
  };
}

function summary(h: BrainHealth & SinkCounters): string {
  const d = h.latency_ms.decision;
  return (
    `${h.decisions} decisions (${h.decisions_per_s}/s) on ${h.provider}, decision p50 ${d?.p50} ms, ` +
    `superseded ${h.gate.superseded}, stale ${h.gate.stale}, failed ${h.gate.failed}` +
    `${h.cerebellum_mode === 'estop' ? ', PAUSED (cerebellum e-stop)' : ''}` +
    `${h.instruction === null ? ', waiting for an instruction' : ''}` +
    `${h.cameras_silent.length > 0 ? `, silent cameras: ${h.cameras_silent.join(', ')}` : ''}` +
    `${h.foxglove ? `, foxglove: ${h.foxglove.clients} clients, ${h.foxglove.dropped} dropped` : ''}`
  );
}

function diagnostics(h: BrainHealth & SinkCounters) {
  const problem = h.cameras_silent.length > 0 || h.instruction === null;
  return {
    level: problem ? ('warn' as const) : ('ok' as const),
    name: 'pons_brain: decisions',
    message: problem ? summary(h) : `${h.decisions_per_s} decisions/s`,
    values: {
      provider: h.provider,
      decisions: h.decisions,
      decisions_per_s: h.decisions_per_s,
      decision_p50_ms: h.latency_ms.decision?.p50 ?? Number.NaN,
      pipeline_p99_ms: h.latency_ms.pipeline?.p99 ?? Number.NaN,
      superseded: h.gate.superseded,
      stale: h.gate.stale,
      failed: h.gate.failed,
      ...(h.foxglove
        ? { foxglove_clients: h.foxglove.clients, foxglove_dropped: h.foxglove.dropped }
        : {}),
    },
  };
}

import type { Command } from 'commander';
import { loadActionSpec, specId } from '../../contract/index.js';
import { nodeLog, readCertificate, readSecretCertificate, stderrLog } from '../../link/index.js';
import { CerebellumNode } from '../../nodes/cerebellum-node.js';
import { recordCerebellum } from '../../nodes/cerebellum-recording.js';
import { describeRobot } from '../../nodes/control-setup.js';
import { NodeSinks } from '../../nodes/node-sinks.js';
import { loadProfile, outputDefaults, recordPath } from '../../nodes/profile.js';
import { addFoxgloveFlags, type FoxgloveFlags, foxgloveOptions } from '../foxglove-options.js';
import { DEFAULT_PROFILE, VERSION } from '../package-info.js';
import { emitJson, runUntilStopped } from '../run-until.js';

interface CerebellumFlags extends FoxgloveFlags {
  config: string;
  output?: 'none' | 'record' | 'ros' | 'bus';
  record?: string;
  duration?: string;
  json?: boolean;
}

export function registerCerebellum(program: Command): void {
  const command = program
    .command('cerebellum')
    .description(
      'execute action-token chunks from the link at the control rate, through the safety filter',
    )
    .option('--config <robot.yaml>', 'robot profile', DEFAULT_PROFILE)
    .option(
      '--record <file>',
      'file.mcap: record tokens, chunks and commands as rosbag2 MCAP; file.jsonl: write every command as a JSON line (overrides the profile output)',
    )
    .option('--duration <s>', 'stop after this many seconds (default: until SIGINT/SIGTERM)')
    .option(
      '--output <kind>',
      'none | record | ros | bus (overrides the profile output; record needs --record)',
    )
    .option('--json', 'print diagnostics as JSON lines every second');
  addFoxgloveFlags(command)
    // A launch file passes `--ros-args …` after the pons flags; rcl reads them from argv.
    .allowUnknownOption()
    .allowExcessArguments()
    .action(async (flags: CerebellumFlags) => {
      const profile = loadProfile(flags.config);
      const record = flags.record ?? profile.cerebellum.record;
      const mcap = record?.endsWith('.mcap') ? recordPath(record) : undefined;
      if (flags.record && !mcap) profile.cerebellum.output = { kind: 'record', path: flags.record };
      if (flags.output === 'none') profile.cerebellum.output = { kind: 'none' };
      else if (
        (flags.output === 'ros' || flags.output === 'bus') &&
        profile.cerebellum.output.kind !== flags.output
      ) {
        profile.cerebellum.output = outputDefaults(flags.output);
      }
      const { link } = profile;
      const curve =
        link.curve_secret || link.server_key
          ? {
              curve: {
                ...readSecretCertificate(link.curve_secret ?? ''),
                serverKey: readCertificate(link.server_key ?? '').publicKey,
              },
            }
          : {};
      const sinks = await NodeSinks.open({
        name: 'pons cerebellum',
        ...(mcap === undefined ? {} : { mcap }),
        foxglove: foxgloveOptions(flags),
        log: nodeLog('cerebellum'),
      });
      const spec = loadActionSpec(profile.spec);
      const recording = sinks
        ? recordCerebellum(
            sinks.sink,
            { ...spec, id: specId(spec) },
            describeRobot(profile, spec).joints,
          )
        : undefined;
      const node = await CerebellumNode.start({
        profile,
        log: stderrLog,
        link: { modelId: profile.name, software: VERSION, ...curve },
        ...(recording ?? {}),
      });
      const diagnostics = setInterval(() => {
        recording?.onDiagnostics(node.diagnosticStatus());
        const d = node.snapshot();
        const live = sinks?.live?.counters;
        if (flags.json) emitJson('diagnostics', { ...d, ...sinks?.counters() });
        else {
          process.stderr.write(
            `[pons cerebellum] ${d.mode}${d.estop_reason ? ` (${d.estop_reason})` : ''}: ${d.commands} commands, ${d.chunks_in} chunks, ${d.clamped} clamped, age ${d.ingest_age_ms.toFixed(1)} ms${live ? `, foxglove: ${live.clients} clients, ${live.dropped} dropped` : ''}\n`,
          );
        }
      }, 1000);
      if (flags.json) {
        emitJson('ready', {
          pid: process.pid,
          ...(sinks?.live ? { foxglove: sinks.live.url } : {}),
        });
      }
      const why = await runUntilStopped(
        flags.duration === undefined ? undefined : Number(flags.duration),
      );
      clearInterval(diagnostics);
      const stats = await node.stop(why);
      await sinks?.close();
      const summary = {
        why,
        ticks: stats.ticks,
        skipped: stats.skipped,
        ...node.snapshot(),
        ...sinks?.counters(),
      };
      if (flags.json) emitJson('summary', summary as unknown as Record<string, unknown>);
      else process.stderr.write(`[pons cerebellum] stopped (${why}) after ${stats.ticks} ticks\n`);
    });
}

import type { Command } from 'commander';
import { loadActionSpec, readFileBytes } from '../../contract/index.js';
import { nodeLog } from '../../link/index.js';
import { controlSetup, describeRobot } from '../../nodes/control-setup.js';
import { loadProfile } from '../../nodes/profile.js';
import { replayCommandsToRos, replayTokens } from '../../nodes/replay.js';
import { verifyReplay } from '../../nodes/replay-verify.js';
import { DEFAULT_PROFILE } from '../package-info.js';
import { emitJson } from '../run-until.js';

/** `--verify`: prints the comparison; the exit code says whether it passed. */
function verify(
  file: string,
  flags: { against?: string; commandsTopic?: string; tolerance?: string; json?: boolean },
): number {
  const profile = flags.against === undefined ? undefined : loadProfile(flags.against);
  const result = verifyReplay({
    bytes: readFileBytes(file),
    file,
    ...(flags.commandsTopic ? { commandsTopic: flags.commandsTopic } : {}),
    ...(profile
      ? {
          against: (recorded) => {
            const spec = loadActionSpec(profile.spec);
            return controlSetup(profile, spec, describeRobot(profile, spec), !recorded.initial);
          },
        }
      : {}),
  });
  const tolerance = flags.tolerance === undefined ? 0 : Number(flags.tolerance);
  const worst = Math.max(
    ...Object.values(result.max_deviation),
    ...Object.values(result.max_velocity_deviation ?? {}),
  );
  const passed =
    result.exact ||
    (tolerance > 0 && worst <= tolerance && result.unmatched === 0 && result.missing_inputs === 0);
  if (flags.json) emitJson('verify', { ...result, passed } as unknown as Record<string, unknown>);
  else {
    const what = `${result.commands} commands on ${result.commands_topic} over ${result.ticks} ticks (${result.skipped_ticks} skipped), ${result.inputs} inputs, ${result.setup} setup`;
    const deviations = Object.entries(result.max_deviation)
      .map(([joint, d]) => `${joint} ${d.toExponential(3)}`)
      .join(', ');
    process.stderr.write(
      result.exact
        ? `[pons replay] verified: ${what}: all reproduced exactly\n`
        : `[pons replay] ${passed ? 'within tolerance' : 'DIFFERENT'}: ${what}: ${result.identical} identical, ${result.unmatched} unmatched, ${result.missing_inputs} inputs missing; max |Δ| per joint: ${deviations}\n`,
    );
  }
  return passed ? 0 : 1;
}

export function registerReplay(program: Command): void {
  program
    .command('replay <file>')
    .description(
      'publish the action tokens of a rosbag2 MCAP recording on the link, as a brain would',
    )
    .option('--config <robot.yaml>', 'robot profile (spec and link endpoints)', DEFAULT_PROFILE)
    .option('--topic <topic>', 'the ActionTokens topic', '/pons/action_tokens')
    .option('--speed <x>', 'recorded timing × speed', '1')
    .option('--fast', 'as fast as the link takes them')
    .option(
      '--to-ros',
      'publish the recorded commands on ROS 2 instead (their topics, byte for byte)',
    )
    .option(
      '--verify',
      'run the recorded control thread again offline and compare its commands with the recorded ones',
    )
    .option(
      '--against <robot.yaml>',
      'with --verify: run the controller as this profile configures it, not as recorded',
    )
    .option('--commands-topic <topic>', 'with --verify: the recorded commands (found by type)')
    .option(
      '--tolerance <x>',
      'with --verify: accept deviations up to x (rad, m) instead of requiring bit-exact commands',
    )
    .option('--json', 'print the result as JSON')
    .action(
      async (
        file: string,
        flags: {
          config: string;
          topic: string;
          speed: string;
          fast?: boolean;
          toRos?: boolean;
          verify?: boolean;
          against?: string;
          commandsTopic?: string;
          tolerance?: string;
          json?: boolean;
        },
      ) => {
        if (flags.verify) {
          process.exitCode = verify(file, flags);
          return;
        }
        const speed = flags.fast ? Number.POSITIVE_INFINITY : Number(flags.speed);
        if (flags.toRos) {
          const result = await replayCommandsToRos({
            bytes: readFileBytes(file),
            file,
            speed,
            log: nodeLog('replay'),
          });
          if (flags.json) emitJson('summary', result as unknown as Record<string, unknown>);
          else process.stderr.write(`[pons replay] ${result.published} commands on ROS 2\n`);
          return;
        }
        const profile = loadProfile(flags.config);
        const result = await replayTokens({
          bytes: readFileBytes(file),
          file,
          topic: flags.topic,
          spec: loadActionSpec(profile.spec),
          link: { tokens: profile.link.tokens, state: profile.link.state },
          speed,
          log: nodeLog('replay'),
        });
        if (flags.json) emitJson('summary', result as unknown as Record<string, unknown>);
        else {
          process.stderr.write(
            `[pons replay] ${result.published} token packets in ${result.seconds.toFixed(2)} s` +
              `${result.refused_spec ? `, ${result.refused_spec} refused (another spec)` : ''}\n`,
          );
        }
      },
    );
}

import type { Command } from 'commander';
import { loadActionSpec, readFileBytes } from '../../contract/index.js';
import { nodeLog } from '../../link/index.js';
import { loadProfile } from '../../nodes/profile.js';
import { replayCommandsToRos, replayTokens } from '../../nodes/replay.js';
import { DEFAULT_PROFILE } from '../package-info.js';
import { emitJson } from '../run-until.js';

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
          json?: boolean;
        },
      ) => {
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

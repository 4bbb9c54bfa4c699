import type { Command } from 'commander';
import { InputError, loadActionSpec, readFileBytes } from '../../contract/index.js';
import { anythingRead, inspectRecording } from '../../nodes/inspect.js';
import { writeInspectPlots } from '../../nodes/inspect-plots.js';
import { loadProfile } from '../../nodes/profile.js';
import { inspectText } from '../inspect-text.js';
import { DEFAULT_PROFILE } from '../package-info.js';
import { emitJson } from '../run-until.js';

export function registerInspect(program: Command): void {
  program
    .command('inspect <file>')
    .description(
      'what a rosbag2 MCAP recording holds: per-topic rates and gaps, decisions, latencies, token bins, commands against state',
    )
    .option(
      '--config <robot.yaml>',
      'robot profile: its spec decodes the tokens, and packets of another spec are reported',
      DEFAULT_PROFILE,
    )
    .option(
      '--spec <file...>',
      "ActionSpec files to decode tokens with instead of the profile's (the first is the expected one)",
    )
    .option('--gap-factor <n>', 'a gap is a period longer than n × the median period', '3')
    .option('--plot <dir>', 'write an HTML report with SVG plots and their PNG copies to <dir>')
    .option('--json', 'print the report as one JSON object')
    .action(
      async (
        file: string,
        flags: {
          config: string;
          spec?: string[];
          gapFactor: string;
          plot?: string;
          json?: boolean;
        },
      ) => {
        const gapFactor = Number(flags.gapFactor);
        if (!(gapFactor > 0))
          throw new InputError(
            'pons inspect',
            '--gap-factor',
            `must be a positive number, got ${flags.gapFactor}`,
          );
        const specs = flags.spec
          ? flags.spec.map((f) => loadActionSpec(f))
          : [loadActionSpec(loadProfile(flags.config).spec)];
        const { report, series } = inspectRecording({
          file,
          bytes: readFileBytes(file),
          specs,
          gapFactor,
        });
        const plots =
          flags.plot === undefined
            ? undefined
            : await writeInspectPlots(report, series, flags.plot);
        if (flags.json) emitJson('inspect', { ...report, ...(plots ? { plots } : {}) });
        else {
          for (const line of inspectText(report)) console.log(line);
          if (plots) console.log(`\nreport: ${plots.html}`);
        }
        if (!anythingRead(report)) process.exitCode = 1;
      },
    );
}

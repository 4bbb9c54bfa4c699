import type { Command } from 'commander';
import { loadActionSpec, shortId, specId } from '../../contract/index.js';
import { writeEpisodeReport } from '../../nodes/episode-report.js';
import { type EpisodeRun, runEpisodes } from '../../nodes/episode-runner.js';
import { loadProfile } from '../../nodes/profile.js';
import { CLI_ENTRY, DEFAULT_PROFILE, TRAINED_BRAIN } from '../package-info.js';
import { printTable } from './sim.js';

/**
 * `pons demo`: closed-loop episodes in the embedded simulator, each with the simulator, a
 * brain and the cerebellum as three processes joined by ZeroMQ. First the scripted expert
 * as the brain (a policy that succeeds, executed faithfully through the tokenizer, link,
 * time alignment and safety filter), then the bundled brain on the CPU: planar-vla, tiny-vla
 * fine-tuned on the expert's recorded demonstrations (models/training/reproduce.sh), deciding
 * from the camera frame and the instruction alone.
 */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'closed-loop episodes in the embedded simulator: the expert, then the bundled brain',
    )
    .option('--episodes <n>', 'episodes per task of each brain', '2')
    .option('--report <dir>', 'where the HTML reports go', 'out/demo')
    .action(async (flags: { episodes: string; report: string }) => {
      const profile = loadProfile(DEFAULT_PROFILE);
      const spec = loadActionSpec(profile.spec);
      console.log(
        `pons demo: the planar arm (spec ${shortId(specId(spec))}) in the embedded simulator; ` +
          'simulator, brain and cerebellum as three processes on ZeroMQ',
      );
      const runs: [string, EpisodeRun][] = [];
      for (const [brain, episodes, name] of [
        ['expert', Number(flags.episodes), 'expert'],
        [TRAINED_BRAIN, Number(flags.episodes), 'planar-vla'],
      ] as const) {
        const run = await runEpisodes({
          cli: CLI_ENTRY,
          profile,
          brain,
          providers: ['cpu'],
          tasks: ['reach', 'push'],
          episodes,
          seed: 1000,
          progress: (m) => process.stderr.write(`[pons demo] ${name}: ${m}\n`),
        });
        runs.push([writeEpisodeReport(run, `${flags.report}/${name}`), run]);
      }
      console.log('');
      printTable(runs.flatMap(([, run]) => run.tasks));
      console.log('');
      for (const [report] of runs) console.log(`report: ${report}`);
      console.log(
        'planar-vla is tiny-vla fine-tuned on recorded expert demonstrations (models/planar-vla/README.md).',
      );
      console.log(
        'Success over 50 seeded episodes per task, the expert and planar-vla: see BENCHMARKS.md.',
      );
    });
}
